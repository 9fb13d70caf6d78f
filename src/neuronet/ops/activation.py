"""Activations: relu, leaky_relu, elu, gelu, sigmoid, tanh, silu (swish), softplus, hardtanh,
relu6. Each is one fused op with a hand-written backward.

All are numerically stable in float32 for |x| up to 1e4 and beyond: no overflow, no NaN, no
warnings (sigmoid and softplus only ever exponentiate -|x|). Integer inputs become float32.

Conventions at kinks, as PyTorch: relu'(0) = 0; leaky_relu'(0) = negative_slope; elu'(0) = alpha;
hardtanh passes the gradient only strictly inside (min_val, max_val).

``inplace=True`` is accepted for PyTorch compatibility; neuronet always returns a new tensor and
leaves the input unchanged (write ``x = F.relu(x)``).

GELU defaults to the exact form 0.5 x (1 + erf(x / sqrt 2)), as PyTorch and Keras; JAX/Flax and
GPT-2 checkpoints use ``approximate='tanh'`` (they differ by up to ~5e-4; docs/semantics.md,
"GELU").

With numba on (``backend.fast.numba``), ``relu`` and ``gelu`` take the compiled Functions of
``ops/fast/activation.py`` (same formulas, one pass over the arrays).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._erf import erf_array
from neuronet.ops.unary import _floating

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_BETA = math.sqrt(2.0 / math.pi)
_TANH_KAPPA = 0.044715


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: only exp(-|x|) is computed."""
    e = np.exp(-np.abs(x))
    y = np.where(x >= 0, 1, e)
    y /= e + 1
    return y


class ReLU(Function):
    """y = max(x, 0);  dL/dx = dL/dy where y > 0, else 0 (relu'(0) = 0).  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (np.where(y > 0, grad_out, 0),)


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x;
    dL/dx = dL/dy if x > 0 else negative_slope * dL/dy (the slope at 0).  Saves: x."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (np.where(x > 0, grad_out, grad_out * ctx.slope),)


class ELU(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1);
    dL/dx = dL/dy if x > 0 else dL/dy * alpha * exp(x) (alpha at 0).  Saves: x."""

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        negative = np.expm1(np.minimum(x, 0))
        negative *= alpha
        return np.where(x > 0, x, negative)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        slope = np.exp(np.minimum(x, 0))
        slope *= ctx.alpha
        return (np.where(x > 0, grad_out, grad_out * slope),)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dL/dx = dL/dy * y * (1 - y).  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = _sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * (1 - y) * y,)


class Tanh(Function):
    """y = tanh(x);  dL/dx = dL/dy * (1 - y**2).  Saves: y."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        return (grad_out * (1 - y * y),)


class SiLU(Function):
    """y = x * sigmoid(x) (swish);  dL/dx = dL/dy * s * (1 + x * (1 - s)), s = sigmoid(x).
    Saves: x, s."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_out):
        x, s = ctx.saved
        return (grad_out * s * (1 + x * (1 - s)),)


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold;
    dL/dx = dL/dy * sigmoid(beta x), and dL/dy where beta x > threshold.  Saves: x.

    Computed as (max(z, 0) + log1p(exp(-|z|))) / beta with z = beta x, which never overflows.
    """

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        ctx.save_for_backward(x)
        ctx.params = (beta, threshold)
        z = x * beta if beta != 1 else x
        soft = np.log1p(np.exp(-np.abs(z)))
        soft += np.maximum(z, 0)
        if beta != 1:
            soft /= beta
        return np.where(z > threshold, x, soft)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        beta, threshold = ctx.params
        z = x * beta if beta != 1 else x
        return (np.where(z > threshold, grad_out, grad_out * _sigmoid(z)),)


class Hardtanh(Function):
    """y = clamp(x, min_val, max_val);
    dL/dx = dL/dy where min_val < x < max_val (strictly, as PyTorch), else 0.  Saves: x."""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return np.minimum(np.maximum(x, min_val), max_val)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        lo, hi = ctx.bounds
        return (np.where((x > lo) & (x < hi), grad_out, 0),)


class GELU(Function):
    """y = x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2  (the standard normal CDF);
    dL/dx = dL/dy * (Phi(x) + x * phi(x)), phi(x) = exp(-x**2 / 2) / sqrt(2 pi).
    Saves: x, Phi.
    """

    @staticmethod
    def forward(ctx, x):
        cdf = erf_array(x * _SQRT_HALF)
        cdf += 1
        cdf *= 0.5
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad_out):
        x, cdf = ctx.saved
        pdf = np.exp(-0.5 * (x * x))
        pdf *= _INV_SQRT_2PI
        grad_cdf = x * pdf
        grad_cdf += cdf
        return (grad_out * grad_cdf,)


class GELUTanh(Function):
    """y = x/2 * (1 + t), t = tanh(u), u = sqrt(2/pi) * (x + 0.044715 x**3);
    dL/dx = dL/dy * ((1 + t)/2 + x/2 * (1 - t**2) * sqrt(2/pi) * (1 + 3 * 0.044715 x**2)).
    Saves: x, t."""

    @staticmethod
    def forward(ctx, x):
        x_sq = x * x
        inner = x_sq * (_TANH_KAPPA * _TANH_BETA)
        inner += _TANH_BETA
        inner *= x
        t = np.tanh(inner)
        ctx.save_for_backward(x, t)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, grad_out):
        x, t = ctx.saved
        grad_left = 0.5 * (1 + t)
        grad_inner = (1 - t * t) * (0.5 * x)
        grad_inner *= _TANH_BETA * (1 + 3 * _TANH_KAPPA * (x * x))
        return (grad_out * (grad_left + grad_inner),)


# ---- public functions --------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0), element-wise (gradient 0 at 0)."""
    x = _floating(input, "relu")
    if backend.fast.numba:
        return fast_activation.CompiledReLU.apply(x)
    return ReLU.apply(x)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where positive, negative_slope * input elsewhere."""
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.number)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    return LeakyReLU.apply(_floating(input, "leaky_relu"), negative_slope=float(negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, alpha * (exp(input) - 1) elsewhere (Clevert et al., 2015)."""
    return ELU.apply(_floating(input, "elu"), alpha=float(alpha))


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function 1 / (1 + exp(-input)), stable for any input."""
    return Sigmoid.apply(_floating(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent, element-wise."""
    return Tanh.apply(_floating(input, "tanh"))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """input * sigmoid(input), also called swish (Ramachandran et al., 2017)."""
    return SiLU.apply(_floating(input, "silu"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * input)) / beta, linear where beta * input > threshold."""
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    return Softplus.apply(
        _floating(input, "softplus"), beta=float(beta), threshold=float(threshold)
    )


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """clamp(input, min_val, max_val); the gradient is 0 at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    return Hardtanh.apply(
        _floating(input, "hardtanh"), min_val=float(min_val), max_val=float(max_val)
    )


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6) = hardtanh(input, 0, 6)."""
    return hardtanh(input, 0.0, 6.0)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit (Hendrycks & Gimpel, 2016): x * Phi(x).

    ``approximate='none'`` (default, as PyTorch) uses the exact erf; ``'tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))), the GPT-2 / JAX default.
    """
    x = _floating(input, "gelu")
    if approximate == "none":
        if backend.fast.numba and x.dtype in (np.float32, np.float64):
            return fast_activation.CompiledGELU.apply(x)
        return GELU.apply(x)
    if approximate == "tanh":
        return GELUTanh.apply(x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# The fast paths subclass the Functions above (same contract), so they are imported after them.
from neuronet.ops.fast import activation as fast_activation  # noqa: E402

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "sigmoid",
    "tanh",
    "silu",
    "softplus",
    "hardtanh",
    "relu6",
    "gelu",
]
