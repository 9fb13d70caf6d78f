"""Adaptive pooling: adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d.

The output size is given instead of a kernel: an input length L pooled to n outputs is split
into the bins [floor(i*L/n), ceil((i+1)*L/n)), i = 0..n-1, which cover L and may overlap by one
cell when n does not divide L (or repeat cells when n > L). Per output (oh, ow):

    average:  y = mean of x over bin_h(oh) x bin_w(ow) = (A_h · x · A_w^T)[oh, ow]
              dL/dx = A_h^T · dL/dy · A_w     (A: the (n, L) bin-averaging matrix of an axis)
    maximum:  y = max of x over the bin;  dL/dx = dL/dy at the bin's (first) maximum

Conventions are PyTorch's: ties go to the first cell in row-major order, a NaN in a bin wins, and
``return_indices`` gives the flat index h*W + w of each maximum in its input plane. Inputs are
(N, C, *sp) or unbatched (C, *sp); 1-d ops run the 2-d code with H = 1 (``pooling.py``'s
``_batch4d``), and a batch of zero samples gives an empty result. ``adaptive_avg_pool2d(x, 1)``
is global average pooling. Fixed-window pooling is in ``ops/pooling.py``.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import as_tuple, shaped
from neuronet.ops._windows import averaging_matrix, bin_members, first_max
from neuronet.ops.pooling import _batch4d, _check_input


class AdaptiveAvgPool(Function):
    """y = mean of x over adaptive bins: y[n, c] = A_h · x[n, c] · A_w^T.

    A_h (OH, H) and A_w (OW, W) average the bins [floor(i*L/n), ceil((i+1)*L/n)) of each axis,
    so the op is two small matrix products (one BLAS GEMM each):
        dL/dx[n, c] = A_h^T · dL/dy[n, c] · A_w

    Global pooling (output 1 x 1) is simply the mean over H*W, and its gradient dL/dy / (H*W).

    Saves: A_h and A_w (None for an axis that is not pooled).
    """

    @staticmethod
    def forward(ctx, x, spatial, out_hw):
        x4 = _batch4d(x, spatial)
        n, c, h, w = x4.shape
        oh, ow = out_hw
        ctx.shapes = (x.shape, x4.shape)
        out_shape = tuple(x.shape[: x.ndim - spatial]) + tuple(out_hw)[2 - spatial :]
        ctx.global_mean = (oh, ow) == (1, 1)
        if ctx.global_mean:
            return x4.reshape(n, c, h * w).mean(axis=2, dtype=x.dtype).reshape(out_shape)
        a_h = None if oh == h else averaging_matrix(h, oh, x.dtype)
        a_w = None if ow == w else averaging_matrix(w, ow, x.dtype)
        y = x4
        if a_w is not None:
            y = (y.reshape(-1, w) @ a_w.T).reshape(n, c, h, ow)
        if a_h is not None:
            y = np.tensordot(a_h, y, axes=(1, 2)).transpose(1, 2, 0, 3)
        ctx.save_for_backward(a_h, a_w)
        return np.ascontiguousarray(y).reshape(out_shape)

    @staticmethod
    def backward(ctx, grad_out):
        in_shape, (n, c, h, w) = ctx.shapes
        if ctx.global_mean:
            grad_x = np.empty(in_shape, dtype=grad_out.dtype)
            scaled = grad_out.reshape(n, c, 1, 1) / grad_out.dtype.type(h * w)
            np.copyto(grad_x.reshape(n, c, h, w), scaled)
            return (grad_x,)
        a_h, a_w = ctx.saved
        grad = grad_out.reshape(n, c, -1, grad_out.shape[-1])
        if a_h is not None:
            grad = np.tensordot(a_h, grad, axes=(0, 2)).transpose(1, 2, 0, 3)
        if a_w is not None:
            grad = np.ascontiguousarray(grad).reshape(-1, grad.shape[-1]) @ a_w
        return (shaped(np.ascontiguousarray(grad), in_shape),)


class AdaptiveMaxPool(Function):
    """y = max of x over adaptive bins [floor(i*L/n), ceil((i+1)*L/n)) of each axis.

    dL/dx[n, c, h, w] = sum over outputs whose (first) maximum is x[n, c, h, w] of dL/dy
    (bins can overlap by one cell, so an input can win two outputs).

    Kinks: ties go to the first cell in row-major order; a NaN in a bin is the maximum.
    Saves: the flat input index (h*W + w) of each output's maximum.
    """

    @staticmethod
    def forward(ctx, x, spatial, out_hw, return_indices):
        x4 = _batch4d(x, spatial)
        n, c, h, w = x4.shape
        rows = bin_members(h, out_hw[0])
        cols = bin_members(w, out_hw[1])
        gathered = x4[:, :, rows[:, :, None, None], cols[None, None, :, :]]

        def taps():
            for a in range(rows.shape[1]):
                for b in range(cols.shape[1]):
                    yield a * cols.shape[1] + b, gathered[:, :, :, a, :, b]

        best, arg = first_max(taps, rows.shape[1] * cols.shape[1])
        a, b = np.divmod(arg.astype(np.intp), cols.shape[1])
        flat = rows[np.arange(out_hw[0])[:, None], a] * w + cols[np.arange(out_hw[1]), b]
        ctx.save_for_backward(flat)
        ctx.shapes = (x.shape, x4.shape)
        out_shape = tuple(x.shape[: x.ndim - spatial]) + tuple(out_hw)[2 - spatial :]
        y = best.reshape(out_shape)
        if not return_indices:
            return y
        indices = flat.astype(np.int64).reshape(out_shape)
        ctx.mark_non_differentiable(indices)
        return y, indices

    @staticmethod
    def backward(ctx, grad_out, *unused):
        (flat,) = ctx.saved
        in_shape, (n, c, h, w) = ctx.shapes
        base = (np.arange(n * c, dtype=np.int64) * (h * w)).reshape(n, c, 1, 1)
        grad = np.bincount((base + flat).ravel(), weights=grad_out.ravel(), minlength=n * c * h * w)
        return (shaped(grad.astype(grad_out.dtype), in_shape),)


def _adaptive_size(op: str, input, output_size, spatial: int) -> tuple:
    """output_size (int, tuple, None entries keep the input size) as a 2-d (OH, OW)."""
    sizes = tuple(input.shape[-spatial:])
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != spatial:
            raise ValueError(
                f"{op}: output_size must have {spatial} entries, got {tuple(output_size)}"
            )
        output_size = tuple(n if o is None else o for o, n in zip(output_size, sizes))
    out = as_tuple(output_size, spatial, "output_size", op)
    if any(o < 1 for o in out):
        raise ValueError(f"{op}: output_size must be positive, got {out}")
    return ((1,) + out) if spatial == 1 else out


def _empty_batch(input, out: tuple, spatial: int, return_indices=None):
    """The result for a batch of zero samples: empty outputs (and indices), zero gradients."""
    from neuronet.ops._empty import EmptyResult

    shape = tuple(input.shape[: input.ndim - spatial]) + tuple(out)[2 - spatial :]
    y = EmptyResult.apply(input, shape=shape)
    return (y, Tensor(np.zeros(shape, dtype=np.int64))) if return_indices else y


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average over ``output_size`` adaptive bins of (N, C, L) or (C, L)."""
    _check_input("adaptive_avg_pool1d", input, 1)
    out = _adaptive_size("adaptive_avg_pool1d", input, output_size, 1)
    if input.array.size == 0:
        return _empty_batch(input, out, 1)
    return AdaptiveAvgPool.apply(input, spatial=1, out_hw=out)


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average over adaptive bins so the output is exactly ``output_size`` (OH, OW).

    Bin i of a length-L axis covers [floor(i*L/n), ceil((i+1)*L/n)); bins may overlap when n
    does not divide L. ``output_size`` is an int, a pair, or a pair with None to keep that axis.
    ``adaptive_avg_pool2d(x, 1)`` is global average pooling.
    """
    _check_input("adaptive_avg_pool2d", input, 2)
    out = _adaptive_size("adaptive_avg_pool2d", input, output_size, 2)
    if input.array.size == 0:
        return _empty_batch(input, out, 2)
    return AdaptiveAvgPool.apply(input, spatial=2, out_hw=out)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive bins of (N, C, L) or (C, L)."""
    _check_input("adaptive_max_pool1d", input, 1)
    out = _adaptive_size("adaptive_max_pool1d", input, output_size, 1)
    if input.array.size == 0:
        return _empty_batch(input, out, 1, return_indices)
    return AdaptiveMaxPool.apply(input, spatial=1, out_hw=out, return_indices=return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive bins (see ``adaptive_avg_pool2d``); indices are h*W + w (int64)."""
    _check_input("adaptive_max_pool2d", input, 2)
    out = _adaptive_size("adaptive_max_pool2d", input, output_size, 2)
    if input.array.size == 0:
        return _empty_batch(input, out, 2, return_indices)
    return AdaptiveMaxPool.apply(input, spatial=2, out_hw=out, return_indices=return_indices)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
]
