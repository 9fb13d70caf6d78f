"""Sliding blocks: ``unfold`` (im2col: every kernel-sized block of an image as a column) and
``fold`` (col2im: columns added back into an image), PyTorch's ``F.unfold`` and ``F.fold``.

For x (N, C, H, W), kernel (kH, kW), dilation (dh, dw), padding (ph, pw), stride (sh, sw), the
blocks are the L = OH * OW output positions of a convolution,
    OH = (H + 2 ph - dh (kH - 1) - 1) // sh + 1     (OW likewise)
and
    unfold(x)[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh sh + i dh, ow sw + j dw]
fold is its adjoint (the transpose of that linear map): each column entry is added to the pixel
it names, so overlapping blocks sum, and fold(unfold(x)) = x * (how many blocks cover a pixel).
Hence unfold's backward is fold and fold's backward is unfold. Both loop over the kH * kW kernel
taps; each tap is one strided view of all blocks at once. (Convolutions use the faster
``_im2col`` layout; this op returns PyTorch's (N, C kH kW, L) layout.)
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import as_tuple


class _Blocks:
    """The geometry of the sliding blocks over an (H, W) image."""

    def __init__(self, hw, kernel, dilation, padding, stride):
        self.H, self.W = hw
        self.kH, self.kW = kernel
        self.dh, self.dw = dilation
        self.ph, self.pw = padding
        self.sh, self.sw = stride
        self.OH = (self.H + 2 * self.ph - self.dh * (self.kH - 1) - 1) // self.sh + 1
        self.OW = (self.W + 2 * self.pw - self.dw * (self.kW - 1) - 1) // self.sw + 1

    def tap(self, padded: np.ndarray, i: int, j: int) -> np.ndarray:
        """padded[n, c, oh sh + i dh, ow sw + j dw] for all blocks: an (N, C, OH, OW) view."""
        h0 = i * self.dh
        w0 = j * self.dw
        return padded[
            :,
            :,
            h0 : h0 + (self.OH - 1) * self.sh + 1 : self.sh,
            w0 : w0 + (self.OW - 1) * self.sw + 1 : self.sw,
        ]


def _unfold(x: np.ndarray, b: _Blocks) -> np.ndarray:
    n, c = x.shape[:2]
    padded = np.pad(x, ((0, 0), (0, 0), (b.ph, b.ph), (b.pw, b.pw)))
    cols = np.empty((n, c, b.kH, b.kW, b.OH, b.OW), dtype=x.dtype)
    for i in range(b.kH):
        for j in range(b.kW):
            cols[:, :, i, j] = b.tap(padded, i, j)
    return cols.reshape(n, c * b.kH * b.kW, b.OH * b.OW)


def _fold(cols: np.ndarray, b: _Blocks) -> np.ndarray:
    n = cols.shape[0]
    c = cols.shape[1] // (b.kH * b.kW)
    taps = cols.reshape(n, c, b.kH, b.kW, b.OH, b.OW)
    padded = np.zeros((n, c, b.H + 2 * b.ph, b.W + 2 * b.pw), dtype=cols.dtype)
    for i in range(b.kH):
        for j in range(b.kW):
            view = b.tap(padded, i, j)
            view += taps[:, :, i, j]
    return padded[:, :, b.ph : b.ph + b.H, b.pw : b.pw + b.W]


class Unfold(Function):
    """cols[n, (c, i, j), (oh, ow)] = x_padded[n, c, oh sh + i dh, ow sw + j dw];
    dL/dx = fold(dL/dcols) (each column entry added back to its pixel).  Saves: the geometry."""

    @staticmethod
    def forward(ctx, x, blocks=None):
        ctx.blocks = blocks
        return _unfold(x, blocks)

    @staticmethod
    def backward(ctx, grad_out):
        return (np.ascontiguousarray(_fold(grad_out, ctx.blocks)),)


class Fold(Function):
    """y[n, c, h, w] = sum of the column entries that name pixel (h, w) (the adjoint of
    unfold);  dL/dcols = unfold(dL/dy).  Saves: the geometry."""

    @staticmethod
    def forward(ctx, cols, blocks=None):
        ctx.blocks = blocks
        return np.ascontiguousarray(_fold(cols, blocks))

    @staticmethod
    def backward(ctx, grad_out):
        return (_unfold(grad_out, ctx.blocks),)


def _params(op, kernel_size, dilation, padding, stride) -> tuple:
    kernel = as_tuple(kernel_size, 2, "kernel_size", op)
    dilation = as_tuple(dilation, 2, "dilation", op)
    padding = as_tuple(padding, 2, "padding", op)
    stride = as_tuple(stride, 2, "stride", op)
    for name, v in (("kernel_size", kernel), ("dilation", dilation), ("stride", stride)):
        if min(v) <= 0:
            raise ValueError(f"{op}: {name} must be positive, got {v}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return kernel, dilation, padding, stride


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every sliding kH x kW block of (N, C, H, W) (or (C, H, W)) as a column:
    (N, C kH kW, L). See ``nn.Unfold``. (``Tensor.unfold`` is a different op: windows along
    one dim.)

    Example:
        >>> import neuronet as nt
        >>> nt.functional.unfold(nt.ones(1, 2, 3, 3), kernel_size=2).shape
        (1, 8, 4)
    """
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ValueError("unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input")
    kernel, dilation, padding, stride = _params("unfold", kernel_size, dilation, padding, stride)
    batched = input.ndim == 4
    x = input if batched else input.reshape(1, *input.shape)
    blocks = _Blocks(x.shape[2:], kernel, dilation, padding, stride)
    if blocks.OH <= 0 or blocks.OW <= 0:
        raise ValueError(
            f"unfold: the input {input.shape} is too small for kernel {kernel} with dilation "
            f"{dilation} and padding {padding}: no block fits"
        )
    out = Unfold.apply(x, blocks=blocks)
    return out if batched else out.reshape(*out.shape[1:])


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns (N, C kH kW, L) (or (C kH kW, L)) back into an (N, C, H, W) image of
    ``output_size`` (H, W); overlapping blocks add up. See ``nn.Fold``."""
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError("fold: expected a 2-D (C kH kW, L) or 3-D (N, C kH kW, L) input")
    kernel, dilation, padding, stride = _params("fold", kernel_size, dilation, padding, stride)
    size = as_tuple(output_size, 2, "output_size", "fold")
    batched = input.ndim == 3
    x = input if batched else input.reshape(1, *input.shape)
    blocks = _Blocks(size, kernel, dilation, padding, stride)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k or x.shape[2] != blocks.OH * blocks.OW:
        raise ValueError(
            f"fold: input {input.shape} must have C * {k} rows (kernel {kernel}) and "
            f"{blocks.OH} * {blocks.OW} = {blocks.OH * blocks.OW} blocks for output_size {size}"
        )
    out = Fold.apply(x, blocks=blocks)
    return out if batched else out.reshape(*out.shape[1:])


__all__ = ["unfold", "fold"]
