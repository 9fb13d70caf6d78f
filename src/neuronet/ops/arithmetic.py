"""Arithmetic: add, sub, mul, div, neg, pow, with NumPy broadcasting undone in backward.

A binary op broadcasts its inputs to a common shape; the backward of broadcasting is a sum over
the broadcast axes (``unbroadcast``). Python scalars take the tensor's dtype, so ``x * 2.0`` stays
float32 (SEMANTICS #23). Comparisons (``== != < <= > >=``) return bool tensors and have no
gradient.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import broadcast_error, operand, unbroadcast


class Add(Function):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy (each summed over broadcast axes)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad_out):
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad_out, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Sub(Function):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad_out):
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad_out, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(-grad_out, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Mul(Function):
    """y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        grad_a = unbroadcast(grad_out * b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out * a, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b**2.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        grad_a = unbroadcast(grad_out / b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(-grad_out * a / (b * b), b.shape)
        return grad_a, grad_b


class Neg(Function):
    """y = -x;  dL/dx = -dL/dy."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_out):
        return (-grad_out,)


class Pow(Function):
    """y = a ** b;  dL/da = dL/dy * b * a**(b-1),  dL/db = dL/dy * y * log(a).  Saves: a, b, y.

    For the exponent's gradient, log(a) is taken only where a > 0 (elsewhere the term is 0), as
    PyTorch does for a = 0.
    """

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        a, b, y = ctx.saved
        grad_a = None
        grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(grad_out * b * a ** (b - 1), a.shape)
        if ctx.needs_input_grad[1]:
            safe_log = np.log(np.where(a > 0, a, 1))
            grad_b = unbroadcast(grad_out * y * safe_log, b.shape)
        return grad_a, grad_b


def _binary(fn, name: str, a, b) -> Tensor:
    if not isinstance(a, Tensor):
        a = operand(a, b)
    if not isinstance(b, Tensor):
        b = operand(b, a)
    try:
        return fn.apply(a, b)
    except ValueError as err:
        if "broadcast" in str(err):
            raise broadcast_error(name, a, b) from None
        raise


def add(input, other, alpha=1) -> Tensor:
    """input + alpha * other, element-wise with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary(Add, "add", input, other)


def sub(input, other, alpha=1) -> Tensor:
    """input - alpha * other, element-wise with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary(Sub, "sub", input, other)


def mul(input, other) -> Tensor:
    """input * other, element-wise with broadcasting."""
    return _binary(Mul, "mul", input, other)


def div(input, other) -> Tensor:
    """input / other (true division), element-wise with broadcasting."""
    return _binary(Div, "div", input, other)


def neg(input: Tensor) -> Tensor:
    """-input."""
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:
    """input ** exponent, element-wise; either may be a tensor or a number."""
    return _binary(Pow, "pow", input, exponent)


def _compare(ufunc, name):
    def compare(input, other) -> Tensor:
        a = input if isinstance(input, Tensor) else operand(input, other)
        b = other if isinstance(other, Tensor) else operand(other, a)
        try:
            return Tensor(ufunc(a.array, b.array))
        except ValueError:
            raise broadcast_error(name, a, b) from None

    compare.__name__ = name
    compare.__doc__ = f"Element-wise ``{name}`` comparison; returns a bool tensor (no gradient)."
    return compare


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")

__all__ = ["add", "sub", "mul", "div", "neg", "pow", "eq", "ne", "lt", "le", "gt", "ge"]
