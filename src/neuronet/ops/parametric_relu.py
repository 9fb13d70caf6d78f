"""ReLUs with a learned or random negative slope: prelu and rrelu.

prelu(x, w) = x if x > 0 else w[c] * x       (w per channel c = dim 1, or one shared w)
              (He et al., 2015, https://arxiv.org/abs/1502.01852)
rrelu(x)    = x if x >= 0 else a * x, a ~ U(lower, upper) per element in training, and
              a = (lower + upper) / 2 in evaluation
              (Xu et al., 2015, https://arxiv.org/abs/1505.00853)
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.activation import leaky_relu
from neuronet.ops.unary import _floating
from neuronet.random import resolve


def _channel_view(w: np.ndarray, ndim: int) -> np.ndarray:
    """w (C,) shaped to broadcast along dim 1 of an ndim input (dim 0 for a 1-D input)."""
    if w.size == 1:
        return w.reshape(())
    if ndim == 1:
        return w
    return w.reshape((1, -1) + (1,) * (ndim - 2))


class PReLU(Function):
    """y = x where x > 0, else w * x (w broadcast along the channel dim);
    dL/dx = dL/dy where x > 0, else dL/dy * w;
    dL/dw = sum of dL/dy * x over the elements with x <= 0 (per channel).  Saves: x, w."""

    @staticmethod
    def forward(ctx, x, weight):
        w = _channel_view(weight, x.ndim)
        ctx.save_for_backward(x, weight)
        return np.where(x > 0, x, w * x).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved
        w = _channel_view(weight, x.ndim)
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = np.where(x > 0, grad_out, grad_out * w).astype(grad_out.dtype)
        if ctx.needs_input_grad[1]:
            contrib = np.where(x > 0, 0, grad_out * x)
            if weight.size == 1 or x.ndim == 0:
                grad_w = np.asarray(contrib.sum(), dtype=grad_out.dtype).reshape(weight.shape)
            else:
                axes = tuple(d for d in range(x.ndim) if d != (0 if x.ndim == 1 else 1))
                grad_w = contrib.sum(axis=axes).astype(grad_out.dtype).reshape(weight.shape)
        return grad_x, grad_w


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight * x, with one weight or one per channel (dim 1). See
    ``nn.PReLU``."""
    x = _floating(input, "prelu")
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        raise ValueError("prelu: weight must be a 0-d or 1-D tensor")
    channels = 1 if x.ndim < 2 else x.shape[1]
    if x.ndim == 1:
        channels = x.shape[0]
    if weight.numel() not in (1, channels):
        raise ValueError(
            f"prelu: weight has {weight.numel()} elements, but the input of shape {x.shape} has "
            f"{channels} channels (dim 1); use nn.PReLU(num_parameters={channels}) or 1"
        )
    return PReLU.apply(x, weight)


class RReLU(Function):
    """y = x where x >= 0, else a * x with a fixed random slope per element;
    dL/dx = dL/dy where x >= 0, else dL/dy * a.  Saves: the slopes (1 where x >= 0)."""

    @staticmethod
    def forward(ctx, x, slopes=None):
        noise = np.where(x >= 0, 1, slopes).astype(x.dtype)
        ctx.save_for_backward(noise)
        return x * noise

    @staticmethod
    def backward(ctx, grad_out):
        (noise,) = ctx.saved
        return (grad_out * noise,)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    generator=None,
) -> Tensor:
    """Randomized leaky ReLU: in training each negative element gets its own slope drawn from
    U(lower, upper); in evaluation the slope is (lower + upper) / 2. Note ``training=False`` by
    default, as in PyTorch's functional form (``nn.RReLU`` follows the module's mode)."""
    x = _floating(input, "rrelu")
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    slopes = resolve(generator).uniform(x.shape, lower, upper, dtype=x.dtype)
    return RReLU.apply(x, slopes=slopes)


__all__ = ["prelu", "rrelu"]
