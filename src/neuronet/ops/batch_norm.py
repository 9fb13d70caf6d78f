"""Batch normalization: batch_norm, training mode (batch statistics, running averages updated in
place) and eval mode (fixed running statistics). The derivation and the shared NumPy helpers
are in ``normalization.py``; here x is viewed as (N, C, S) and normalised per channel over N
and S. With numba on (``backend.fast.numba``), ``batch_norm`` takes the compiled Functions of
``ops/fast/normalization.py`` (same formulas, fused kernels).
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._normalization_util import check_input, check_param
from neuronet.ops.normalization import affine, affine_grads, normalize, normalize_backward, per_b


def update_running(running_mean, running_var, mean, var, momentum: float, n: int) -> None:
    """running = (1 - momentum) * running + momentum * batch, in place; the variance enters
    unbiased, var * n / (n - 1) (PyTorch; docs/semantics.md, "BatchNorm running variance")."""
    c = running_mean.shape[0]
    running_mean *= 1.0 - momentum
    running_mean += momentum * mean.reshape(c)
    running_var *= 1.0 - momentum
    running_var += (momentum * n / (n - 1)) * var.reshape(c)


class BatchNorm(Function):
    """Batch normalization with batch statistics (training mode), x viewed as (N, C, S).

    mean, var = mean and biased variance of x over (N, S) per channel  (n = N * S)
    y = (x - mean) / sqrt(var + eps) * weight + bias

    dL/dx      = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),  g = dL/dy * weight
    dL/dweight = sum over (N, S) of dL/dy * x_hat;   dL/dbias = sum over (N, S) of dL/dy

    When running statistics are given they are updated in place, with the UNBIASED variance
    (PyTorch; Keras uses the biased one): running = (1 - momentum) * running + momentum * batch,
    batch var * n / (n - 1) for running_var.

    Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        x3 = np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)
        x_hat, mean, var, inv_std = normalize(x3, eps)
        w = None if weight is None else per_b(weight)
        y = affine(ctx, x_hat, w, None if bias is None else per_b(bias))
        if running_mean is not None:
            update_running(running_mean, running_var, mean, var, momentum, x.size // x.shape[1])
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.x_shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved
        c = x_hat.shape[1]
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
        y = x3 * scale
        y += shift
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x3, mean, inv_std, scale = ctx.saved
        grad_y = grad_out.reshape(x3.shape)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = np.empty(ctx.x_shape, dtype=x3.dtype)
            np.multiply(grad_y, scale, out=grad_x.reshape(x3.shape))
        x_hat = (x3 - mean) * inv_std if ctx.needs_input_grad[1] else None
        grad_weight, grad_bias = affine_grads(ctx, grad_y, x_hat, "ncs->c", (x3.shape[1],))
        return grad_x, grad_weight, grad_bias


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
        stats = {"running_mean": running_mean.array, "running_var": running_var.array}
        fn = fast_norm.CompiledFixedBatchNorm if backend.fast.numba else FixedBatchNorm
        return fn.apply(input, weight, bias, **stats, eps=float(eps))
    if input.array.size // c <= 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{tuple(input.shape)}; use a batch of more than one sample (or eval mode)"
        )
    stats = {}
    if running_mean is not None:
        stats = {"running_mean": running_mean.array, "running_var": running_var.array}
    fn = fast_norm.CompiledBatchNorm if backend.fast.numba else BatchNorm
    out = fn.apply(input, weight, bias, momentum=float(momentum), eps=float(eps), **stats)
    if running_mean is not None:
        running_mean._version += 1
        running_var._version += 1
    return out


# The fast paths subclass the Functions above (same contract), so they are imported after them.
from neuronet.ops.fast import batch_norm as fast_norm  # noqa: E402

__all__ = ["batch_norm"]
