"""The op registry: one ``OpSpec`` per public op, driving gradcheck and PyTorch parity.

Each op family registers its specs in ``tests/support/specs/<family>.py`` as a list ``SPECS``;
this module collects them all into ``OPS``. An ``OpSpec`` names the op, the neuronet call, the
equivalent torch call, and how to build sample inputs away from kinks (relu at 0, max ties,
clamp bounds). Every spec runs on the reference path and on each fast path
(``support/paths.py``): gradcheck (``tests/ops/test_gradcheck.py``), parity with torch
(``test_parity.py``) and fast == reference on the same inputs (``test_paths.py``).
``tests/test_api_coverage.py`` fails when a public function or Tensor method has no spec, or
when a spec does not call what it names.

Names: ``name`` and ``covers`` are public names of ``neuronet.functional`` (``"conv2d"``), or
Tensor forms written ``"Tensor.<attribute>"`` (``"Tensor.add_"``, ``"Tensor.__radd__"``,
``"Tensor.T"``); a name that is not in ``neuronet.functional`` is looked up on Tensor too
(``"T"``, ``"__getitem__"``, ``"getitem"``).

Gradcheck is element by element, in float64, always. ``gradcheck_inputs`` gives a smaller case
for that check when ``inputs`` is large; ``fast_gradcheck=True`` adds a check of the large
case along one random direction (which alone would miss a wrong element; see
``tests/ops/test_gradcheck.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class OpSpec:
    name: str  # the public name(s) it covers, e.g. "add" (see ``covers``)
    fn: Callable  # neuronet call on neuronet tensors / other args
    torch_fn: Callable | None  # the same call in torch, on torch tensors
    inputs: Callable  # inputs(rng, dtype) -> list of np.ndarray (or plain args)
    differentiable: bool = True
    grad_inputs_idx: tuple | None = None  # which inputs get requires_grad (default: float arrays)
    fast_gradcheck: bool = False  # also a random-direction check of the (big) ``inputs``
    rtol32: float = 1e-5
    atol32: float = 1e-6
    grad_rtol32: float | None = None
    grad_atol32: float | None = None
    covers: tuple = field(default_factory=tuple)  # extra public names this spec exercises
    gradcheck_inputs: Callable | None = None  # a small case for the element-wise gradcheck

    def make_inputs(self, rng: np.random.Generator, dtype) -> list:
        return self.inputs(rng, np.dtype(dtype))

    def make_gradcheck_inputs(self, rng: np.random.Generator) -> list:
        make = self.gradcheck_inputs or self.inputs
        return make(rng, np.dtype(np.float64))

    def grad_inputs(self, raw: list) -> tuple:
        if self.grad_inputs_idx is not None:
            return self.grad_inputs_idx
        return tuple(
            i for i, a in enumerate(raw) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
        )

    @property
    def names(self) -> tuple:
        return (self.name,) + tuple(self.covers)


def _collect() -> list:
    from support import specs

    ops = []
    for mod in pkgutil.iter_modules(specs.__path__):
        module = importlib.import_module(f"support.specs.{mod.name}")
        ops.extend(getattr(module, "SPECS", []))
    return ops


_OPS = None


def __getattr__(name):
    # Collected on first use, not at import: a spec module that imports OpSpec from here must
    # never trigger the collection while it is itself half-loaded (its SPECS would be lost).
    global _OPS
    if name == "OPS":
        if _OPS is None:
            _OPS = _collect()
        return _OPS
    raise AttributeError(name)
