"""Parameter: a leaf tensor that a Module registers as learnable."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor, _coerce


class Parameter(Tensor):
    """A tensor that is a module's learnable weight: assigning it to a Module attribute registers
    it, so it appears in ``parameters()`` and ``state_dict()``. ``requires_grad`` is True by
    default.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            data = data.array
        elif not isinstance(data, np.ndarray):
            data = _coerce(data)
        super().__init__(data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
