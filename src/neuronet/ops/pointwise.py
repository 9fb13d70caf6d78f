"""More element-wise ops: lerp, hypot, copysign, heaviside, nan_to_num, clamp_min, clamp_max,
addcmul, addcdiv.

Binary ops broadcast and promote their operands as PyTorch does (``ops/_promote.py``).
Conventions (PyTorch's):
- ``lerp`` computes start + w (end - start) for |w| < 0.5 and end - (end - start)(1 - w)
  otherwise, so that w = 1 gives exactly ``end``.
- ``copysign(a, b)``'s gradient w.r.t. a is copysign(1, b) * sign(a) (0 at a = 0); b gets 0.
- ``heaviside`` has no gradient; ``nan_to_num`` passes the gradient only where x was finite.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import broadcastable, pair, promote
from neuronet.ops._util import unbroadcast
from neuronet.ops.arithmetic import add, div, mul
from neuronet.ops.unary import _check, clamp


class Lerp(Function):
    """y = start + w * (end - start)  (written end - (end - start)(1 - w) for |w| >= 0.5);
    dL/dstart = dL/dy * (1 - w),  dL/dend = dL/dy * w,  dL/dw = dL/dy * (end - start).
    Saves: start, end, w."""

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        return np.where(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, grad_out):
        start, end, weight = ctx.saved
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = unbroadcast(grad_out * (1 - weight), start.shape)
        if ctx.needs_input_grad[1]:
            grads[1] = unbroadcast(grad_out * weight, end.shape)
        if ctx.needs_input_grad[2]:
            grads[2] = unbroadcast(grad_out * (end - start), weight.shape)
        return tuple(grads)


class Hypot(Function):
    """y = sqrt(a**2 + b**2) (without overflow);  dL/da = dL/dy * a / y,  dL/db = dL/dy * b / y.
    Saves: a, b, y."""

    @staticmethod
    def forward(ctx, a, b):
        y = np.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        a, b, y = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = grad_out / y
        grad_a = unbroadcast(scale * a, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(scale * b, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class CopySign(Function):
    """y = |a| with the sign of b (sign bit included: -0.0 counts as negative);
    dL/da = dL/dy * y / a (0 where a = 0),  dL/db = 0.  Saves: a, y."""

    @staticmethod
    def forward(ctx, a, b):
        y = np.copysign(a, b)
        ctx.save_for_backward(a, y)
        ctx.b_shape = b.shape
        return y

    @staticmethod
    def backward(ctx, grad_out):
        a, y = ctx.saved
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            ratio = np.where(a == 0, 0, y / np.where(a == 0, 1, a))
            grad_a = unbroadcast(grad_out * ratio, a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = np.zeros(ctx.b_shape, dtype=grad_out.dtype)
        return grad_a, grad_b


class NanToNum(Function):
    """y = x with NaN, +inf and -inf replaced by numbers;
    dL/dx = dL/dy where x is finite, 0 where it was replaced.  Saves: the finite mask."""

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        ctx.save_for_backward(np.isfinite(x))
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad_out):
        (finite,) = ctx.saved
        return (np.where(finite, grad_out, 0),)


def lerp(input, end, weight) -> Tensor:
    """Linear interpolation input + weight * (end - input); weight is a number or a tensor.

    Example:
        >>> import neuronet as nt
        >>> nt.lerp(nt.tensor([0.0, 10.0]), nt.tensor([10.0, 20.0]), 0.25).tolist()
        [2.5, 12.5]
    """
    _check(input, "lerp")
    start, stop, w = promote(input, end, weight, op="lerp")
    broadcastable("lerp", start, stop, w)
    return Lerp.apply(start, stop, w)


def hypot(input, other) -> Tensor:
    """sqrt(input**2 + other**2), element-wise with broadcasting."""
    a, b = pair("hypot", input, other, floating=True)
    return Hypot.apply(a, b)


def copysign(input, other) -> Tensor:
    """|input| with the sign of ``other``, element-wise (float result)."""
    a, b = pair("copysign", input, other, floating=True)
    return CopySign.apply(a, b)


def heaviside(input: Tensor, values) -> Tensor:
    """The step function: 0 where input < 0, 1 where input > 0, ``values`` where input == 0
    (no gradient)."""
    a, b = pair("heaviside", input, values)
    return Tensor(np.asarray(np.heaviside(a.array, b.array)).astype(a.dtype))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """NaN -> ``nan``; +inf/-inf -> ``posinf``/``neginf`` (default: the dtype's largest and
    smallest finite values)."""
    if _check(input, "nan_to_num").array.dtype.kind != "f":
        return input
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    """clamp(input, max=max)."""
    return clamp(input, max=max)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2 (composition; exact gradients)."""
    product = mul(tensor1, tensor2)
    return add(input, mul(product, value) if value != 1 else product)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2 (composition; exact gradients)."""
    ratio = div(tensor1, tensor2)
    return add(input, mul(ratio, value) if value != 1 else ratio)


__all__ = [
    "lerp",
    "hypot",
    "copysign",
    "heaviside",
    "nan_to_num",
    "clamp_min",
    "clamp_max",
    "addcmul",
    "addcdiv",
]
