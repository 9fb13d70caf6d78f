"""Compiled normalization: the numba paths of ``ops/normalization.py`` (batch norm's are in
``batch_norm.py``).

Each Function here is its reference with forward and backward as fused kernels
(``normalization_kernels.py``) that make one sweep per row, group or channel instead of one
pass per NumPy ufunc; the formulas are the reference's. Kernel conventions: C-contiguous
arrays of one dtype; an absent weight or bias is an empty array plus a flag (one compiled
signature per dtype). Layouts:

layer_norm and rms_norm see x as rows (M, D), group_norm as (N, G, C/G, S).

The public functions choose these when ``backend.fast.numba``.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.ops._normalization_util import recording
from neuronet.ops.normalization import GroupNorm, LayerNorm, RMSNorm


def _kernels():
    from neuronet.ops.fast import normalization_kernels

    return normalization_kernels


def flat(a, dtype):
    """(a flattened, True), or (an empty array, False) for an absent weight or bias."""
    if a is None:
        return np.empty(0, dtype=dtype), False
    return np.ascontiguousarray(a).reshape(-1), True


def outputs(ctx, x: np.ndarray):
    """x_hat and y buffers; one buffer serves both when no graph will keep x_hat."""
    x_hat = np.empty_like(x)
    return x_hat, (np.empty_like(x) if recording(ctx) else x_hat)


def fused_grads(ctx, kernel, grad_out, x_hat, inv_std, weight, param_shape, *flags):
    """Call a ``*_backward`` kernel; returns dL/dx (shaped as x) and the parameter grads."""
    w, has_w = flat(weight, x_hat.dtype)
    need = ctx.needs_input_grad
    grad_x = np.empty_like(x_hat) if need[0] else np.empty((0,) * x_hat.ndim, x_hat.dtype)
    grad_w = np.empty(math.prod(param_shape), dtype=x_hat.dtype)
    grad_b = np.empty_like(grad_w)
    grad_y = np.ascontiguousarray(grad_out).reshape(x_hat.shape)
    kernel(grad_y, x_hat, inv_std, w, has_w, *flags, bool(need[0]), grad_x, grad_w, grad_b)
    grad_x = grad_x.reshape(ctx.x_shape) if need[0] else None
    grad_w = grad_w.reshape(param_shape) if need[1] else None
    grad_b = grad_b.reshape(param_shape) if len(need) > 2 and need[2] else None
    return grad_x, grad_w, grad_b


def _rows_forward(ctx, x, weight, bias, normalized_shape, eps, center):
    d = math.prod(normalized_shape)
    x2 = np.ascontiguousarray(x).reshape(-1, d)
    ctx.shapes = (x.shape, normalized_shape)
    ctx.x_shape = x.shape
    x_hat, y = outputs(ctx, x2)
    inv_std = np.empty(x2.shape[0], dtype=x.dtype)
    w, has_w = flat(weight, x.dtype)
    b, has_b = flat(bias, x.dtype)
    _kernels().rows_forward(x2, w, b, has_w, has_b, center, eps, x_hat, y, inv_std)
    ctx.save_for_backward(x_hat, inv_std, weight)
    return y.reshape(x.shape)


def _rows_backward(ctx, grad_out, center):
    x_hat, inv_std, weight = ctx.saved
    shape = ctx.shapes[1]
    kernel = _kernels().rows_backward
    return fused_grads(ctx, kernel, grad_out, x_hat, inv_std, weight, shape, center)


class CompiledLayerNorm(LayerNorm):
    """``LayerNorm`` as two fused kernels (``rows_forward``/``rows_backward`` with centering).

    dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),  g = dL/dy * weight.
    Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape=(1,), eps=1e-5):
        return _rows_forward(ctx, x, weight, bias, normalized_shape, eps, True)

    @staticmethod
    def backward(ctx, grad_out):
        return _rows_backward(ctx, grad_out, True)


class CompiledRMSNorm(RMSNorm):
    """``RMSNorm`` as two fused kernels (the row kernels without centering).

    dL/dx = inv_rms * (g - x_hat * mean(g * x_hat)),  g = dL/dy * weight.
    Saves: x_hat, inv_rms, weight.
    """

    @staticmethod
    def forward(ctx, x, weight, normalized_shape=(1,), eps=1e-6):
        return _rows_forward(ctx, x, weight, None, normalized_shape, eps, False)

    @staticmethod
    def backward(ctx, grad_out):
        grad_x, grad_weight, _ = _rows_backward(ctx, grad_out, False)
        return grad_x, grad_weight


class CompiledGroupNorm(GroupNorm):
    """``GroupNorm`` as two fused kernels over x viewed as (N, G, C/G, S).

    dL/dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) per group,  g = dL/dy * weight.
    Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups=1, eps=1e-5):
        n_, c = x.shape[:2]
        x4 = np.ascontiguousarray(x).reshape(n_, num_groups, c // num_groups, -1)
        ctx.x_shape = x.shape
        x_hat, y = outputs(ctx, x4)
        inv_std = np.empty((n_, num_groups), dtype=x.dtype)
        w, has_w = flat(weight, x.dtype)
        b, has_b = flat(bias, x.dtype)
        _kernels().groups_forward(x4, w, b, has_w, has_b, eps, x_hat, y, inv_std)
        ctx.save_for_backward(x_hat, inv_std, weight)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved
        c = ctx.x_shape[1]
        kernel = _kernels().groups_backward
        return fused_grads(ctx, kernel, grad_out, x_hat, inv_std, weight, (c,))
