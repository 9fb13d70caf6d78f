"""Direct convolution for few channels: the fast path of ``ops/conv.py`` for LeNet-style layers.

Same math as the reference (``Convolution``):

    y[b, o, oh, ow] = bias[o] + sum over c, i, j of w[o, c, i, j] * x_pad[b, c, oh + i, ow + j]
    dL/dx_pad[b, c, oh + i, ow + j] += w[o, c, i, j] * dL/dy[b, o, oh, ow]
    dL/dw[o, c, i, j] = sum over b, oh, ow of dL/dy[b, o, oh, ow] * x_pad[b, c, oh + i, ow + j]
    dL/db[o] = sum over b, oh, ow of dL/dy[b, o, oh, ow]

computed tap by tap over wrap-around rows (``direct_kernels.py``) instead of through im2col
columns. With few input channels the im2col matrix is kH*kW times the input and its GEMMs are
thin (a 5x5 convolution of 6 channels into 16: 150 x 16), so copying the columns costs more
than the products; the direct loops read the input planes in place. ``ops/conv.py`` takes this
path when numba is on and ``applies``: stride 1, dilation 1, one group and at most
``MAX_TAPS`` = C*kH*kW products per output pixel (the measurements are in
docs/performance.md).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.ops._util import shaped
from neuronet.ops.conv import Convolution, from4d, to4d

MAX_TAPS = 32  # C*kH*kW above which im2col and its GEMM are faster (docs/performance.md)


def applies(weight_shape, dtype, stride, pads, dilation, groups) -> bool:
    """Whether a 2-d convolution with these settings takes the direct path."""
    taps = int(np.prod(weight_shape[1:]))
    return (
        tuple(stride) == (1, 1)
        and tuple(dilation) == (1, 1)
        and groups == 1
        and taps <= MAX_TAPS
        and dtype in (np.float32, np.float64)
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


class DirectConvolution(Convolution):
    """``Convolution`` (same formulas and arguments) by direct loops over the taps, for the
    stride-1, few-channel convolutions of ``applies`` (module docstring).

    Saves: the padded input planes (only when the weight needs a gradient), the weight.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        from neuronet.ops.fast import direct_kernels as k

        x4, w4 = to4d(x, weight)
        w4 = np.ascontiguousarray(w4)
        kH, kW = w4.shape[2:]
        planes, wp = pad_planes(x4, pads, kW)
        hp = x4.shape[2] + pads[0] + pads[1]
        y = np.empty((x4.shape[0], w4.shape[0], hp - kH + 1, wp - kW + 1), dtype=x.dtype)
        has_bias = bias is not None
        k.forward(planes, w4, wp, bias if has_bias else np.zeros(1, x.dtype), has_bias, y)
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
            grad_planes = np.empty((n, x_shape[1], hp * wp + kW - 1), dtype=grad_y.dtype)
            k.input_grad(grad_y, w4, wp, grad_planes)
            image = grad_planes[:, :, : hp * wp].reshape(n, x_shape[1], hp, wp)
            grad_x = shaped(image[:, :, top : top + h, left : left + w].copy(), in_shape)
        if ctx.needs_input_grad[1]:
            grad_w = np.empty(w4.shape, dtype=grad_y.dtype)
            k.weight_grad(planes, grad_y, wp, kH, kW, grad_w)
            grad_w = grad_w.reshape(w_shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad_y.sum(axis=(0, 2, 3))
        return grad_x, grad_w, grad_b
