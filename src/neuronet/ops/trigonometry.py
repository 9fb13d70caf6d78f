"""Trigonometric and hyperbolic functions beyond sin/cos: tan, asin, acos, atan, atan2, sinh,
cosh, asinh, acosh, atanh.

Each keeps a float input's dtype; integer and bool inputs are computed in float32, as PyTorch.
Outside a function's domain the result is NaN (asin(2), acosh(0.5)) and so is its gradient; at
the domain's edge the gradient is infinite (asin'(1) = inf), both as PyTorch.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import pair
from neuronet.ops._util import unbroadcast
from neuronet.ops.unary import _floating


class Tan(Function):
    """y = tan(x);  dL/dx = dL/dy * (1 + y**2).  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * (1 + y * y),)


class Asin(Function):
    """y = asin(x) (in [-pi/2, pi/2]);  dL/dx = dL/dy / sqrt(1 - x**2).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            return (grad_out / np.sqrt(1 - x * x),)


class Acos(Function):
    """y = acos(x) (in [0, pi]);  dL/dx = -dL/dy / sqrt(1 - x**2).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            return (-grad_out / np.sqrt(1 - x * x),)


class Atan(Function):
    """y = atan(x);  dL/dx = dL/dy / (1 + x**2).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / (1 + x * x),)


class Atan2(Function):
    """y = atan2(a, b): the angle of the point (b, a), in (-pi, pi];
    dL/da = dL/dy * b / (a**2 + b**2),  dL/db = -dL/dy * a / (a**2 + b**2)
    (each summed over its broadcast dims).  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = grad_out / (a * a + b * b)
        grad_a = unbroadcast(scale * b, a.shape) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(-scale * a, b.shape) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Sinh(Function):
    """y = sinh(x) = (e**x - e**-x) / 2;  dL/dx = dL/dy * cosh(x).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * np.cosh(x),)


class Cosh(Function):
    """y = cosh(x) = (e**x + e**-x) / 2;  dL/dx = dL/dy * sinh(x).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * np.sinh(x),)


class Asinh(Function):
    """y = asinh(x) = ln(x + sqrt(x**2 + 1));  dL/dx = dL/dy / sqrt(x**2 + 1).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out / np.sqrt(x * x + 1),)


class Acosh(Function):
    """y = acosh(x) = ln(x + sqrt(x**2 - 1)) (x >= 1);
    dL/dx = dL/dy / sqrt((x - 1) (x + 1)).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        with np.errstate(invalid="ignore", divide="ignore"):
            return (grad_out / np.sqrt((x - 1) * (x + 1)),)


class Atanh(Function):
    """y = atanh(x) = ln((1 + x) / (1 - x)) / 2 (|x| < 1);  dL/dx = dL/dy / (1 - x**2).
    Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        with np.errstate(divide="ignore"):
            return (grad_out / (1 - x * x),)


def tan(input: Tensor) -> Tensor:
    """Tangent, element-wise (radians)."""
    return Tan.apply(_floating(input, "tan"))


def asin(input: Tensor) -> Tensor:
    """Inverse sine, element-wise: NaN outside [-1, 1]."""
    return Asin.apply(_floating(input, "asin"))


def acos(input: Tensor) -> Tensor:
    """Inverse cosine, element-wise: NaN outside [-1, 1]."""
    return Acos.apply(_floating(input, "acos"))


def atan(input: Tensor) -> Tensor:
    """Inverse tangent, element-wise, in (-pi/2, pi/2)."""
    return Atan.apply(_floating(input, "atan"))


def atan2(input, other) -> Tensor:
    """The angle of the point (other, input) (``atan(input / other)`` in the right quadrant),
    element-wise with broadcasting.

    Example:
        >>> import neuronet as nt
        >>> round(nt.atan2(nt.tensor(1.0), nt.tensor(-1.0)).item(), 4)
        2.3562
    """
    a, b = pair("atan2", input, other, floating=True)
    return Atan2.apply(a, b)


def sinh(input: Tensor) -> Tensor:
    """Hyperbolic sine, element-wise."""
    return Sinh.apply(_floating(input, "sinh"))


def cosh(input: Tensor) -> Tensor:
    """Hyperbolic cosine, element-wise."""
    return Cosh.apply(_floating(input, "cosh"))


def asinh(input: Tensor) -> Tensor:
    """Inverse hyperbolic sine, element-wise."""
    return Asinh.apply(_floating(input, "asinh"))


def acosh(input: Tensor) -> Tensor:
    """Inverse hyperbolic cosine, element-wise: NaN below 1."""
    return Acosh.apply(_floating(input, "acosh"))


def atanh(input: Tensor) -> Tensor:
    """Inverse hyperbolic tangent, element-wise: +-inf at +-1, NaN outside [-1, 1]."""
    return Atanh.apply(_floating(input, "atanh"))


arcsin = asin
arccos = acos
arctan = atan
arctan2 = atan2

__all__ = [
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
]
