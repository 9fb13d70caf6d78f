"""Piecewise activation layers: Hardswish, Hardsigmoid, Hardshrink, Softshrink, Tanhshrink,
Threshold, and the ReLUs with a learned or random slope, PReLU and RReLU.

Each calls its op in ``neuronet.ops`` (formulas there). Only PReLU has a parameter:
``weight`` (num_parameters,), initialised to ``init`` (0.25), as PyTorch.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.nn import init as initializers
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import hard_activations as H
from neuronet.ops import parametric_relu as P
from neuronet.ops import shrinkage as S


class Hardswish(Module):
    """y = x * relu6(x + 3) / 6 (MobileNetV3). Shape: any."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return H.hardswish(input)


class Hardsigmoid(Module):
    """y = relu6(x + 3) / 6. Shape: any."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return H.hardsigmoid(input)


class Hardshrink(Module):
    """y = x where |x| > lambd, else 0. Shape: any."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return S.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """y = x - lambd (x > lambd), x + lambd (x < -lambd), else 0. Shape: any."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return S.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Tanhshrink(Module):
    """y = x - tanh(x). Shape: any."""

    def forward(self, input: Tensor) -> Tensor:
        return S.tanhshrink(input)


class Threshold(Module):
    """y = x where x > threshold, else value. Shape: any."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return S.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class PReLU(Module):
    """y = x if x > 0 else weight * x, with one learned slope or one per channel (dim 1).

    Args:
        num_parameters: 1 (shared) or the number of channels.
        init: the initial slope (default 0.25).

    Shape: any (channels in dim 1 when num_parameters > 1).

    Attributes:
        weight: (num_parameters,), initialised to ``init``.
    """

    weight: Parameter

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        dtype = backend.as_dtype(dtype) or backend.DEFAULT_DTYPE
        self.weight = Parameter(np.empty(num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = init."""
        initializers.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return P.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: in training each negative element gets a slope drawn from
    U(lower, upper); in evaluation the slope is (lower + upper) / 2 (Xu et al., 2015).
    Shape: any."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return P.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


__all__ = [
    "Hardswish",
    "Hardsigmoid",
    "Hardshrink",
    "Softshrink",
    "Tanhshrink",
    "Threshold",
    "PReLU",
    "RReLU",
]
