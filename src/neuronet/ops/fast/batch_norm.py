"""Compiled batch normalization: the numba path of ``ops/batch_norm.py`` (same formulas).

Forward and backward as fused kernels (``normalization_kernels.py``), one sweep per channel
instead of one pass per NumPy ufunc, in the layout that suits the input:

- over spatial axes, (N, C, S > 1): saves x and the mean instead of x_hat, and backward
  recomputes x_hat on the fly (forward writes one array less);
- without spatial axes, (N, C): the ``columns_*`` kernels, whose inner loops run over C;
  saves x_hat;
- eval mode: forward is the reference's x * scale + shift; the backward is one fused pass
  when there are spatial axes.

``batch_norm`` chooses these when ``backend.fast.numba``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.batch_norm import BatchNorm, FixedBatchNorm, update_running
from neuronet.ops.fast.normalization import flat, fused_grads, outputs


def _kernels():
    from neuronet.ops.fast import normalization_kernels

    return normalization_kernels


class CompiledBatchNorm(BatchNorm):
    """``BatchNorm`` (training mode) as fused kernels; running statistics as the reference.

    dL/dx = inv_std * weight * (dL/dy - mean(dL/dy) - x_hat * mean(dL/dy * x_hat)).
    Saves: x, inv_std, weight (and the mean) with spatial axes, recomputing x_hat in backward;
    x_hat, inv_std, weight for (N, C) inputs.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean=None, running_var=None, momentum=0.1, eps=1e-5):
        c = x.shape[1]
        k = _kernels()
        x3 = np.ascontiguousarray(x).reshape(x.shape[0], c, -1)
        mean, var, inv_std = (np.empty(c, dtype=x.dtype) for _ in range(3))
        w, has_w = flat(weight, x.dtype)
        b, has_b = flat(bias, x.dtype)
        if x3.shape[2] > 1:  # keep x, not x_hat: backward recomputes x_hat on the fly
            y = np.empty_like(x3)
            k.channels_forward(x3, w, b, has_w, has_b, eps, y, mean, var, inv_std)
            ctx.save_for_backward(x3, inv_std, weight)
            ctx.mean = mean
        else:  # (N, C): the kernels whose inner loops run over C
            x2 = x3.reshape(x3.shape[:2])
            x_hat, y = outputs(ctx, x2)
            k.columns_forward(x2, w, b, has_w, has_b, eps, x_hat, y, mean, var, inv_std)
            ctx.save_for_backward(x_hat, inv_std, weight)
        if running_mean is not None:
            update_running(running_mean, running_var, mean, var, momentum, x.size // c)
        ctx.x_shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        saved, inv_std, weight = ctx.saved  # x (N, C, S) with spatial axes, else x_hat (N, C)
        if saved.ndim == 2:
            kernel = _kernels().columns_backward
            return fused_grads(ctx, kernel, grad_out, saved, inv_std, weight, (saved.shape[1],))
        x3 = saved
        need = ctx.needs_input_grad
        w, has_w = flat(weight, x3.dtype)
        grad_x = np.empty_like(x3) if need[0] else np.empty((0, 0, 0), x3.dtype)
        grad_w = np.empty(x3.shape[1], dtype=x3.dtype)
        grad_b = np.empty_like(grad_w)
        grad_y = np.ascontiguousarray(grad_out).reshape(x3.shape)
        _kernels().channels_backward(
            grad_y, x3, ctx.mean, inv_std, w, has_w, bool(need[0]), grad_x, grad_w, grad_b
        )
        return (
            grad_x.reshape(ctx.x_shape) if need[0] else None,
            grad_w if need[1] else None,
            grad_b if len(need) > 2 and need[2] else None,
        )


class CompiledFixedBatchNorm(FixedBatchNorm):
    """``FixedBatchNorm`` (eval mode) whose backward is one fused pass over (N, C, S > 1).

    dL/dx = dL/dy * scale;  dL/dweight = sum(dL/dy * (x - running_mean)) * inv_std;
    dL/dbias = sum(dL/dy).  Saves: x, running_mean, inv_std, scale.
    """

    @staticmethod
    def backward(ctx, grad_out):
        x3, mean, inv_std, scale = ctx.saved
        if x3.shape[2] == 1 or not x3.flags.c_contiguous:  # the reference is as fast there
            return FixedBatchNorm.backward(ctx, grad_out)
        need = ctx.needs_input_grad
        grad_x = np.empty(ctx.x_shape, x3.dtype) if need[0] else np.empty(0, x3.dtype)
        grad_w = np.empty(x3.shape[1], dtype=x3.dtype)
        grad_b = np.empty_like(grad_w)
        grad_y = np.ascontiguousarray(grad_out).reshape(x3.shape)
        stats = (mean.reshape(-1), inv_std.reshape(-1), scale.reshape(-1))
        out = grad_x.reshape(x3.shape) if need[0] else np.empty((0, 0, 0), x3.dtype)
        _kernels().fixed_channels_backward(grad_y, x3, *stats, bool(need[0]), out, grad_w, grad_b)
        return (
            (grad_x if need[0] else None),
            (grad_w if need[1] else None),
            (grad_b if need[2] else None),
        )
