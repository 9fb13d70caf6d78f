"""Convolution: conv1d, conv2d, conv_transpose1d, conv_transpose2d, as im2col and a GEMM.

A convolution is lowered to a matrix product (``_im2col.py``): the receptive field of every
output pixel becomes a column of ``cols`` (C*kH*kW, N*OH*OW), and with G groups the weight
splits into G row blocks,

    Y_g = W_g · cols_g            W_g: (O/G, C/G*kH*kW),  Y_g: (O/G, N*OH*OW)

Conventions are PyTorch's: weight (out, in/groups, kH, kW) for conv, (in, out/groups, kH, kW)
for transposed conv; padding='same' pads d*(k-1) in total, left = total//2, the extra on the
right/bottom (docs/semantics.md, "Convolution padding='same'"), and is refused for strided
convolutions, as PyTorch does. A transposed convolution is the adjoint of a convolution with
respect to its input, so it runs the same two steps with their roles swapped. 1-d ops run the
2-d code with H = 1.

The classes here are the reference. The public functions choose, in ``_conv`` and
``_conv_transpose``, the fast paths of ``ops/fast/`` when ``backend.fast`` allows: Winograd's
F(4x4, 3x3) for 3x3 stride-1 convolutions (``fast/winograd.py``), direct loops over the taps
for stride-1 convolutions of few input channels (``fast/direct.py``), else the same im2col +
GEMM run chunk by chunk in cache (``fast/conv.py``).
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor
from neuronet.ops._conv_checks import check_groups, check_tensors, padding_pairs, positive
from neuronet.ops._im2col import Geometry, col2im, from_rows, grouped, im2col, stacked, to_rows
from neuronet.ops._util import as_tuple, swap_last


def to4d(x: np.ndarray, w: np.ndarray) -> tuple:
    """Batch and lift to 2-d: x (N, C, *sp) or (C, *sp) -> (N, C, H, W); w -> (O, I, kH, kW)."""
    if x.ndim == w.ndim - 1:
        x = x[None]
    if w.ndim == 3:
        return x[:, :, None, :], w[:, :, None, :]
    return x, w


def from4d(y: np.ndarray, x_ndim: int, w_ndim: int) -> np.ndarray:
    """Undo ``to4d`` on an output (N, O, OH, OW): drop the lifted H axis and the batch axis."""
    shape = y.shape
    if w_ndim == 3:
        shape = shape[:2] + shape[3:]
    if x_ndim == w_ndim - 1:
        shape = shape[1:]
    return y.reshape(shape)


class Convolution(Function):
    """y = conv(x, w) + b, as im2col and one matrix product per group.

    y[n, o, oh, ow] = b[o] + sum over c in group(o), i, j of
                      w[o, c, i, j] * x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    With cols = im2col(x) (``_im2col.py``) and, per group g, Y_g = W_g · cols_g:
        dL/dW_g    = dL/dY_g · cols_gᵀ
        dL/dcols_g = W_gᵀ · dL/dY_g,    dL/dx = col2im(dL/dcols)
        dL/db      = sum over n, oh, ow of dL/dy

    Saves: cols (when the weight needs a gradient), the weight as row blocks, the geometry.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        x4, w4 = to4d(x, weight)
        geo = Geometry(x4.shape[2:], w4.shape[2:], stride, dilation, pads)
        cols = grouped(im2col(x4, geo), groups)  # (G, C/G*K, N*L)
        w_rows = w4.reshape(groups, w4.shape[0] // groups, -1)  # (G, O/G, C/G*K)
        y = from_rows(np.matmul(w_rows, cols).reshape(w4.shape[0], -1), x4.shape[0], geo)
        if bias is not None:
            y += bias.reshape(1, -1, 1, 1)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.save_for_backward(cols if keep else None, w_rows)
        ctx.geo = geo
        ctx.shapes = (x.shape, x4.shape, weight.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        cols, w_rows = ctx.saved
        in_shape, x4_shape, w_shape = ctx.shapes
        n = x4_shape[0]
        grad_y = grad_out.reshape(n, w_shape[0], ctx.geo.OH, ctx.geo.OW)
        grad_rows = grouped(to_rows(grad_y), w_rows.shape[0])  # (G, O/G, N*L)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_cols = np.matmul(swap_last(w_rows), grad_rows)  # W_gᵀ · dL/dY_g
            grad_x = col2im(stacked(grad_cols), n, ctx.geo)
            grad_x = grad_x.reshape(in_shape)
        if ctx.needs_input_grad[1]:
            grad_w = np.matmul(grad_rows, swap_last(cols)).reshape(w_shape)  # dL/dY_g · cols_gᵀ
        if ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


class TransposedConvolution(Function):
    """y = conv_transpose(x, w) + b: the adjoint of a convolution with respect to its input.

    Read the weight w (C_in, C_out/G, kH, kW) as the weight of the "underlying" convolution
    conv_w from C_out to C_in channels, which maps y-sized maps to x-sized ones. Per group g:
        y        = col2im(W_gᵀ · rows(x)_g) + b        rows(x): x as (C_in, N*H*W)
        dL/dx    = conv_w(dL/dy):  rows(dL/dx)_g = W_g · im2col(dL/dy)_g
        dL/dW_g  = rows(x)_g · im2col(dL/dy)_gᵀ
        dL/db    = sum over n, oh, ow of dL/dy

    Saves: rows(x) (when the weight needs a gradient), the weight as row blocks, the geometry.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups, out_hw):
        x4, w4 = to4d(x, weight)
        n = x4.shape[0]
        geo = Geometry(out_hw, w4.shape[2:], stride, dilation, pads, out_hw=x4.shape[2:])
        x_rows = grouped(to_rows(x4), groups)  # (G, C_in/G, N*H*W)
        w_rows = w4.reshape(groups, w4.shape[0] // groups, -1)  # (G, C_in/G, C_out/G*K)
        cols = np.matmul(swap_last(w_rows), x_rows)  # W_gᵀ · rows(x)_g
        y = col2im(stacked(cols), n, geo)
        y = y + bias.reshape(1, -1, 1, 1) if bias is not None else np.ascontiguousarray(y)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.save_for_backward(x_rows if keep else None, w_rows)
        ctx.geo = geo
        ctx.shapes = (x.shape, weight.shape, y.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        x_rows, w_rows = ctx.saved
        in_shape, w_shape, y_shape = ctx.shapes
        grad_y = grad_out.reshape(y_shape)
        grad_cols = grouped(im2col(grad_y, ctx.geo), w_rows.shape[0])  # (G, C_out/G*K, N*H*W)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_rows = np.matmul(w_rows, grad_cols)  # W_g · im2col(dL/dy)_g
            grad_x = from_rows(grad_rows.reshape(w_shape[0], -1), y_shape[0], ctx.geo)
            grad_x = grad_x.reshape(in_shape)
        if ctx.needs_input_grad[1]:
            grad_w = np.matmul(x_rows, swap_last(grad_cols)).reshape(w_shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(axis=(0, 2, 3))
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
    params = {"stride": stride, "pads": flat, "dilation": dilation, "groups": int(groups)}
    if not backend.fast.enabled:
        return Convolution.apply(input, weight, bias, **params)
    channels = min(input.shape[-spatial - 1], weight.shape[0])
    kernel = (1,) * (2 - spatial) + kernel
    if backend.fast.numba and winograd.applies(kernel, channels, input.dtype, **params):
        return winograd.WinogradConvolution.apply(input, weight, bias, **params)
    width = input.shape[-1]
    if backend.fast.numba and direct.applies(weight.shape, input.dtype, **params, width=width):
        return direct.DirectConvolution.apply(input, weight, bias, **params)
    if backend.fast.numba:
        return chunked.CompiledChunkedConvolution.apply(input, weight, bias, **params)
    return chunked.ChunkedConvolution.apply(input, weight, bias, **params)


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
    params = {"stride": stride, "pads": flat, "dilation": dilation, "groups": int(groups)}
    if not backend.fast.enabled:
        return TransposedConvolution.apply(input, weight, bias, **params, out_hw=out)
    if backend.fast.numba:
        fn = chunked.CompiledChunkedTransposedConvolution
    else:
        fn = chunked.ChunkedTransposedConvolution
    return fn.apply(input, weight, bias, **params, out_hw=out)


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


# The fast paths subclass the Functions above (same contract), so they are imported after them.
from neuronet.ops.fast import conv as chunked  # noqa: E402
from neuronet.ops.fast import direct, winograd  # noqa: E402

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]
