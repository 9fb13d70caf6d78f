"""Arithmetic: add, sub, mul, div, neg, pow, with NumPy broadcasting undone in backward.

A binary op broadcasts its inputs to a common shape; the backward of broadcasting is a sum over
the broadcast axes (``unbroadcast``). The result's dtype is PyTorch's (``_promotion.py``;
docs/semantics.md, "Dtype promotion"): a Python number never upcasts a float32 tensor
(``x * 2.0`` stays float32), ``int64 tensor + 2.5`` and ``int / int`` are float32. Comparisons
(``== != < <= > >=``) return bool tensors and have no gradient.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._promotion import check_bool_sub, division_type, is_bool, result_type
from neuronet.ops._util import broadcast_error, check_operand, operand, unbroadcast
from neuronet.ops.shape import cast


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
    """y = a * b;  dL/da = dL/dy * b,  dL/db = dL/dy * a.

    Saves: b if a needs a gradient, a if b does (so changing the other in place is fine).
    """

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)
        ctx.shapes = (a.shape, b.shape)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad_out * b, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out * a, b_shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy * a / b**2.

    Saves: b, and a if b needs a gradient.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = (a.shape, b.shape)
        return a / b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        a_shape, b_shape = ctx.shapes
        grad_a = unbroadcast(grad_out / b, a_shape) if ctx.needs_input_grad[0] else None
        grad_b = None
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(-grad_out * a / (b * b), b_shape)
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
    """y = a ** b;  dL/da = dL/dy * b * a**(b-1),  dL/db = dL/dy * y * log(a).

    For the exponent's gradient, log(a) is taken only where a > 0 (elsewhere the term is 0), as
    PyTorch does for a = 0.

    Saves: a, b, and y if b needs a gradient.
    """

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
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


def _promoted(value, dtype) -> Tensor:
    if isinstance(value, Tensor):
        return value if value.array.dtype == dtype else cast(value, dtype)
    return Tensor(np.asarray(value, dtype=dtype))


def _operands(a, b, division: bool = False):
    """``a`` and ``b`` as tensors of PyTorch's result dtype (``_promotion.py``)."""
    if isinstance(a, Tensor):
        dtype = a.array.dtype
        if isinstance(b, Tensor) and b.array.dtype == dtype and (dtype.kind == "f" or not division):
            return a, b  # the common case: no promotion
        if dtype.kind == "f" and isinstance(b, (int, float)):  # a number never upcasts a float
            return a, Tensor(np.asarray(b, dtype=dtype))
    elif isinstance(b, Tensor) and b.array.dtype.kind == "f" and isinstance(a, (int, float)):
        return Tensor(np.asarray(a, dtype=b.array.dtype)), b
    dtype = division_type(a, b) if division else result_type(a, b)
    return _promoted(a, dtype), _promoted(b, dtype)


def _binary(fn, name: str, a, b) -> Tensor:
    if not (  # the common case, two float tensors of one dtype, needs no promotion
        type(a) is Tensor
        and type(b) is Tensor
        and a.array.dtype == b.array.dtype
        and a.array.dtype.kind == "f"
    ):
        check_operand(a, name)
        check_operand(b, name)
        a, b = _operands(a, b, division=fn is Div)
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
    check_bool_sub(input, other)
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return _binary(Sub, "sub", input, other)


def mul(input, other) -> Tensor:
    """input * other, element-wise with broadcasting."""
    return _binary(Mul, "mul", input, other)


def div(input, other, *, rounding_mode=None) -> Tensor:
    """input / other, element-wise with broadcasting: true division, or rounded toward zero
    (``rounding_mode='trunc'``) or toward -inf (``'floor'``, Python's ``//``; see
    ``ops/division.py``)."""
    if rounding_mode is not None:
        from neuronet.ops.division import div_rounded

        return div_rounded(input, other, rounding_mode)
    return _binary(Div, "div", input, other)


def neg(input: Tensor) -> Tensor:
    """-input."""
    if input.dtype.kind == "b":
        raise RuntimeError(
            "neg: negation, the `-` operator, on a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or logical_not() operator instead."
        )
    return Neg.apply(input)


def pow(input, exponent) -> Tensor:
    """input ** exponent, element-wise; either may be a tensor or a number."""
    if is_bool(input) and is_bool(exponent):  # the result is bool
        if isinstance(exponent, Tensor):
            raise NotImplementedError(
                "pow: \"pow\" not implemented for 'Bool' (a bool tensor exponent with a bool "
                "base); convert one of them first (x.int() or x.float())"
            )
        return Tensor(np.power(input.array, bool(exponent)).astype(bool))  # NumPy: int8
    return _binary(Pow, "pow", input, exponent)


def _compare(ufunc, name):
    def compare(input, other) -> Tensor:
        a = input if isinstance(input, Tensor) else operand(input, other, name)
        b = other if isinstance(other, Tensor) else operand(other, a, name)
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
