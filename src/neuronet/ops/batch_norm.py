"""Batch normalization: batch_norm, training mode (batch statistics, running averages updated in
place) and eval mode (fixed running statistics). The derivation and the shared NumPy helpers
are in ``normalization.py``; here x is viewed as (N, C, S) and normalised per channel over N
and S.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._normalization_util import check_input, check_param, flat, fused_grads, outputs
from neuronet.ops.normalization import (
    affine,
    affine_grads,
    fused_kernels,
    normalize,
    normalize_backward,
    per_b,
)


class BatchNorm(Function):
    """Batch normalization with batch statistics (training mode), x viewed as (N, C, S).

    mean, var = mean and biased variance of x over (N, S) per channel  (n = N * S)
    y = (x - mean) / sqrt(var + eps) * weight + bias

    dL/dx      = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),  g = dL/dy * weight
    dL/dweight = sum over (N, S) of dL/dy * x_hat;   dL/dbias = sum over (N, S) of dL/dy

    When running statistics are given they are updated in place, with the UNBIASED variance
    (PyTorch; Keras uses the biased one): running = (1 - momentum) * running + momentum * batch,
    batch var * n / (n - 1) for running_var.

    Saves: x_hat, inv_std, weight; with the fused kernels and spatial axes, x and the mean
    instead of x_hat (forward then writes one array less; backward recomputes x_hat).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        c = x.shape[1]
        x3 = np.ascontiguousarray(x).reshape(x.shape[0], c, -1)
        ctx.k = k = fused_kernels()
        if k is not None:
            if x3.shape[2] == 1:  # (N, C): the kernel whose inner loops run over C
                x3 = x3.reshape(x3.shape[:2])
            mean, var, inv_std = (np.empty(c, dtype=x.dtype) for _ in range(3))
            w, has_w = flat(weight, x.dtype)
            b, has_b = flat(bias, x.dtype)
            if x3.ndim == 3:  # keep x, not x_hat: backward recomputes x_hat on the fly
                y = np.empty_like(x3)
                k.channels_forward(x3, w, b, has_w, has_b, eps, y, mean, var, inv_std)
                ctx.save_for_backward(x3, inv_std, weight)
                ctx.mean = mean
            else:
                x_hat, y = outputs(ctx, x3)
                k.columns_forward(x3, w, b, has_w, has_b, eps, x_hat, y, mean, var, inv_std)
        else:
            x_hat, mean, var, inv_std = normalize(x3, eps)
            w = None if weight is None else per_b(weight)
            y = affine(ctx, x_hat, w, None if bias is None else per_b(bias))
        if running_mean is not None:
            n = x.size // c
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean.reshape(c)
            running_var *= 1.0 - momentum
            running_var += (momentum * n / (n - 1)) * var.reshape(c)
        if k is None or x3.ndim == 2:
            ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.x_shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved  # with the kernels and S > 1: x, not x_hat
        c = x_hat.shape[1]
        if ctx.k is not None and x_hat.ndim == 3:
            return _fused_grads_from_x(ctx, grad_out, x_hat, inv_std, weight)
        if ctx.k is not None:
            return fused_grads(ctx, ctx.k.columns_backward, grad_out, x_hat, inv_std, weight, (c,))
        grad_y = grad_out.reshape(x_hat.shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x_hat = grad_y if weight is None else grad_y * per_b(weight)
            grad_x = np.empty(ctx.x_shape, dtype=x_hat.dtype)
            normalize_backward(grad_x_hat, x_hat, inv_std, grad_x.reshape(x_hat.shape))
        grad_weight, grad_bias = affine_grads(ctx, grad_y, x_hat, "ncs->c", (c,))
        return grad_x, grad_weight, grad_bias


class FixedBatchNorm(Function):
    """Batch normalization with fixed (running) statistics (eval mode), x viewed as (N, C, S).

    y = (x - running_mean) * inv_std * weight + bias,  inv_std = 1 / sqrt(running_var + eps)
      = x * scale + shift,  scale = weight * inv_std,  shift = bias - running_mean * scale

    dL/dx      = dL/dy * scale   (the statistics are constants here)
    dL/dweight = sum over (N, S) of dL/dy * (x - running_mean) * inv_std
    dL/dbias   = sum over (N, S) of dL/dy

    Saves: x, running_mean, inv_std, scale.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean=None, running_var=None, eps=1e-5):
        x3 = x.reshape(x.shape[0], x.shape[1], -1)
        inv_std = per_b(1.0 / np.sqrt(running_var + eps))
        mean = per_b(running_mean).copy()
        scale = inv_std if weight is None else per_b(weight) * inv_std
        shift = -mean * scale
        if bias is not None:
            shift += per_b(bias)
        ctx.save_for_backward(x3, mean, inv_std, scale)
        ctx.x_shape = x.shape
        k = fused_kernels()  # the fused backward pays off with spatial axes (S > 1)
        ctx.k = k if x3.shape[2] > 1 and x3.flags.c_contiguous else None
        y = x3 * scale
        y += shift
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x3, mean, inv_std, scale = ctx.saved
        if ctx.k is not None:
            return _fixed_fused_grads(ctx, grad_out, x3, mean, inv_std, scale)
        grad_y = grad_out.reshape(x3.shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = np.empty(ctx.x_shape, dtype=x3.dtype)
            np.multiply(grad_y, scale, out=grad_x.reshape(x3.shape))
        x_hat = (x3 - mean) * inv_std if ctx.needs_input_grad[1] else None
        grad_weight, grad_bias = affine_grads(ctx, grad_y, x_hat, "ncs->c", (x3.shape[1],))
        return grad_x, grad_weight, grad_bias


def _fused_grads_from_x(ctx, grad_out, x3, inv_std, weight):
    """BatchNorm's fused backward from the saved x (``channels_backward``)."""
    need = ctx.needs_input_grad
    w, has_w = flat(weight, x3.dtype)
    grad_x = np.empty_like(x3) if need[0] else np.empty((0, 0, 0), x3.dtype)
    grad_w = np.empty(x3.shape[1], dtype=x3.dtype)
    grad_b = np.empty_like(grad_w)
    grad_y = np.ascontiguousarray(grad_out).reshape(x3.shape)
    ctx.k.channels_backward(
        grad_y, x3, ctx.mean, inv_std, w, has_w, bool(need[0]), grad_x, grad_w, grad_b
    )
    return (
        grad_x.reshape(ctx.x_shape) if need[0] else None,
        grad_w if need[1] else None,
        grad_b if len(need) > 2 and need[2] else None,
    )


def _fixed_fused_grads(ctx, grad_out, x3, mean, inv_std, scale):
    """FixedBatchNorm's backward in one pass (``fixed_channels_backward``)."""
    need = ctx.needs_input_grad
    grad_x = np.empty(ctx.x_shape, x3.dtype) if need[0] else np.empty(0, x3.dtype)
    grad_w = np.empty(x3.shape[1], dtype=x3.dtype)
    grad_b = np.empty_like(grad_w)
    grad_y = np.ascontiguousarray(grad_out).reshape(x3.shape)
    stats = (mean.reshape(-1), inv_std.reshape(-1), scale.reshape(-1))
    out = grad_x.reshape(x3.shape) if need[0] else np.empty((0, 0, 0), x3.dtype)
    ctx.k.fixed_channels_backward(grad_y, x3, *stats, bool(need[0]), out, grad_w, grad_b)
    return (
        (grad_x if need[0] else None),
        (grad_w if need[1] else None),
        (grad_b if need[2] else None),
    )


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over the batch and spatial axes of x (N, C, *), per channel.

    Training mode normalises with the batch's mean and biased variance and, when running
    statistics are given, updates them in place with the **unbiased** variance (PyTorch; Keras
    uses the biased one), ``running = (1 - momentum) * running + momentum * batch`` (Keras'
    ``momentum=0.99`` means the opposite weighting). Eval mode normalises with the running
    statistics. See ``nn.BatchNorm1d``/``BatchNorm2d``, which own the parameters and buffers.
    Reference: Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) buffers, or None (training only).
        weight, bias: (C,) or None.
        training: use batch statistics (and update the running ones).
        momentum: weight of the new batch in the running average (a float).
        eps: added to the variance.
    """
    op = "batch_norm"
    check_input(op, input)
    if input.array.size == 0:  # nothing to normalise: an empty result, zero gradients (torch)
        from neuronet.ops._empty import EmptyResult

        return EmptyResult.apply(input, weight, bias, shape=input.shape)
    if input.ndim < 2:
        raise ValueError(
            f"{op}: expected an input of shape (N, C) or (N, C, *), got {tuple(input.shape)}"
        )
    c = input.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            f"{op}: running_mean and running_var must either both be None or neither be None"
        )
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        check_param(op, name, value, (c,), input)
    check_param(op, "weight", weight, (c,), input)
    check_param(op, "bias", bias, (c,), input)
    if momentum is None or not isinstance(momentum, (int, float)):
        raise TypeError(
            f"{op}: momentum must be a float, got {momentum!r}; for a cumulative average use "
            "nn.BatchNorm(momentum=None), which passes 1 / num_batches_tracked"
        )
    if not training:
        if running_mean is None:
            raise RuntimeError(f"{op}: running_mean must be defined in evaluation mode")
        return FixedBatchNorm.apply(
            input,
            weight,
            bias,
            running_mean=running_mean.array,
            running_var=running_var.array,
            eps=float(eps),
        )
    if input.array.size // c <= 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{tuple(input.shape)}; use a batch of more than one sample (or eval mode)"
        )
    stats = {}
    if running_mean is not None:
        stats = {"running_mean": running_mean.array, "running_var": running_var.array}
    out = BatchNorm.apply(input, weight, bias, momentum=float(momentum), eps=float(eps), **stats)
    if running_mean is not None:
        running_mean._version += 1
        running_var._version += 1
    return out


__all__ = ["batch_norm"]
