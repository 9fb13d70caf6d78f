"""Rounding: floor, ceil, trunc, round (with ``decimals``), frac.

floor, ceil, trunc and round are step functions: their derivative is 0 wherever it exists, and
PyTorch returns 0 everywhere (also at the jumps), so does neuronet. frac(x) = x - trunc(x) has
derivative 1. Integer and bool inputs come back unchanged (a copy), as in PyTorch.

``round`` rounds half to even (banker's rounding: round(0.5) = 0, round(1.5) = 2), as PyTorch and
NumPy do; with ``decimals=d`` it computes nearbyint(x * 10**d) / 10**d, and for d < 0
nearbyint(x / 10**-d) * 10**-d (PyTorch's formula, which NumPy's ``round`` does not follow for
negative d).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.shape import clone


def _round(x: np.ndarray, decimals: int) -> np.ndarray:
    if decimals == 0:
        return np.rint(x)
    scale = np.asarray(10.0 ** abs(decimals), dtype=x.dtype)
    if decimals > 0:
        return np.rint(x * scale) / scale
    return np.rint(x / scale) * scale


_STEPS = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}


class Step(Function):
    """y = floor(x), ceil(x), trunc(x) or round(x, decimals) (a step function);
    dL/dx = 0 (the derivative wherever it exists; PyTorch also returns 0 at the jumps).
    Saves: nothing."""

    @staticmethod
    def forward(ctx, x, kind="floor", decimals=0):
        if kind == "round":
            return _round(x, decimals)
        return _STEPS[kind](x)

    @staticmethod
    def backward(ctx, grad_out):
        return (np.zeros_like(grad_out),)


class Frac(Function):
    """y = x - trunc(x) (the fractional part, with the sign of x);  dL/dx = dL/dy.
    Saves: nothing."""

    @staticmethod
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, grad_out):
        return (grad_out,)


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{op}: expected a Tensor, got {type(input).__name__}; wrap the data with "
            "neuronet.tensor(...)"
        )
    return input


def _step(input, kind: str, decimals: int = 0) -> Tensor:
    if _check(input, kind).array.dtype.kind != "f":
        return clone(input)  # integers are already whole numbers
    return Step.apply(input, kind=kind, decimals=decimals)


def floor(input: Tensor) -> Tensor:
    """The largest whole number <= each element (gradient 0).

    Example:
        >>> import neuronet as nt
        >>> nt.floor(nt.tensor([-1.5, 0.5, 2.0])).tolist()
        [-2.0, 0.0, 2.0]
    """
    return _step(input, "floor")


def ceil(input: Tensor) -> Tensor:
    """The smallest whole number >= each element (gradient 0)."""
    return _step(input, "ceil")


def trunc(input: Tensor) -> Tensor:
    """Each element rounded toward zero (gradient 0)."""
    return _step(input, "trunc")


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, to ``decimals`` places (negative: to tens, hundreds, ...).

    Example:
        >>> import neuronet as nt
        >>> nt.round(nt.tensor([0.5, 1.5, 2.5, 1.2345]), decimals=0).tolist()
        [0.0, 2.0, 2.0, 1.0]
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    return _step(input, "round", int(decimals))


def frac(input: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with the sign of x (gradient 1)."""
    if _check(input, "frac").array.dtype.kind != "f":
        raise TypeError(f"frac: expected a floating-point tensor, got dtype {input.dtype}")
    return Frac.apply(input)


__all__ = ["floor", "ceil", "trunc", "round", "frac"]
