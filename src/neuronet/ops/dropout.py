"""Dropout: dropout, dropout1d, dropout2d (whole channels), alpha_dropout (for SELU networks).

Inverted dropout, as every modern framework: in training each element (or channel) is kept with
probability 1 - p and scaled by 1 / (1 - p), so the expected output equals the input and eval
mode is the identity (no rescaling at test time). The mask is drawn from a
``neuronet.random.Generator`` (``generator=``, or the default one that ``neuronet.manual_seed``
resets), so a run is reproducible; the numbers differ from PyTorch's, whose generator is another.

Reference: Srivastava et al., 2014, "Dropout: A Simple Way to Prevent Neural Networks from
Overfitting", https://jmlr.org/papers/v15/srivastava14a.html.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.random import resolve

# SELU's constants (Klambauer et al., 2017): alpha' = -scale * alpha is the value SELU saturates
# to, and alpha dropout sets dropped units to it.
_SELU_ALPHA_PRIME = 1.7580993408473766


class Dropout(Function):
    """y = x * mask / (1 - p),  mask ~ Bernoulli(1 - p) (broadcast over whole channels for
    dropout1d/2d);  dL/dx = dL/dy * mask / (1 - p).

    Saves: mask (bool, one byte per element; or per channel).
    """

    @staticmethod
    def forward(ctx, x, mask=None, scale=1.0):
        ctx.save_for_backward(mask)
        ctx.scale = scale
        y = x * mask
        y *= scale
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved
        grad_x = grad_out * mask
        grad_x *= ctx.scale
        return (grad_x,)


class AlphaDropout(Function):
    """y = a * (x * mask + alpha' * (1 - mask)) + b, mask ~ Bernoulli(1 - p), with
    alpha' = -1.7581 (SELU's negative saturation), a = 1 / sqrt((1 - p) * (1 + p * alpha'**2)),
    b = -a * alpha' * p, so zero mean and unit variance are kept (Klambauer et al., 2017);
    dL/dx = dL/dy * a * mask.

    Saves: mask (bool), a.
    """

    @staticmethod
    def forward(ctx, x, mask=None, a=1.0, b=0.0):
        ctx.save_for_backward(mask)
        ctx.a = a
        y = np.where(mask, x, np.asarray(-_SELU_ALPHA_PRIME, dtype=x.dtype))
        y *= a
        y += b
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved
        grad_x = grad_out * mask
        grad_x *= ctx.a
        return (grad_x,)


def _check_p(op: str, p) -> float:
    if not isinstance(p, (int, float, np.floating)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(
            f"{op}: dropout probability has to be between 0 and 1, but got {p!r} (p is the "
            "probability of zeroing an element, e.g. p=0.1)"
        )
    return float(p)


def _check_input(op: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be floating point, got dtype {input.dtype}; convert it with .float()"
        )


def _keep_mask(shape, p: float, generator) -> np.ndarray:
    """A bool mask of ``shape``, True with probability 1 - p."""
    return resolve(generator).uniform(shape, dtype=np.float32) >= np.float32(p)


def _write_back(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    """``inplace=True``: copy the result into input's storage when autograd allows it."""
    if not inplace or input.requires_grad:
        return out
    input.copy_(out)
    return input


def _dropout(op, input, p, training, inplace, generator, mask_shape) -> Tensor:
    if not training or p == 0.0 or input.array.size == 0:
        return input
    if p == 1.0:
        return _write_back(input, Dropout.apply(input, mask=np.zeros(mask_shape, bool)), inplace)
    mask = _keep_mask(mask_shape, p, generator)
    out = Dropout.apply(input, mask=mask, scale=1.0 / (1.0 - p))
    return _write_back(input, out, inplace)


def dropout(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) (training
    only; the identity when ``training=False`` or p=0; all zeros when p=1).

    Args:
        input: any shape, floating point.
        p: probability of zeroing an element, in [0, 1].
        training: apply dropout (False returns ``input`` itself).
        inplace: write the result into ``input``'s storage; honoured only when ``input`` does
            not require grad (otherwise a new tensor is returned, as autograd needs the input).
        generator: a ``neuronet.Generator`` for the mask (default: the global generator).
            neuronet's addition; PyTorch's dropout always uses its global generator.

    Example:
        >>> import neuronet as nt
        >>> x = nt.ones(2, 4)
        >>> y = nt.functional.dropout(x, p=0.5, generator=nt.Generator(0))
        >>> sorted(set(y.array.ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    op = "dropout"
    _check_input(op, input)
    p = _check_p(op, p)
    return _dropout(op, input, p, training, inplace, generator, input.shape)


def _channel_mask_shape(op: str, input: Tensor, spatial: int) -> tuple:
    """(N, C, 1, ...) for batched input, (C, 1, ...) for unbatched: one draw per channel."""
    if input.ndim not in (spatial + 1, spatial + 2):
        names = ["H", "W"] if spatial == 2 else ["L"]
        batched = ", ".join(["N", "C"] + names)
        unbatched = ", ".join(["C"] + names)
        raise ValueError(
            f"{op}: expected a {spatial + 2}-D input ({batched}) or a {spatial + 1}-D input "
            f"({unbatched}), got shape {tuple(input.shape)}; for element-wise dropout use "
            "dropout"
        )
    kept = input.ndim - spatial
    return tuple(input.shape[:kept]) + (1,) * spatial


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None
) -> Tensor:
    """Zero whole channels of a (N, C, L) or (C, L) input with probability ``p`` (each channel
    one Bernoulli draw), scaling the kept ones by 1 / (1 - p). Arguments as ``dropout``."""
    op = "dropout1d"
    _check_input(op, input)
    p = _check_p(op, p)
    shape = _channel_mask_shape(op, input, 1)
    return _dropout(op, input, p, training, inplace, generator, shape)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None
) -> Tensor:
    """Zero whole channels (2-D feature maps) of a (N, C, H, W) or (C, H, W) input with
    probability ``p``, scaling the kept ones by 1 / (1 - p) (Tompson et al., 2015: adjacent
    pixels are correlated, so element-wise dropout barely regularises conv features).

    Note: a 3-D input is (C, H, W), one image without a batch dimension, as PyTorch documents
    for ``nn.Dropout2d``. PyTorch 2.x's implementation still treats a 3-D input as (N, C, L)
    with a warning; for that behaviour call ``dropout1d``.
    """
    op = "dropout2d"
    _check_input(op, input)
    p = _check_p(op, p)
    shape = _channel_mask_shape(op, input, 2)
    return _dropout(op, input, p, training, inplace, generator, shape)


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False, generator=None
) -> Tensor:
    """Alpha dropout for self-normalising (SELU) networks: dropped units are set to SELU's
    negative saturation value and an affine map keeps zero mean and unit variance (see
    ``AlphaDropout`` for the formula). Note ``training=False`` by default, as in PyTorch.
    Reference: Klambauer et al., 2017, https://arxiv.org/abs/1706.02515.
    """
    op = "alpha_dropout"
    _check_input(op, input)
    p = _check_p(op, p)
    if not training or p == 0.0 or input.array.size == 0:
        return input
    if p == 1.0:
        return _write_back(input, Dropout.apply(input, mask=np.zeros(input.shape, bool)), inplace)
    mask = _keep_mask(input.shape, p, generator)
    a = (1.0 - p) * (1.0 + p * _SELU_ALPHA_PRIME**2)
    a = 1.0 / a**0.5
    b = a * _SELU_ALPHA_PRIME * p
    return _write_back(input, AlphaDropout.apply(input, mask=mask, a=a, b=b), inplace)


__all__ = ["dropout", "dropout1d", "dropout2d", "alpha_dropout"]
