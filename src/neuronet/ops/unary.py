"""Element-wise math: exp, log, log1p, sqrt, rsqrt, sin, cos, abs, square, erf, sign, clamp
(alias clip), maximum and minimum.

Each op keeps its input's dtype: float32 stays float32. Integer and bool inputs to the
transcendental ops (exp, log, sqrt, sin, erf, ...) are promoted to float32 first, as PyTorch does;
abs, square, sign and clamp keep integer dtypes.

Conventions at kinks (all as PyTorch):
- abs'(0) = 0 (the sign function); sign's gradient is 0 everywhere.
- clamp passes the gradient where min <= x <= max (both bounds inclusive).
- maximum/minimum give each input half the gradient where the two are equal.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._erf import ONE_OVER_SQRT_PI, erf_array
from neuronet.ops._promote import promote
from neuronet.ops._util import broadcast_error, operand, unbroadcast


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{op}: expected a Tensor as input, got {type(input).__name__}; "
            "wrap the data with neuronet.tensor(...)"
        )
    return input


def _floating(input, op: str) -> Tensor:
    """``input`` as a floating tensor (integer and bool tensors become float32, as torch)."""
    if not isinstance(input, Tensor):
        _check(input, op)
    if input.array.dtype.kind != "f":
        return Tensor(input.array.astype(np.float32))
    return input


# ---- transcendental ops ------------------------------------------------------------------
class Exp(Function):
    """y = exp(x);  dL/dx = dL/dy * y.  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * y,)


class Log(Function):
    """y = ln(x);  dL/dx = dL/dy / x.  Saves: x.  (x < 0 gives NaN, x = 0 gives -inf.)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / x,)


class Log1p(Function):
    """y = ln(1 + x), accurate for small x;  dL/dx = dL/dy / (1 + x).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / (x + 1),)


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = dL/dy / (2 y).  Saves: y.  (At x = 0 the gradient is inf.)"""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out / (2 * y),)


class Rsqrt(Function):
    """y = 1 / sqrt(x);  dL/dx = -dL/dy * y**3 / 2.  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = 1 / np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (-0.5 * grad_out * (y * y * y),)


class Sin(Function):
    """y = sin(x);  dL/dx = dL/dy * cos(x).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * np.cos(x),)


class Cos(Function):
    """y = cos(x);  dL/dx = -dL/dy * sin(x).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (-grad_out * np.sin(x),)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt;
    dL/dx = dL/dy * 2/sqrt(pi) * exp(-x^2).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * (2 * ONE_OVER_SQRT_PI) * np.exp(-(x * x)),)


# ---- piecewise ops -----------------------------------------------------------------------
class Abs(Function):
    """y = |x|;  dL/dx = dL/dy * sign(x), with sign(0) = 0 (so abs'(0) = 0).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * np.sign(x),)


class Square(Function):
    """y = x**2;  dL/dx = dL/dy * 2 x.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * 2 * x,)


class Sign(Function):
    """y = sign(x) in {-1, 0, 1};  dL/dx = 0 (piecewise constant; PyTorch returns 0 too, so
    backward through sign works and contributes nothing).  Saves: nothing."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, grad_out):
        return (np.zeros_like(grad_out),)


class Clamp(Function):
    """y = min(max(x, lo), hi) with number bounds (either may be None);
    dL/dx = dL/dy where lo <= x <= hi (bounds inclusive, as PyTorch), else 0.  Saves: x.

    If lo > hi every element becomes hi (and gets no gradient), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        y = x
        if lo is not None:
            y = np.maximum(y, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        lo, hi = ctx.bounds
        if lo is None:
            inside = x <= hi
        elif hi is None:
            inside = x >= lo
        else:
            inside = (x >= lo) & (x <= hi)
        return (np.where(inside, grad_out, 0),)


class ClampTensor(Function):
    """y = min(max(x, lo), hi) with tensor bounds (broadcasting; either may be None);
    dL/dx = dL/dy where lo <= x <= hi;  dL/dlo = dL/dy where x < lo (and lo < hi);
    dL/dhi = dL/dy where x > hi (or hi < lo).  Saves: x, lo, hi.  (PyTorch's rules.)
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        y = x
        if lo is not None:
            y = np.maximum(y, lo)
        if hi is not None:
            y = np.minimum(y, hi)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, lo, hi = ctx.saved
        grad_x = grad_lo = grad_hi = None
        if ctx.needs_input_grad[0]:
            inside = np.ones(grad_out.shape, dtype=bool)
            if lo is not None:
                inside = inside & (x >= lo)
            if hi is not None:
                inside = inside & (x <= hi)
            grad_x = unbroadcast(np.where(inside, grad_out, 0), x.shape)
        if lo is not None and ctx.needs_input_grad[1]:
            below = x < lo
            if hi is not None:
                below = below & (lo < hi)
            grad_lo = unbroadcast(np.where(below, grad_out, 0), lo.shape)
        if hi is not None and ctx.needs_input_grad[2]:
            above = x > hi
            if lo is not None:
                above = above | (hi < lo)
            grad_hi = unbroadcast(np.where(above, grad_out, 0), hi.shape)
        return grad_x, grad_lo, grad_hi


class Maximum(Function):
    """y = max(a, b) element-wise (broadcasting);  dL/da = dL/dy where a > b, dL/dy / 2 where
    a == b, 0 where a < b;  dL/db likewise.  NaN propagates.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        shared = np.where(a == b, grad_out * 0.5, grad_out)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(np.where(a < b, 0, shared), a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(np.where(a > b, 0, shared), b.shape)
        return grad_a, grad_b


class Minimum(Function):
    """y = min(a, b) element-wise (broadcasting);  dL/da = dL/dy where a < b, dL/dy / 2 where
    a == b, 0 where a > b;  dL/db likewise.  NaN propagates.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        shared = np.where(a == b, grad_out * 0.5, grad_out)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(np.where(a > b, 0, shared), a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(np.where(a < b, 0, shared), b.shape)
        return grad_a, grad_b


# ---- public functions --------------------------------------------------------------------
def exp(input: Tensor) -> Tensor:
    """e**input, element-wise."""
    return Exp.apply(_floating(input, "exp"))


def log(input: Tensor) -> Tensor:
    """Natural logarithm, element-wise (log(0) = -inf, log(x < 0) = nan, as torch)."""
    return Log.apply(_floating(input, "log"))


def log1p(input: Tensor) -> Tensor:
    """log(1 + input), accurate for small inputs."""
    return Log1p.apply(_floating(input, "log1p"))


def sqrt(input: Tensor) -> Tensor:
    """Square root, element-wise."""
    return Sqrt.apply(_floating(input, "sqrt"))


def rsqrt(input: Tensor) -> Tensor:
    """1 / sqrt(input), element-wise."""
    return Rsqrt.apply(_floating(input, "rsqrt"))


def sin(input: Tensor) -> Tensor:
    """Sine, element-wise (radians)."""
    return Sin.apply(_floating(input, "sin"))


def cos(input: Tensor) -> Tensor:
    """Cosine, element-wise (radians)."""
    return Cos.apply(_floating(input, "cos"))


def erf(input: Tensor) -> Tensor:
    """The Gauss error function, element-wise (Cody's rational approximation)."""
    return Erf.apply(_floating(input, "erf"))


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """|input|, element-wise; the gradient at 0 is 0."""
    return Abs.apply(_check(input, "abs"))


def square(input: Tensor) -> Tensor:
    """input**2, element-wise."""
    return Square.apply(_check(input, "square"))


def sign(input: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (0 for 0); its gradient is 0."""
    return Sign.apply(_check(input, "sign"))


def _bound(value, x: np.ndarray, which: str):
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (int, float)):
        raise TypeError(
            f"clamp: {which} must be a number, a Tensor or None, got {type(value).__name__}"
        )
    return value


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Limit each element to [min, max]; either bound may be None, a number or a tensor.

    The gradient passes where min <= x <= max (bounds included, as PyTorch). If min > max, every
    element becomes max.
    """
    _check(input, "clamp")
    lo = _bound(min, input.array, "min")
    hi = _bound(max, input.array, "max")
    if lo is None and hi is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if not isinstance(lo, Tensor) and not isinstance(hi, Tensor):
        if input.array.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float)):
            input = _floating(input, "clamp")
        return Clamp.apply(input, lo=lo, hi=hi)
    lo = None if lo is None else operand(lo, input)
    hi = None if hi is None else operand(hi, input)
    input, lo, hi = promote(input, lo, hi, op="clamp")  # torch's promotion (int bounds, ...)
    try:
        return ClampTensor.apply(input, lo, hi)
    except ValueError as err:
        if "broadcast" in str(err):
            raise broadcast_error("clamp", input, lo if lo is not None else hi) from None
        raise


clip = clamp


def _pairwise(fn, name: str, input, other) -> Tensor:
    _check(input, name)
    other = operand(other, input)
    try:
        return fn.apply(input, other)
    except ValueError as err:
        if "broadcast" in str(err):
            raise broadcast_error(name, input, other) from None
        raise


def maximum(input: Tensor, other) -> Tensor:
    """Element-wise maximum with broadcasting; equal elements share the gradient half-half."""
    return _pairwise(Maximum, "maximum", input, other)


def minimum(input: Tensor, other) -> Tensor:
    """Element-wise minimum with broadcasting; equal elements share the gradient half-half."""
    return _pairwise(Minimum, "minimum", input, other)


__all__ = [
    "exp",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "sin",
    "cos",
    "erf",
    "abs",
    "square",
    "sign",
    "clamp",
    "clip",
    "maximum",
    "minimum",
]
