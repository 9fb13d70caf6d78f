"""Division with rounding: floor_divide (``//``), remainder (``%``), fmod, true_divide, and
``div(..., rounding_mode='trunc'|'floor')``.

Sign rules (PyTorch's, which are Python's for ``//`` and ``%``):
- floor division rounds the quotient toward -inf:  -7 // 2 = -4,  7 // -2 = -4;
- ``remainder`` (``%``) takes the sign of the divisor:  -7 % 2 = 1,  7 % -2 = -1;
  a == (a // b) * b + a % b always holds;
- ``fmod`` is C's fmod: the sign of the dividend:  fmod(-7, 2) = -1;
  a == trunc(a / b) * b + fmod(a, b);
- trunc division rounds toward zero: div(-7, 2, rounding_mode='trunc') = -3.
Integer division by zero raises ZeroDivisionError (as PyTorch); float division by zero gives
inf or NaN. For floats, floor division follows PyTorch's (and CPython's) exact algorithm:
q = (a - fmod(a, b)) / b, adjusted down by one when fmod's sign differs from b's, then floored,
so that ``//`` and ``%`` agree even where a / b rounds.

Gradients: the rounded quotients are step functions (dL/da = dL/db = 0; PyTorch's own
``floor_divide`` has no backward at all and raises, neuronet returns the zeros). For
r = remainder(a, b) = a - floor(a / b) * b:  dL/da = dL/dr,  dL/db = -dL/dr * floor(a / b);
for fmod, trunc in place of floor (PyTorch's formulas).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import promote
from neuronet.ops._util import broadcast_error, unbroadcast


def _floor_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floor(a / b) as PyTorch computes it (NumPy's floor_divide uses the same algorithm)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def _trunc_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iub":
        q = np.floor_divide(a, b)
        return q + ((q < 0) & (q * b != a))  # floor -> toward zero for negative quotients
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.trunc(a / b)


class RoundedDiv(Function):
    """q = floor(a / b) (mode 'floor') or trunc(a / b) (mode 'trunc');
    dL/da = 0,  dL/db = 0 (q is piecewise constant).  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        ctx.shapes = (a.shape, b.shape)
        return _floor_div(a, b) if mode == "floor" else _trunc_div(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a_shape, b_shape = ctx.shapes
        grad_a = np.zeros(a_shape, grad_out.dtype) if ctx.needs_input_grad[0] else None
        grad_b = np.zeros(b_shape, grad_out.dtype) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Remainder(Function):
    """r = a - q * b with q = floor(a / b) ('remainder', sign of b) or q = trunc(a / b)
    ('fmod', sign of a);  dL/da = dL/dr,  dL/db = -dL/dr * q.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b) if mode == "floor" else np.fmod(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        grad_a = unbroadcast(grad_out, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            q = _floor_div(a, b) if ctx.mode == "floor" else _trunc_div(a, b)
            grad_b = unbroadcast(-grad_out * q, b.shape)
        return grad_a, grad_b


def _operands(op: str, input, other) -> tuple:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{op}: expected at least one Tensor, got {type(input).__name__} and "
            f"{type(other).__name__}"
        )
    a, b = promote(input, other, op=op)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error(op, a, b) from None
    if a.array.dtype.kind in "iub" and not np.all(b.array):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor {tuple(b.shape)})")
    return a, b


def div_rounded(input, other, rounding_mode: str) -> Tensor:
    """``div(input, other, rounding_mode=...)`` for 'trunc' and 'floor' (see ``div``)."""
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"{rounding_mode!r}"
        )
    a, b = _operands("div", input, other)
    return RoundedDiv.apply(a, b, mode=rounding_mode)


def floor_divide(input, other) -> Tensor:
    """floor(input / other), element-wise with broadcasting: Python's ``//`` (rounds toward -inf).

    Example:
        >>> import neuronet as nt
        >>> nt.floor_divide(nt.tensor([7, -7]), 2).tolist()
        [3, -4]
    """
    a, b = _operands("floor_divide", input, other)
    return RoundedDiv.apply(a, b, mode="floor")


def remainder(input, other) -> Tensor:
    """input - floor(input / other) * other: Python's ``%`` (the sign of ``other``).

    Example:
        >>> import neuronet as nt
        >>> nt.remainder(nt.tensor([7, -7]), 3).tolist()
        [1, 2]
    """
    a, b = _operands("remainder", input, other)
    return Remainder.apply(a, b, mode="floor")


def fmod(input, other) -> Tensor:
    """C's fmod: input - trunc(input / other) * other (the sign of ``input``)."""
    a, b = _operands("fmod", input, other)
    return Remainder.apply(a, b, mode="trunc")


def true_divide(input, other) -> Tensor:
    """input / other (true division); the same as ``div`` without a rounding mode."""
    from neuronet.ops.arithmetic import div

    return div(input, other)


__all__ = ["floor_divide", "remainder", "fmod", "true_divide"]
