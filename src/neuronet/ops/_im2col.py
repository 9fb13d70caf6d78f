"""Lowering a convolution to a matrix product: im2col, col2im and the shapes around them.

A 2-d convolution of x (N, C, H, W) with a kernel (kH, kW) reads, for every output pixel
(oh, ow) and kernel tap (i, j), the pixel of the zero-padded input

    x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]

im2col copies those reads into one matrix, a column per output pixel, so that the convolution
becomes a matrix product (``conv.py``):

    cols[(c, i, j), (n, oh, ow)] = x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]
    y[o, (n, oh, ow)]            = sum over (c, i, j) of w[o, (c, i, j)] * cols[(c, i, j), ...]

col2im is its adjoint: it adds every column back onto the pixels it was read from. Both loop
over the kH*kW kernel taps, never over pixels: tap (i, j) of all output pixels is one strided
slice of the padded input. These are the readable versions used by the reference ops; the
fast path (``ops/fast/im2col.py``) builds the same matrices chunk by chunk, in cache.
"""

from __future__ import annotations

import numpy as np


class Geometry:
    """Sizes of one 2-d convolution: padded input, output, and the columns per image.

    Args:
        in_hw: (H, W) of the unpadded input.
        kernel, stride, dilation: (kH, kW), (sh, sw), (dh, dw).
        pads: (top, bottom, left, right) zero padding.
        out_hw: the output size; computed from the rest when None (a transposed convolution
            passes it: its output_padding can leave input rows that no tap reads).
    """

    def __init__(self, in_hw, kernel, stride, dilation, pads, out_hw=None):
        self.H, self.W = in_hw
        self.kH, self.kW = kernel
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.top, self.bottom, self.left, self.right = pads
        self.Hp = self.H + self.top + self.bottom
        self.Wp = self.W + self.left + self.right
        if out_hw is None:
            out_hw = (
                (self.Hp - self.dh * (self.kH - 1) - 1) // self.sh + 1,
                (self.Wp - self.dw * (self.kW - 1) - 1) // self.sw + 1,
            )
        self.OH, self.OW = out_hw
        self.K = self.kH * self.kW  # taps per channel
        self.L = self.OH * self.OW  # output pixels (columns) per image

    def taps(self):
        """(i, j, rows, cols): the slices of the padded input that tap (i, j) reads."""
        for i in range(self.kH):
            for j in range(self.kW):
                h0 = i * self.dh
                w0 = j * self.dw
                rows = slice(h0, h0 + self.sh * (self.OH - 1) + 1, self.sh)
                cols = slice(w0, w0 + self.sw * (self.OW - 1) + 1, self.sw)
                yield i, j, rows, cols


def im2col(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """x (N, C, H, W) -> cols (C*kH*kW, N*OH*OW), rows ordered (c, i, j), columns (n, oh, ow)."""
    n, c = x.shape[:2]
    x_pad = np.zeros((n, c, geo.Hp, geo.Wp), dtype=x.dtype)
    x_pad[:, :, geo.top : geo.top + geo.H, geo.left : geo.left + geo.W] = x
    cols = np.empty((c, geo.kH, geo.kW, n, geo.OH, geo.OW), dtype=x.dtype)
    for i, j, rows, columns in geo.taps():
        cols[:, i, j] = x_pad[:, :, rows, columns].transpose(1, 0, 2, 3)
    return cols.reshape(c * geo.K, n * geo.L)


def col2im(cols: np.ndarray, n: int, geo: Geometry) -> np.ndarray:
    """The adjoint of ``im2col``: cols (C*kH*kW, N*OH*OW) -> x (N, C, H, W), every column
    added back onto the input pixels it was read from (the padding cut off)."""
    c = cols.shape[0] // geo.K
    taps = cols.reshape(c, geo.kH, geo.kW, n, geo.OH, geo.OW)
    x_pad = np.zeros((n, c, geo.Hp, geo.Wp), dtype=cols.dtype)
    for i, j, rows, columns in geo.taps():
        x_pad[:, :, rows, columns] += taps[:, i, j].transpose(1, 0, 2, 3)
    return x_pad[:, :, geo.top : geo.top + geo.H, geo.left : geo.left + geo.W]


def to_rows(y: np.ndarray) -> np.ndarray:
    """y (N, O, OH, OW) -> rows (O, N*OH*OW): an output as the GEMM produces it."""
    return y.transpose(1, 0, 2, 3).reshape(y.shape[1], -1)


def from_rows(rows: np.ndarray, n: int, geo: Geometry) -> np.ndarray:
    """rows (O, N*OH*OW) -> y (N, O, OH, OW), a fresh C-contiguous array."""
    o = rows.shape[0]
    return np.ascontiguousarray(rows.reshape(o, n, geo.OH, geo.OW).transpose(1, 0, 2, 3))


def grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """View a (G*R, M) matrix as G stacked (R, M) blocks, for one batched matmul."""
    return a.reshape(groups, a.shape[0] // groups, a.shape[1])


def stacked(a: np.ndarray) -> np.ndarray:
    """The inverse of ``grouped``: G (R, M) blocks as one (G*R, M) matrix (M may be 0)."""
    return a.reshape(a.shape[0] * a.shape[1], a.shape[2])
