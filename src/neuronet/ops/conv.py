"""Convolution: conv1d, conv2d, conv_transpose1d, conv_transpose2d (im2col + one GEMM).

A convolution is lowered to a matrix product (see ``_im2col.py``): the input patches become the
columns of ``cols`` (C*kH*kW, N*OH*Wq), and with groups G the weight splits into G row blocks,

    Y_g = W_g · cols_g            W_g: (O/G, C/G*kH*kW),  Y_g: (O/G, N*OH*Wq)

so the forward is one float32 BLAS call per group and the backward two more (dL/dW and the
columns of dL/dx), plus one strided add per kernel tap to fold columns back onto pixels.
Conventions are PyTorch's: weight (out, in/groups, kH, kW) for conv, (in, out/groups, kH, kW)
for transposed conv; padding='same' pads d*(k-1) in total, left = total//2, the extra on the
right/bottom (SEMANTICS #13), and is refused for strided convolutions, as PyTorch does. A
transposed convolution is the adjoint of a convolution with respect to its input, so both share
the same two lowering steps with their roles swapped. 1-d ops run the 2-d code with H = 1.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor
from neuronet.ops import _winograd
from neuronet.ops._conv_checks import check_groups, check_tensors, padding_pairs, positive
from neuronet.ops._im2col import (
    Geometry,
    as_tuple,
    col2im,
    from_rows,
    grouped,
    im2col,
    pad_planes,
    row_buffer,
    to_rows,
    unpad_into,
)
from neuronet.ops._util import shaped


def _to4d(x: np.ndarray, w: np.ndarray) -> tuple:
    """Batch and lift to 2-d: x (N, C, *sp) or (C, *sp) -> (N, C, H, W); w -> (O, I, kH, kW)."""
    if x.ndim == w.ndim - 1:
        x = x[None]
    if w.ndim == 3:
        return x[:, :, None, :], w[:, :, None, :]
    return x, w


def _from4d(y: np.ndarray, x_ndim: int, w_ndim: int) -> np.ndarray:
    """Undo ``_to4d`` on an output (N, O, OH, OW): drop the lifted H axis and the batch axis."""
    shape = y.shape
    if w_ndim == 3:
        shape = shape[:2] + shape[3:]
    if x_ndim == w_ndim - 1:
        shape = shape[1:]
    return y.reshape(shape)


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
    which saves backward a second padding and im2col (a stride-2 read of every tap; measured
    on the resnet's 32 -> 64 channel stride-2 layer, forward + backward 19.5 -> 16.2 ms)."""
    return x.shape[1] * geo.K * geo.L * x.shape[0] <= 3 * x.size


def _scatter_pass(y, geo, groups, w_groups=None, out=None, planes=None, cols=None):
    """The col2im side of a convolution over chunks of images; rows = rows(y).

    With ``out``: out (N, C, H, W) = col2im(W^T · rows) per group, padding cut off (the adjoint
    of a convolution). With ``planes`` (or the columns ``cols`` that forward kept): returns
    sum over chunks of im2col(planes) · rows^T, (G, C/G*K, O/G) (weight gradient).
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


class Convolution(Function):
    """y = conv(x, w) + b, as im2col and one GEMM per group.

    y[n, o, oh, ow] = b[o] + sum over c in group(o), i, j of
                      w[o, c, i, j] * x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    With cols = im2col(x_pad) and Y = W · cols (per group):
        dL/dW    = dL/dY · cols^T
        dL/dcols = W^T · dL/dY,   dL/dx = col2im(dL/dcols) with the padding cut off
        dL/db    = sum over n, oh, ow of dL/dy
    cols is rebuilt chunk by chunk in backward (cheap, in cache) rather than saved (large),
    unless it is small next to the input (``_keeps_columns``: strided convolutions).

    Saves: the padded input (only when the weight needs a gradient; instead its columns when
    they are small, ``_keeps_columns``, or on the Winograd path its transforms, see
    ``_winograd.py``), the weight, the geometry.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        x4, w4 = _to4d(x, weight)
        n = x4.shape[0]
        o = w4.shape[0]
        geo = Geometry(x4.shape[2:], w4.shape[2:], stride, dilation, pads)
        channels = min(x4.shape[1], o)
        ctx.winograd = _winograd.usable(
            w4.shape[2:], stride, dilation, groups, pads, channels, x.dtype
        )
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.cols = False
        if ctx.winograd:  # 3x3, stride 1: 4x fewer multiply-adds (see _winograd.py)
            U = _winograd.transform_kernel(w4)
            out_hw = (geo.OH, geo.OW)
            pad = pads[0]  # the same on all four sides
            y = _winograd.correlate(x4, U, out_hw, bias, keep_input=keep, offset=(pad, pad))
            planes = None
            if keep:  # the weight gradient reuses the input transforms, not the planes
                y, planes = y
        else:
            planes = pad_planes(x4, geo)
            y = np.empty((n, o, geo.OH, geo.OW), dtype=x.dtype)
            w_groups = w4.reshape(groups, o // groups, -1)
            ctx.cols = keep and _keeps_columns(geo, x4)
            cols = _gather_pass(planes, geo, groups, w_groups, bias, out=y, keep=ctx.cols)
            if ctx.cols:
                planes = cols  # what backward needs for dL/dW
        ctx.save_for_backward(planes if keep else None, w4)
        ctx.geo = geo
        ctx.groups = groups
        ctx.shapes = (x.shape, x4.shape, weight.shape)
        return _from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        planes, w4 = ctx.saved
        geo = ctx.geo
        groups = ctx.groups
        in_shape, x_shape, w_shape = ctx.shapes
        o = w4.shape[0]
        grad_y = grad_out.reshape((x_shape[0], o, geo.OH, geo.OW))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(axis=(0, 2, 3))
        if ctx.needs_input_grad[0] and ctx.winograd:
            # dL/dx: dL/dy padded by 2 - pad, correlated with the rotated, transposed kernel
            U = _winograd.transform_kernel(_winograd.rotated(w4))
            rim = 2 - geo.top
            grad_x = _winograd.correlate(grad_y, U, x_shape[2:], offset=(rim, rim))
        elif ctx.needs_input_grad[0]:
            grad_x = np.empty(x_shape, dtype=grad_out.dtype)
        if ctx.needs_input_grad[1] and ctx.winograd:  # "planes" holds the input transforms
            grad_w = _winograd.weight_grad(planes, grad_y).reshape(w_shape)
        scatter_x = ctx.needs_input_grad[0] and not ctx.winograd
        scatter_w = ctx.needs_input_grad[1] and not ctx.winograd
        if scatter_x or scatter_w:
            grad_w_t = _scatter_pass(
                grad_y,
                geo,
                groups,
                w_groups=w4.reshape(groups, o // groups, -1),
                out=grad_x if scatter_x else None,
                planes=planes if scatter_w and not ctx.cols else None,
                cols=planes if scatter_w and ctx.cols else None,
            )
        if scatter_w:
            grad_w = _weight_layout(grad_w_t, w_shape)
        if grad_x is not None:
            grad_x = shaped(grad_x, in_shape)
        return grad_x, grad_w, grad_b


class TransposedConvolution(Function):
    """y = conv_transpose(x, w) + b: the adjoint of a convolution with respect to its input.

    Read the weight w (C_in, C_out/G, kH, kW) as the weight of the "underlying" convolution
    conv_w from C_out to C_in channels, which maps y-sized maps to x-sized ones. Then
        y     = conv_w^T(x) + b,  i.e.  cols = W^T · rows(x),  y = col2im(cols), padding cut off
        dL/dx = conv_w(dL/dy)            = W · im2col(dL/dy)
        dL/dW = rows(x) · im2col(dL/dy)^T   (per group)
        dL/db = sum over n, oh, ow of dL/dy

    Saves: x (only when the weight needs a gradient), the weight, the geometry.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, out_hw):
        x4, w4 = _to4d(x, weight)
        n, c_in = x4.shape[:2]
        c_out = w4.shape[1] * groups
        geo = Geometry(out_hw, w4.shape[2:], stride, dilation, pads, out_hw=x4.shape[2:])
        y = np.empty((n, c_out) + tuple(out_hw), dtype=x.dtype)
        _scatter_pass(x4, geo, groups, w_groups=w4.reshape(groups, c_in // groups, -1), out=y)
        if bias is not None:
            y += bias.reshape(1, c_out, 1, 1)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.save_for_backward(x4 if keep else None, w4)
        ctx.geo = geo
        ctx.groups = groups
        ctx.shapes = (x.shape, weight.shape, y.shape)
        return _from4d(y, x.ndim, weight.ndim)

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
            grad_b = grad_y.sum(axis=(0, 2, 3))
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


def _lift(spatial: int, stride, pads, dilation, extra=None) -> tuple:
    """2-d arguments for the shared 2-d code: 1-d convolutions get a leading H of size 1."""
    if spatial == 1:
        stride = (1,) + stride
        dilation = (1,) + dilation
        pads = ((0, 0),) + pads
        extra = None if extra is None else (1,) + extra
    flat = (pads[0][0], pads[0][1], pads[1][0], pads[1][1])
    return stride, flat, dilation, extra


def _conv(op, spatial, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    check_tensors(op, spatial, input, weight, bias)
    check_groups(op, groups, input.shape[-spatial - 1], weight, 1, 0)
    kernel = tuple(weight.shape[2:])
    stride = positive(op, "stride", stride, spatial)
    dilation = positive(op, "dilation", dilation, spatial)
    pads = padding_pairs(op, padding, spatial, kernel, stride, dilation)
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{op}: bias must have shape ({weight.shape[0]},) (one per output channel), got "
            f"{tuple(bias.shape)}"
        )
    sizes = input.shape[-spatial:]
    padded = tuple(n + a + b for n, (a, b) in zip(sizes, pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        raise ValueError(
            f"{op}: padded input size per channel {padded} is smaller than the dilated kernel "
            f"{reach} (input shape {tuple(input.shape)}, kernel {kernel}, dilation {dilation}); "
            "use a larger input, more padding, or a smaller kernel or dilation"
        )
    stride, flat, dilation, _ = _lift(spatial, stride, pads, dilation)
    return Convolution.apply(
        input, weight, bias, stride=stride, pads=flat, dilation=dilation, groups=int(groups)
    )


def _conv_transpose(
    op, spatial, input, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    check_tensors(op, spatial, input, weight, bias, transposed=True)
    check_groups(op, groups, input.shape[-spatial - 1], weight, 0, 0)
    kernel = tuple(weight.shape[2:])
    stride = positive(op, "stride", stride, spatial)
    dilation = positive(op, "dilation", dilation, spatial)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of {spatial} ints, not a string")
    pads = padding_pairs(op, padding, spatial, kernel, stride, dilation)
    extra = as_tuple(output_padding, spatial, "output_padding", op)
    if any(p < 0 or p >= max(s, d) for p, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding must be smaller than either stride or dilation, got "
            f"output_padding={extra}, stride={stride}, dilation={dilation}"
        )
    c_out = weight.shape[1] * int(groups)
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise ValueError(
            f"{op}: bias must have shape ({c_out},) (one per output channel), got "
            f"{tuple(bias.shape)}"
        )
    sizes = input.shape[-spatial:]
    out = tuple(
        (n - 1) * s - 2 * p[0] + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(sizes, stride, pads, dilation, kernel, extra)
    )
    if any(v < 1 for v in out):
        raise ValueError(
            f"{op}: the output size {out} is not positive for input shape {tuple(input.shape)}; "
            "reduce padding or use a larger input"
        )
    stride, flat, dilation, out = _lift(spatial, stride, pads, dilation, out)
    return TransposedConvolution.apply(
        input,
        weight,
        bias,
        stride=stride,
        pads=flat,
        dilation=dilation,
        groups=int(groups),
        out_hw=out,
    )


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d convolution (cross-correlation) over an input (N, C_in, L) or (C_in, L).

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_out, C_in/groups, k).
        bias: optional (C_out,).
        stride, padding, dilation: ints or 1-tuples; padding may also be 'valid' or 'same'.
        groups: split input and output channels into this many independent groups.

    Returns:
        (N, C_out, L_out) with L_out = (L + 2*padding - dilation*(k-1) - 1) // stride + 1.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d convolution (cross-correlation) over an input (N, C_in, H, W) or (C_in, H, W).

    y[n, o] = b[o] + sum over c in o's group of w[o, c] ⋆ x[n, c]

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in/groups, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (sh, sw) / (dh, dw).
        padding: int, (ph, pw), 'valid' (none) or 'same' (output size = input size; total
            d*(k-1) per dim, the odd cell on the right/bottom; stride must be 1).
        groups: C_in and C_out split into this many groups; groups=C_in is depthwise.

    Returns:
        (N, C_out, OH, OW), OH = (H + pad_top + pad_bottom - dh*(kH-1) - 1) // sh + 1.

    Example:
        >>> import neuronet as nt
        >>> x = nt.ones((1, 1, 4, 4))
        >>> nt.functional.conv2d(x, nt.ones((2, 1, 3, 3)), padding=1).shape
        (1, 2, 4, 4)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """1-d transposed convolution (the gradient of conv1d with respect to its input).

    Args:
        input: (N, C_in, L) or unbatched (C_in, L).
        weight: (C_in, C_out/groups, k).
        output_padding: extra length added on one side of the output (< stride or dilation).

    Returns:
        (N, C_out, L_out), L_out = (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1.
    """
    return _conv_transpose(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """2-d transposed convolution ("deconvolution"): the gradient of conv2d w.r.t. its input.

    Each input pixel scatters a weighted copy of the kernel into the output, so a stride-s
    transposed convolution upsamples by about s.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_in, C_out/groups, kH, kW) (note: in_channels first, as PyTorch).
        bias: optional (C_out,).
        stride, padding, dilation: int or pair; padding d*(k-1)-p is what the underlying
            convolution would see.
        output_padding: extra rows/columns added on the bottom/right (< stride or dilation),
            to pick one of the input sizes a strided convolution maps to the same output size.

    Returns:
        (N, C_out, OH, OW), OH = (H-1)*sh - 2*ph + dh*(kH-1) + output_padding_h + 1.
    """
    return _conv_transpose(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]
