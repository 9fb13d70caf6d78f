"""Normalization: batch_norm, layer_norm, group_norm, rms_norm (fused, hand-derived backward).

Each op standardises x over some axes and then applies a per-feature affine map:

    mean    = mean(x)                       over the normalised axes (n elements)
    var     = mean((x - mean)**2)           biased (divides by n), as every framework does here
    inv_std = 1 / sqrt(var + eps)
    x_hat   = (x - mean) * inv_std
    y       = x_hat * weight + bias

and its backward is the same chain of steps read right to left (Chainer's
layer_normalization.py is the model). With g = dL/dx_hat = dL/dy * weight:

    dL/dvar  = -1/2 * inv_std**2 * sum(g * x_hat)       (= sum(g * (x - mean)) * d inv_std/d var)
    dL/dmean = -inv_std * sum(g)                         (the var term drops: sum(x - mean) = 0)
    dL/dx    = g * inv_std + dL/dvar * 2 (x - mean) / n + dL/dmean / n
             = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))

The ops differ only in which axes are normalised and which axis the weight runs along:

    batch_norm   x (N, C, *): normalise over N and the spatial axes, weight (C,)
    layer_norm   x (*, D...): normalise over the trailing normalized_shape, weight normalized_shape
    group_norm   x (N, C, *): normalise each of G channel groups over (C/G, *), weight (C,)
    rms_norm     x (*, D...): no mean: x_hat = x / sqrt(mean(x**2) + eps), weight normalized_shape

Every op reshapes x into a view with the normalised elements on one or two axes, so a single
vectorised reduction does the work. float32 stays float32: the statistics are computed in the
input's dtype by two passes (mean first, then the mean of squared deviations), which is stable
where E[x**2] - E[x]**2 is not.

batch_norm, with its running statistics and eval mode, is in ``batch_norm.py``; it shares the
helpers below.

The code below is the reference, one chain-rule step per line. With numba on
(``backend.fast.numba``) the public functions take the compiled Functions of
``ops/fast/normalization.py`` instead: the same formulas as fused kernels that make one sweep
per row or channel rather than one per ufunc (several times faster on large inputs).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._empty import EmptyResult
from neuronet.ops._normalization_util import (
    as_shape,
    check_input,
    check_param,
    check_trailing,
    recording,
)

# The NumPy bodies work on a 3-D view (A, B, C) of x with one statistic per B, reduced over A
# and C:  batch_norm (N, C, S)   layer_norm (1, M, D)   group_norm (1, N*G, C/G*S).
# einsum reduces without temporaries (and faster than ndarray.sum over two axes).


def per_b(v: np.ndarray) -> np.ndarray:
    """A (B,) statistic shaped (1, B, 1) to broadcast against the (A, B, C) view."""
    return v.reshape(1, -1, 1)


def normalize(x: np.ndarray, eps: float):
    """x_hat = (x - mean) * inv_std per axis 1 of the 3-D view (biased variance, two passes).

    Returns x_hat (a new array), mean, var and inv_std (each (1, B, 1)).
    """
    n = x.shape[0] * x.shape[2]
    mean = per_b(np.einsum("abc->b", x)) * (1.0 / n)
    x_hat = x - mean
    var = per_b(np.einsum("abc,abc->b", x_hat, x_hat)) * (1.0 / n)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std
    return x_hat, mean, var, inv_std


def normalize_backward(grad_x_hat, x_hat, inv_std, out: np.ndarray) -> None:
    """Write dL/dx into ``out`` (3-D views), for x_hat = (x - mean) * inv_std per axis 1."""
    n = x_hat.shape[0] * x_hat.shape[2]
    grad_var = -0.5 * inv_std**2 * per_b(np.einsum("abc,abc->b", grad_x_hat, x_hat))
    grad_mean = -inv_std * per_b(np.einsum("abc->b", grad_x_hat))
    np.multiply(grad_x_hat, inv_std, out=out)  # dL/dx_hat * dx_hat/dx
    out += x_hat * (grad_var * (2.0 / n) / inv_std)  # dvar/dx = 2 (x - mean) / n
    out += grad_mean * (1.0 / n)  # dmean/dx = 1 / n


def affine(ctx, x_hat: np.ndarray, weight, bias) -> np.ndarray:
    """y = x_hat * weight + bias (either may be None). Writes into x_hat when no graph keeps it."""
    if not recording(ctx):
        y = x_hat
    elif weight is not None:
        y = x_hat * weight
        weight = None
    else:
        y = x_hat.copy()
    if weight is not None:
        y *= weight
    if bias is not None:
        y += bias
    return y


def affine_grads(ctx, grad_y, x_hat, axes: str, shape):
    """dL/dweight = sum(dL/dy * x_hat), dL/dbias = sum(dL/dy), over the einsum ``axes``
    (e.g. "ncs->c": sum over n and s)."""
    grad_weight = None
    grad_bias = None
    subs, out = axes.split("->")
    if ctx.needs_input_grad[1]:
        grad_weight = np.einsum(f"{subs},{subs}->{out}", grad_y, x_hat).reshape(shape)
    if ctx.needs_input_grad[2]:
        grad_bias = np.einsum(axes, grad_y).reshape(shape)
    return grad_weight, grad_bias


class _RowNorm(Function):
    """Shared by LayerNorm and RMSNorm: x viewed as rows (M, D), D = prod(normalized_shape)."""

    @classmethod
    def _forward(cls, ctx, x, weight, bias, normalized_shape, eps):
        d = math.prod(normalized_shape)
        x2 = np.ascontiguousarray(x).reshape(-1, d)
        ctx.shapes = (x.shape, normalized_shape)
        x_hat, inv_std = cls._standardize(x2, eps)
        w = None if weight is None else weight.reshape(d)
        y = affine(ctx, x_hat, w, None if bias is None else bias.reshape(d))
        ctx.save_for_backward(x_hat, inv_std, weight)
        return y.reshape(x.shape)

    @classmethod
    def _backward(cls, ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved
        x_shape, normalized_shape = ctx.shapes
        grad_y = grad_out.reshape(x_hat.shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x_hat = grad_y if weight is None else grad_y * weight.reshape(-1)
            grad_x = np.empty(x_shape, dtype=x_hat.dtype)
            cls._standardize_backward(grad_x_hat, x_hat, inv_std, grad_x.reshape(x_hat.shape))
        grad_weight = None
        grad_bias = None
        if ctx.needs_input_grad[1]:
            grad_weight = np.einsum("md,md->d", grad_y, x_hat).reshape(normalized_shape)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            grad_bias = np.einsum("md->d", grad_y).reshape(normalized_shape)
        return grad_x, grad_weight, grad_bias


class LayerNorm(_RowNorm):
    """Layer normalization over the trailing D = prod(normalized_shape) elements, x as (M, D).

    y = (x - mean) / sqrt(var + eps) * weight + bias,  statistics per row over D (biased var)

    dL/dx      = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),  g = dL/dy * weight
    dL/dweight = sum over M of dL/dy * x_hat;   dL/dbias = sum over M of dL/dy

    Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def _standardize(x2, eps):
        x_hat, _, _, inv_std = normalize(x2.reshape(1, *x2.shape), eps)
        return x_hat[0], inv_std[0]

    @staticmethod
    def _standardize_backward(grad_x_hat, x_hat, inv_std, out):
        view = (1, *x_hat.shape)
        normalize_backward(
            grad_x_hat.reshape(view),
            x_hat.reshape(view),
            inv_std.reshape(1, -1, 1),
            out.reshape(view),
        )

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape=(1,), eps=1e-5):
        return LayerNorm._forward(ctx, x, weight, bias, normalized_shape, eps)

    @staticmethod
    def backward(ctx, grad_out):
        return LayerNorm._backward(ctx, grad_out)


class RMSNorm(_RowNorm):
    """Root-mean-square normalization over the trailing D elements, x viewed as (M, D).

    ms = mean(x**2) per row,  inv_rms = 1 / sqrt(ms + eps),  x_hat = x * inv_rms
    y = x_hat * weight

    dL/dms     = -1/2 * inv_rms**2 * sum(g * x_hat),  g = dL/dy * weight
    dL/dx      = g * inv_rms + dL/dms * 2 x / n  = inv_rms * (g - x_hat * mean(g * x_hat))
    dL/dweight = sum over M of dL/dy * x_hat

    Saves: x_hat, inv_rms, weight.
    """

    @staticmethod
    def _standardize(x2, eps):
        ms = np.einsum("md,md->m", x2, x2).reshape(-1, 1) * (1.0 / x2.shape[1])
        inv_rms = 1.0 / np.sqrt(ms + eps)
        return x2 * inv_rms, inv_rms

    @staticmethod
    def _standardize_backward(grad_x_hat, x_hat, inv_rms, out):
        n = x_hat.shape[1]
        grad_ms = -0.5 * inv_rms**2 * np.einsum("md,md->m", grad_x_hat, x_hat).reshape(-1, 1)
        np.multiply(grad_x_hat, inv_rms, out=out)  # dL/dx_hat * dx_hat/dx
        out += x_hat * (grad_ms * (2.0 / n) / inv_rms)  # dms/dx = 2 x / n

    @staticmethod
    def forward(ctx, x, weight, normalized_shape=(1,), eps=1e-6):
        return RMSNorm._forward(ctx, x, weight, None, normalized_shape, eps)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x, grad_weight, _ = RMSNorm._backward(ctx, grad_out)
        return grad_x, grad_weight


class GroupNorm(Function):
    """Group normalization: channels split into G groups, x viewed as (N, G, C/G * S).

    y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c],  statistics per (sample, group)

    dL/dx      = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) per group, g = dL/dy * weight
    dL/dweight = sum over (N, S) of dL/dy * x_hat;   dL/dbias = sum over (N, S) of dL/dy

    Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups=1, eps=1e-5):
        n_, c = x.shape[:2]
        x4 = np.ascontiguousarray(x).reshape(n_, num_groups, c // num_groups, -1)
        ctx.x_shape = x.shape
        x_hat, _, _, inv_std = normalize(x4.reshape(1, n_ * num_groups, -1), eps)
        w = None if weight is None else per_b(weight)
        b = None if bias is None else per_b(bias)
        y = affine(ctx, x_hat.reshape(n_, c, -1), w, b)  # per-channel affine on (N, C, S)
        ctx.save_for_backward(x_hat.reshape(x4.shape), inv_std, weight)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved
        n_, c = ctx.x_shape[:2]
        grad_y = grad_out.reshape(n_, c, -1)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x_hat = grad_y if weight is None else grad_y * per_b(weight)
            grad_x = np.empty(ctx.x_shape, dtype=x_hat.dtype)
            view = (1, n_ * x_hat.shape[1], -1)
            normalize_backward(
                grad_x_hat.reshape(view), x_hat.reshape(view), inv_std, grad_x.reshape(view)
            )
        x_hat_c = x_hat.reshape(grad_y.shape)
        grad_weight, grad_bias = affine_grads(ctx, grad_y, x_hat_c, "ncs->c", (c,))
        return grad_x, grad_weight, grad_bias


# ---- public functions ---------------------------------------------------------------------------


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` dimensions of each sample.

    y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over those dims;
    weight and bias have shape ``normalized_shape`` (per element, not per channel). eps defaults
    to 1e-5 (PyTorch; Keras uses 1e-3). See ``nn.LayerNorm``.
    Reference: Ba, Kiros & Hinton, 2016, https://arxiv.org/abs/1607.06450.
    """
    op = "layer_norm"
    check_input(op, input)
    shape = as_shape(normalized_shape)
    check_trailing(op, input, shape)
    check_param(op, "weight", weight, shape, input)
    check_param(op, "bias", bias, shape, input)
    params = {"normalized_shape": shape, "eps": float(eps)}
    if backend.fast.numba:
        return fast_norm.CompiledLayerNorm.apply(input, weight, bias, **params)
    return LayerNorm.apply(input, weight, bias, **params)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization: each sample's channels split into ``num_groups`` groups, each
    normalised over its channels and spatial positions; weight and bias are per channel (C,).
    num_groups=1 normalises each sample over everything (LayerNorm over (C, *) with per-channel
    affine); num_groups=C is instance normalization. See ``nn.GroupNorm``.
    Reference: Wu & He, 2018, https://arxiv.org/abs/1803.08494.
    """
    op = "group_norm"
    check_input(op, input)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    c = input.shape[1]
    if not isinstance(num_groups, (int, np.integer)) or num_groups <= 0 or c % num_groups:
        raise ValueError(
            f"{op}: expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    check_param(op, "weight", weight, (c,), input)
    check_param(op, "bias", bias, (c,), input)
    if input.array.size == 0:  # an empty batch: an empty result, zero gradients (as torch)
        return EmptyResult.apply(input, weight, bias, shape=input.shape)
    params = {"num_groups": int(num_groups), "eps": float(eps)}
    if backend.fast.numba:
        return fast_norm.CompiledGroupNorm.apply(input, weight, bias, **params)
    return GroupNorm.apply(input, weight, bias, **params)


def rms_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Root-mean-square normalization over the trailing ``normalized_shape`` dimensions:
    y = x / sqrt(mean(x**2) + eps) * weight (no mean subtraction, no bias). ``eps=None`` means
    the machine epsilon of the input's dtype (PyTorch: ``torch.finfo(dtype).eps``; some
    implementations use 1e-6 or 1e-8). See ``nn.RMSNorm``.
    Reference: Zhang & Sennrich, 2019, https://arxiv.org/abs/1910.07467.
    """
    op = "rms_norm"
    check_input(op, input)
    shape = as_shape(normalized_shape)
    check_trailing(op, input, shape)
    check_param(op, "weight", weight, shape, input)
    eps = float(np.finfo(input.dtype).eps) if eps is None else float(eps)
    if backend.fast.numba:
        return fast_norm.CompiledRMSNorm.apply(input, weight, normalized_shape=shape, eps=eps)
    return RMSNorm.apply(input, weight, normalized_shape=shape, eps=eps)


# The fast paths subclass the Functions above (same contract), so they are imported after them.
from neuronet.ops.fast import normalization as fast_norm  # noqa: E402

__all__ = ["layer_norm", "group_norm", "rms_norm"]
