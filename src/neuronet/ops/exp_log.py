"""Exponentials and logarithms beyond exp/log/log1p: log2, log10, exp2, expm1, reciprocal,
logit, xlogy, logaddexp, logaddexp2.

Float inputs keep their dtype; integer and bool inputs are computed in float32, as PyTorch.
Conventions (PyTorch's):
- ``xlogy(x, y) = x * log(y)`` is 0 where x == 0, even for y = 0 or y = NaN... except that a NaN
  y gives NaN; its x-gradient is log(y), set to 0 where x == 0 and y <= 0.
- ``logit(x, eps)`` clamps x to [eps, 1 - eps] first; the gradient is 0 outside that interval
  (and NaN outside [0, 1] without eps).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import pair
from neuronet.ops._util import unbroadcast
from neuronet.ops.unary import _floating

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class Log2(Function):
    """y = log2(x);  dL/dx = dL/dy / (x ln 2).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / (x * x.dtype.type(LN2)),)


class Log10(Function):
    """y = log10(x);  dL/dx = dL/dy / (x ln 10).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / (x * x.dtype.type(LN10)),)


class Exp2(Function):
    """y = 2**x;  dL/dx = dL/dy * y * ln 2.  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * y * y.dtype.type(LN2),)


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x;  dL/dx = dL/dy * (y + 1).  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * (y + 1),)


class Reciprocal(Function):
    """y = 1 / x;  dL/dx = -dL/dy * y**2.  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            y = np.reciprocal(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (-grad_out * y * y,)


class Logit(Function):
    """y = log(z / (1 - z)) with z = clamp(x, eps, 1 - eps) (no clamp when eps is None);
    dL/dx = dL/dy / (x (1 - x)) where eps <= x <= 1 - eps, 0 elsewhere (with eps), or NaN
    where x is outside [0, 1] (without eps).  Saves: x."""

    @staticmethod
    def forward(ctx, x, eps=None):
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps is None else np.clip(x, eps, 1 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        eps = ctx.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = grad_out / (x * (1 - x))
        if eps is None:
            return (np.where((x < 0) | (x > 1), np.nan, grad).astype(x.dtype),)
        return (np.where((x < eps) | (x > 1 - eps), 0, grad).astype(x.dtype),)


class Xlogy(Function):
    """z = x * log(y), and 0 where x == 0 (unless y is NaN);
    dL/dx = dL/dz * log(y) (0 where x == 0 and y <= 0),  dL/dy = dL/dz * x / y.
    Saves: x, y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0, z).astype(z.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        grad_x = grad_y = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                log_y = np.where(grad_out == 0, 0, grad_out * np.log(y))
                grad_x = unbroadcast(np.where((x == 0) & (y <= 0), 0, log_y), x.shape)
            if ctx.needs_input_grad[1]:
                grad_y = unbroadcast(grad_out * x / y, y.shape)
        return grad_x, grad_y


class LogAddExp(Function):
    """z = log_base(base**a + base**b) (base e or 2), computed as m + log_base(1 + base**-|a - b|)
    with m = max(a, b);  dL/da = dL/dz * w,  dL/db = dL/dz * (1 - w),
    w = 1 / (1 + base**(b - a)).  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b, base2=False):
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        return np.logaddexp2(a, b) if base2 else np.logaddexp(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        with np.errstate(over="ignore", invalid="ignore"):
            diff = b - a
            w = 1 / (1 + (np.exp2(diff) if ctx.base2 else np.exp(diff)))
            w = np.where(a == b, 0.5, w)  # inf == inf: split evenly
        grad_a = unbroadcast(grad_out * w, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad_out * (1 - w), b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def log2(input: Tensor) -> Tensor:
    """Base-2 logarithm, element-wise."""
    return Log2.apply(_floating(input, "log2"))


def log10(input: Tensor) -> Tensor:
    """Base-10 logarithm, element-wise."""
    return Log10.apply(_floating(input, "log10"))


def exp2(input: Tensor) -> Tensor:
    """2**input, element-wise."""
    return Exp2.apply(_floating(input, "exp2"))


def expm1(input: Tensor) -> Tensor:
    """exp(input) - 1, accurate for small inputs."""
    return Expm1.apply(_floating(input, "expm1"))


def reciprocal(input: Tensor) -> Tensor:
    """1 / input, element-wise (inf at 0)."""
    return Reciprocal.apply(_floating(input, "reciprocal"))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), the inverse of sigmoid; with ``eps``, p is clamped to [eps, 1 - eps].

    Example:
        >>> import neuronet as nt
        >>> nt.logit(nt.tensor([0.5])).tolist()
        [0.0]
    """
    x = _floating(input, "logit")
    return Logit.apply(x, eps=None if eps is None else float(eps))


def xlogy(input, other) -> Tensor:
    """input * log(other), with 0 where input == 0 (the convention of entropy terms)."""
    a, b = pair("xlogy", input, other, floating=True)
    return Xlogy.apply(a, b)


def logaddexp(input, other) -> Tensor:
    """log(exp(input) + exp(other)), without overflow."""
    a, b = pair("logaddexp", input, other, floating=True)
    return LogAddExp.apply(a, b, base2=False)


def logaddexp2(input, other) -> Tensor:
    """log2(2**input + 2**other), without overflow."""
    a, b = pair("logaddexp2", input, other, floating=True)
    return LogAddExp.apply(a, b, base2=True)


__all__ = [
    "log2",
    "log10",
    "exp2",
    "expm1",
    "reciprocal",
    "logit",
    "xlogy",
    "logaddexp",
    "logaddexp2",
]
