"""Convolution chunk by chunk in cache: the fast path of ``ops/conv.py`` for every convolution
that Winograd (``winograd.py``) does not take.

Same math as the reference (``Convolution``: Y_g = W_g · cols_g, and its adjoint for
``TransposedConvolution``), with the layouts of ``im2col.py``: the batch runs in chunks of a few
images whose column matrix (~4 MB) stays in cache between its im2col copy and its GEMM; a
stride-1 convolution reads contiguous wrap-around rows instead of strided ones; the GEMMs write
into preallocated buffers. Backward rebuilds the columns chunk by chunk from the saved padded
input rather than keeping them (they are kH*kW times larger), except where they are small next
to the input (``_keeps_columns``: strided convolutions).

The two classes use NumPy's col2im (one strided add per tap); their ``Compiled*`` subclasses,
which the public functions take when ``backend.fast.numba``, the numba loop
(``im2col.col2im_compiled``). All four take the reference's arguments.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.ops._util import shaped
from neuronet.ops.conv import Convolution, TransposedConvolution, from4d, to4d
from neuronet.ops.fast.im2col import (
    Geometry,
    col2im_compiled,
    from_rows,
    grouped,
    im2col,
    pad_planes,
    row_buffer,
    to_rows,
    unpad_into,
)
from neuronet.ops.fast.im2col import col2im as col2im_numpy


def bias_grad(grad_y: np.ndarray) -> np.ndarray:
    """dL/db[o] = sum over n, oh, ow of dL/dy[n, o, oh, ow], the per-channel sums as one
    matrix-vector product with ones (3x faster than ``sum(axis=(0, 2, 3))``, which NumPy runs
    as strided passes: 0.11 against 0.37 ms on the cnn's 64 x 32 x 26 x 26)."""
    if not grad_y.flags.c_contiguous or grad_y.size == 0:
        return grad_y.sum(axis=(0, 2, 3))
    n, o = grad_y.shape[:2]
    ones = np.ones(grad_y.size // (n * o), dtype=grad_y.dtype)
    return (grad_y.reshape(n * o, -1) @ ones).reshape(n, o).sum(axis=0)


def _weight_layout(grad_w_t: np.ndarray, w_shape: tuple) -> np.ndarray:
    """(G, C/G*K, O/G) sums -> a fresh array of the weight's shape (G*O/G, C/G, kH, kW)."""
    grad_w = np.empty(w_shape, dtype=grad_w_t.dtype)
    np.copyto(grad_w.reshape(grad_w_t.shape[0], grad_w_t.shape[2], -1), grad_w_t.transpose(0, 2, 1))
    return grad_w


def _weight_grad_buffer(groups: int, c: int, o: int, geo: Geometry, dtype) -> np.ndarray:
    return np.zeros((groups, c * geo.K // groups, o // groups), dtype=dtype)


def _gather_pass(planes, geo, groups, w_groups=None, bias=None, out=None, y=None, keep=False):
    """The im2col side of a convolution over chunks of images; cols = im2col(planes).

    With ``out``: out (N, O, OH, OW) = W · cols per group (+ bias) (convolution); with ``keep``
    the columns of the whole batch are returned, for the weight gradient.
    With ``y``: returns sum over chunks of cols · rows(y)^T, (G, C/G*K, O/G) (weight gradient).
    """
    n, c = planes.shape[:2]
    parts = geo.chunks(n, c, planes.itemsize)
    nb = parts[0].stop - parts[0].start
    kept = np.empty((c * geo.K, n * geo.L), dtype=planes.dtype) if keep else None
    cols_buf = None if keep else np.empty((c * geo.K, nb * geo.L), dtype=planes.dtype)
    if out is not None:
        rows_out = np.empty((groups, out.shape[1] // groups, nb * geo.L), dtype=planes.dtype)
    if y is not None:
        y_rows_buf = row_buffer(y.shape[1], nb, geo, y.dtype)
        grad_w = _weight_grad_buffer(groups, c, y.shape[1], geo, planes.dtype)
    for part in parts:
        buffer = kept[:, part.start * geo.L :] if keep else cols_buf
        cols = grouped(im2col(planes[part], geo, buffer), groups)
        if out is not None:
            rows = np.matmul(w_groups, cols, out=rows_out[:, :, : cols.shape[2]])
            from_rows(rows.reshape(out.shape[1], -1), geo, bias, out[part])
        if y is not None:
            y_rows = grouped(to_rows(y[part], geo, y_rows_buf), groups)
            grad_w += np.matmul(cols, y_rows.transpose(0, 2, 1))
    return grad_w if y is not None else kept


def _keeps_columns(geo: Geometry, x: np.ndarray) -> bool:
    """Whether forward keeps its im2col columns for the weight gradient rather than the padded
    input: when they are at most 3x the input's size (a 3x3 stride-2 convolution: 2.25x),
    which saves backward a second padding and im2col (a stride-2 read of every tap; the gain
    is in docs/performance.md)."""
    return x.shape[1] * geo.K * geo.L * x.shape[0] <= 3 * x.size


def _scatter_pass(y, geo, groups, col2im, w_groups=None, out=None, planes=None, cols=None):
    """The col2im side of a convolution over chunks of images; rows = rows(y).

    With ``out``: out (N, C, H, W) = col2im(W^T · rows) per group, padding cut off (the adjoint
    of a convolution), by the given ``col2im`` (NumPy's or the compiled one).
    With ``planes`` (or the columns ``cols`` that forward kept): returns the sum over chunks of
    im2col(planes) · rows^T, (G, C/G*K, O/G) (weight gradient).
    """
    n, o = y.shape[:2]
    if out is not None:
        c = out.shape[1]
    else:
        c = planes.shape[1] if cols is None else cols.shape[0] // geo.K
    parts = geo.chunks(n, c, y.itemsize)
    nb = parts[0].stop - parts[0].start
    rows_buf = row_buffer(o, nb, geo, y.dtype)
    if out is not None:
        cols_out = np.empty((groups, c * geo.K // groups, nb * geo.L), dtype=y.dtype)
        planes_out = np.empty((nb, c, geo.P), dtype=y.dtype)
        w_t = np.ascontiguousarray(w_groups.transpose(0, 2, 1))  # BLAS-friendly operand
    if planes is not None:
        cols_buf = np.empty((c * geo.K, nb * geo.L), dtype=y.dtype)
    if planes is not None or cols is not None:
        grad_w = _weight_grad_buffer(groups, c, o, geo, y.dtype)
    for part in parts:
        rows = grouped(to_rows(y[part], geo, rows_buf), groups)
        if planes is not None or cols is not None:
            if cols is None:
                part_cols = im2col(planes[part], geo, cols_buf)
            else:
                part_cols = cols[:, part.start * geo.L : part.stop * geo.L]
            grad_w += np.matmul(grouped(part_cols, groups), rows.transpose(0, 2, 1))
        if out is not None:
            grad_cols = np.matmul(w_t, rows, out=cols_out[:, :, : rows.shape[2]])
            chunk = col2im(
                grad_cols.reshape(c * geo.K, -1), geo, planes_out[: part.stop - part.start]
            )
            unpad_into(chunk, geo, out[part])
    return grad_w if planes is not None or cols is not None else None


class ChunkedConvolution(Convolution):
    """``Convolution`` (same formulas) over cache-sized chunks of images (module docstring).

    Saves: the padded input planes, or the im2col columns when they are small
    (``_keeps_columns``), only when the weight needs a gradient; the weight; the geometry.
    """

    col2im = staticmethod(col2im_numpy)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        x4, w4 = to4d(x, weight)
        n = x4.shape[0]
        o = w4.shape[0]
        geo = Geometry(x4.shape[2:], w4.shape[2:], stride, dilation, pads)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        keep_cols = keep and _keeps_columns(geo, x4)
        planes = pad_planes(x4, geo)
        y = np.empty((n, o, geo.OH, geo.OW), dtype=x.dtype)
        w_groups = w4.reshape(groups, o // groups, -1)
        cols = _gather_pass(planes, geo, groups, w_groups, bias, out=y, keep=keep_cols)
        ctx.save_for_backward(planes if keep and not keep_cols else None, cols, w4)
        ctx.geo = geo
        ctx.groups = groups
        ctx.shapes = (x.shape, x4.shape, weight.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        planes, cols, w4 = ctx.saved
        geo = ctx.geo
        groups = ctx.groups
        in_shape, x_shape, w_shape = ctx.shapes
        o = w4.shape[0]
        grad_y = grad_out.reshape((x_shape[0], o, geo.OH, geo.OW))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[2]:
            grad_b = bias_grad(grad_y)
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if need_x:
            grad_x = np.empty(x_shape, dtype=grad_out.dtype)
        if need_x or need_w:
            grad_w_t = _scatter_pass(
                grad_y,
                geo,
                groups,
                ctx.fn.col2im,
                w_groups=w4.reshape(groups, o // groups, -1),
                out=grad_x,
                planes=planes if need_w else None,
                cols=cols if need_w else None,
            )
        if need_w:
            grad_w = _weight_layout(grad_w_t, w_shape)
        if grad_x is not None:
            grad_x = shaped(grad_x, in_shape)
        return grad_x, grad_w, grad_b


class ChunkedTransposedConvolution(TransposedConvolution):
    """``TransposedConvolution`` (same formulas) over cache-sized chunks of images.

    Saves: x (only when the weight needs a gradient), the weight, the geometry.
    """

    col2im = staticmethod(col2im_numpy)

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, out_hw):
        x4, w4 = to4d(x, weight)
        n, c_in = x4.shape[:2]
        c_out = w4.shape[1] * groups
        geo = Geometry(out_hw, w4.shape[2:], stride, dilation, pads, out_hw=x4.shape[2:])
        y = np.empty((n, c_out) + tuple(out_hw), dtype=x.dtype)
        w_groups = w4.reshape(groups, c_in // groups, -1)
        _scatter_pass(x4, geo, groups, ctx.fn.col2im, w_groups=w_groups, out=y)
        if bias is not None:
            y += bias.reshape(1, c_out, 1, 1)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.save_for_backward(x4 if keep else None, w4)
        ctx.geo = geo
        ctx.groups = groups
        ctx.shapes = (x.shape, weight.shape, y.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        x4, w4 = ctx.saved
        geo = ctx.geo
        groups = ctx.groups
        in_shape, w_shape, y_shape = ctx.shapes
        c_in = w4.shape[0]
        grad_y = grad_out.reshape(y_shape)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[2]:
            grad_b = bias_grad(grad_y)
        if not (ctx.needs_input_grad[0] or ctx.needs_input_grad[1]):
            return grad_x, grad_w, grad_b
        if ctx.needs_input_grad[0]:
            grad_x = np.empty((y_shape[0], c_in, geo.OH, geo.OW), dtype=grad_out.dtype)
        grad_w_t = _gather_pass(
            pad_planes(grad_y, geo),
            geo,
            groups,
            w_groups=w4.reshape(groups, c_in // groups, -1),
            out=grad_x,
            y=x4 if ctx.needs_input_grad[1] else None,
        )
        if ctx.needs_input_grad[1]:
            grad_w = _weight_layout(grad_w_t, w_shape)
        if grad_x is not None:
            grad_x = shaped(grad_x, in_shape)
        return grad_x, grad_w, grad_b


class CompiledChunkedConvolution(ChunkedConvolution):
    """``ChunkedConvolution`` whose col2im (in dL/dx = col2im(W^T · dL/dY)) is one numba loop."""

    col2im = staticmethod(col2im_compiled)


class CompiledChunkedTransposedConvolution(ChunkedTransposedConvolution):
    """``ChunkedTransposedConvolution`` whose col2im (its forward) is one numba loop."""

    col2im = staticmethod(col2im_compiled)
