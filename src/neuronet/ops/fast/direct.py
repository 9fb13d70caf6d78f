"""Direct convolution for few output channels: the fast path of ``ops/conv.py`` for LeNet-style
layers.

Same math as the reference (``Convolution``):

    y[b, o, oh, ow] = bias[o] + sum over c, i, j of w[o, c, i, j] * x_pad[b, c, oh + i, ow + j]
    dL/dx_pad[b, c, oh + i, ow + j] += w[o, c, i, j] * dL/dy[b, o, oh, ow]
    dL/dw[o, c, i, j] = sum over b, oh, ow of dL/dy[b, o, oh, ow] * x_pad[b, c, oh + i, ow + j]
    dL/db[o] = sum over b, oh, ow of dL/dy[b, o, oh, ow]

computed tap by tap over wrap-around rows (``direct_kernels.py``) instead of through im2col
columns. im2col copies the input kH*kW times for a GEMM only O rows tall (LeNet's 6 -> 16
channel 5x5 layer: 16 rows), so with few output channels the copies cost more than the
products; the direct loops read the input planes in place. The input gradient is the same loop:
dL/dy, zero padded, convolved with the flipped kernel.

``ops/conv.py`` takes this path when numba is on and ``applies``: stride 1, dilation 1, one
group, and few output channels: at most ``MAX_OUT`` = 16, or up to ``MAX_OUT_WIDE`` = 32 when
the wrap-around rows add at most 30% to the work (the direct loops run on one core, the GEMM on
all of them, so the GEMM gains with more output rows). A 1x1 convolution, whose im2col is no
copy at all, only with at most 8 input channels. The measurements behind the limits are in
docs/performance.md.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.ops._util import shaped
from neuronet.ops.conv import Convolution, from4d, to4d
from neuronet.ops.fast.conv import bias_grad

MAX_OUT = 16  # output channels up to which the direct loops beat im2col + GEMM
MAX_OUT_WIDE = 32  # ... and up to which they do on maps wide enough for little wrap-around
MAX_POINTWISE_IN = 8  # input channels up to which a 1x1 convolution is faster direct


def applies(weight_shape, dtype, stride, pads, dilation, groups, width: int) -> bool:
    """Whether a 2-d convolution with these settings, on inputs ``width`` pixels wide, takes the
    direct path (module docstring)."""
    out_channels, in_channels = weight_shape[:2]
    kw = weight_shape[-1]
    padded = width + pads[2] + pads[3]
    wrap_ok = 10 * padded <= 13 * (padded - kw + 1)  # wrap-around columns at most 30% more
    pointwise = int(np.prod(weight_shape[2:])) == 1
    return (
        tuple(stride) == (1, 1)
        and tuple(dilation) == (1, 1)
        and groups == 1
        and dtype in (np.float32, np.float64)
        and (not pointwise or in_channels <= MAX_POINTWISE_IN)
        and (out_channels <= MAX_OUT or (out_channels <= MAX_OUT_WIDE and wrap_ok))
    )


def pad_planes(x: np.ndarray, pads, kW: int) -> tuple:
    """x (n, C, H, W) -> (planes (n, C, Hp*Wp + kW - 1) zero padded, Wp): rows of width Wp
    followed by kW - 1 zeros, so every tap of every wrap-around row stays inside its plane."""
    n, c, h, w = x.shape
    top, bottom, left, right = pads
    hp, wp = h + top + bottom, w + left + right
    planes = np.zeros((n, c, hp * wp + kW - 1), dtype=x.dtype)
    image = planes[:, :, : hp * wp].reshape(n, c, hp, wp)
    image[:, :, top : top + h, left : left + w] = x
    return planes, wp


def taps(src, w, wp, start, bias, out) -> None:
    """out[b, o, r, s] = bias[o] + sum over c, i, j of w[o, c, i, j] * src[b, c, start + r*wp +
    s + i*wp + j]: the kernels' blocks of four output channels, then a last block of one or
    two (``direct_kernels.taps``, ``taps_pair``)."""
    from neuronet.ops.fast import direct_kernels as k

    k.taps(src, w, wp, start, bias, out)
    if k.split.py_func(w.shape[0]) < w.shape[0]:  # (py_func: the kernels' rule, not compiled)
        k.taps_pair(src, w, wp, start, bias, out)


def weight_grad(planes, grad_y, wp, kH, kW, grad_w) -> None:
    """grad_w = sum over b, p of dL/dy[b, o, p] * planes[b, c, p + i*wp + j]: the kernels'
    groups of five taps, then a kernel row's last three or fewer (``direct_kernels``)."""
    from neuronet.ops.fast import direct_kernels as k

    grad_w[...] = 0
    fives_end = k.fives_end.py_func(kW)
    if fives_end > 0:
        k.weight_grad(planes, grad_y, wp, kH, kW, grad_w)
    if fives_end < kW:
        k.weight_grad_threes(planes, grad_y, wp, kH, kW, grad_w)


class DirectConvolution(Convolution):
    """``Convolution`` (same formulas and arguments) by direct loops over the taps, for the
    stride-1, few-output-channel convolutions of ``applies`` (module docstring).

    Saves: the padded input planes (only when the weight needs a gradient), the weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        x4, w4 = to4d(x, weight)
        w4 = np.ascontiguousarray(w4)
        kH, kW = w4.shape[2:]
        planes, wp = pad_planes(x4, pads, kW)
        hp = x4.shape[2] + pads[0] + pads[1]
        y = np.empty((x4.shape[0], w4.shape[0], hp - kH + 1, wp - kW + 1), dtype=x.dtype)
        taps(planes, w4, wp, 0, np.zeros(w4.shape[0], x.dtype) if bias is None else bias, y)
        keep = ctx.needs_input_grad[1] and is_grad_enabled()
        ctx.save_for_backward(planes if keep else None, w4)
        ctx.geometry = (pads, wp, hp)
        ctx.shapes = (x.shape, x4.shape, weight.shape)
        return from4d(y, x.ndim, weight.ndim)

    @staticmethod
    def backward(ctx, grad_out):
        from neuronet.ops.fast import direct_kernels as k

        planes, w4 = ctx.saved
        (top, _, left, _), wp, hp = ctx.geometry
        in_shape, x_shape, w_shape = ctx.shapes
        n, _, h, w = x_shape
        o, _, kH, kW = w4.shape
        grad_y = np.ascontiguousarray(grad_out.reshape((n, o, hp - kH + 1, wp - kW + 1)))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            flipped = np.ascontiguousarray(w4[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
            grad_x = np.empty(x_shape, dtype=grad_y.dtype)
            pair = k.split.py_func(x_shape[1]) < x_shape[1]  # (py_func: not compiled)
            (k.input_grad_pair if pair else k.input_grad)(grad_y, flipped, wp, top, left, grad_x)
            grad_x = shaped(grad_x, in_shape)
        if ctx.needs_input_grad[1]:
            grad_w = np.empty(w4.shape, dtype=grad_y.dtype)
            weight_grad(planes, grad_y, wp, kH, kW, grad_w)
            grad_w = grad_w.reshape(w_shape)
        if ctx.needs_input_grad[2]:
            grad_b = bias_grad(grad_y)
        return grad_x, grad_w, grad_b
