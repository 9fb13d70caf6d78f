"""Smooth activations: selu, celu, mish, logsigmoid, softsign, and the compositions glu and
softmin.

    selu(x)       = scale * (x if x > 0 else alpha * (exp(x) - 1)),
                    alpha = 1.6732632423543772, scale = 1.0507009873554805
                    (Klambauer et al., 2017, https://arxiv.org/abs/1706.02515)
    celu(x)       = x if x > 0 else alpha * (exp(x / alpha) - 1)
                    (Barron, 2017, https://arxiv.org/abs/1704.07483)
    mish(x)       = x * tanh(softplus(x))   (Misra, 2019, https://arxiv.org/abs/1908.08681)
    logsigmoid(x) = log(1 / (1 + exp(-x))) = -softplus(-x)
    softsign(x)   = x / (1 + |x|)
    glu(x, dim)   = a * sigmoid(b), a and b the two halves of x along dim
                    (Dauphin et al., 2017, https://arxiv.org/abs/1612.08083)
    softmin(x)    = softmax(-x)
Every exponential is of a non-positive number, so none overflows. ``inplace=True`` is accepted
for PyTorch compatibility; a new tensor is returned.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.activation import sigmoid
from neuronet.ops.arithmetic import mul, neg
from neuronet.ops.indexing import getitem
from neuronet.ops.shape import _axis
from neuronet.ops.softmax import softmax
from neuronet.ops.unary import _floating

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


class ExpLinear(Function):
    """y = scale * (x if x > 0 else alpha * (exp(x / beta) - 1))  (selu: beta = 1; celu:
    beta = alpha, scale = 1);  dL/dx = dL/dy * scale * (1 if x > 0 else alpha / beta *
    exp(x / beta)).  Saves: x."""

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, beta=1.0):
        ctx.save_for_backward(x)
        ctx.params = (alpha, scale, beta)
        negative = alpha * np.expm1(np.minimum(x, 0) / beta)
        return (scale * np.where(x > 0, x, negative)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        alpha, scale, beta = ctx.params
        slope = np.where(x > 0, scale, scale * alpha / beta * np.exp(np.minimum(x, 0) / beta))
        return ((grad_out * slope).astype(grad_out.dtype),)


class Mish(Function):
    """y = x * tanh(softplus(x));
    dL/dx = dL/dy * (t + x * sigmoid(x) * (1 - t**2)),  t = tanh(softplus(x)).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(_softplus(x))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        t = np.tanh(_softplus(x))
        sig = np.exp(-_softplus(-x))
        return (grad_out * (t + x * sig * (1 - t * t)),)


class LogSigmoid(Function):
    """y = -softplus(-x) = min(x, 0) - log(1 + exp(-|x|));
    dL/dx = dL/dy * sigmoid(-x) = dL/dy * exp(-softplus(x)).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -_softplus(-x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * np.exp(-_softplus(x)),)


class Softsign(Function):
    """y = x / (1 + |x|);  dL/dx = dL/dy / (1 + |x|)**2.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        d = 1 + np.abs(x)
        return (grad_out / (d * d),)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalising constants. See ``nn.SELU``."""
    x = _floating(input, "selu")
    return ExpLinear.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE, beta=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Continuously differentiable ELU: x if x > 0 else alpha (exp(x / alpha) - 1)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return ExpLinear.apply(
        _floating(input, "celu"), alpha=float(alpha), scale=1.0, beta=float(alpha)
    )


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)). See ``nn.Mish``."""
    return Mish.apply(_floating(input, "mish"))


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for large |x|. See ``nn.LogSigmoid``.

    Example:
        >>> import neuronet as nt
        >>> round(nt.functional.logsigmoid(nt.tensor([-100.0])).item(), 1)
        -100.0
    """
    return LogSigmoid.apply(_floating(input, "logsigmoid"))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|). See ``nn.Softsign``."""
    return Softsign.apply(_floating(input, "softsign"))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half."""
    x = _floating(input, "glu")
    if x.ndim == 0:
        raise ValueError("glu: does not support scalars (0-d tensors)")
    axis = _axis(dim, x.ndim, "glu")
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu: halving dimension must be even, but dimension {dim} is size {x.shape[axis]}"
        )
    half = x.shape[axis] // 2
    first = [slice(None)] * x.ndim
    second = [slice(None)] * x.ndim
    first[axis] = slice(0, half)
    second[axis] = slice(half, None)
    return mul(getitem(x, tuple(first)), sigmoid(getitem(x, tuple(second))))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-input) along ``dim``: large entries get small weights. See ``nn.Softmin``."""
    if dtype is not None:
        from neuronet.backend import as_dtype
        from neuronet.ops.shape import cast

        input = cast(input, as_dtype(dtype))
    return softmax(neg(input), dim)


__all__ = ["selu", "celu", "mish", "logsigmoid", "softsign", "glu", "softmin"]
