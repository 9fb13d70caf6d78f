"""im2col and col2im chunk by chunk, in cache: the layouts of the fast convolution (``conv.py``).

A 2-d convolution of x (N, C, H, W) with a kernel (kH, kW) reads, for every output pixel
(oh, ow) and kernel tap (i, j), the input pixel

    x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]

im2col copies those reads into one matrix, so the convolution becomes a matrix product:

    cols[(c, i, j), (n, oh, ow)] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]
    y[o, (n, oh, ow)]            = sum over (c, i, j) of w[o, (c, i, j)] * cols[(c, i, j), ...]

The matrix is a copy of an ``as_strided`` view of the padded input; no Python loop touches
pixels. col2im is the adjoint: it adds every column back onto the pixel it was read from, with
one strided add per kernel tap (kH*kW adds, each over a whole chunk of images).

Layouts (chosen so every GEMM is one contiguous float32 BLAS call per group):

- *planes*: the padded input as (N, C, P), each plane holding Hp*Wp pixels row by row followed
  by ``slack`` spare zeros.
- *cols*: (C*kH*kW, n*OH*Wq), C-major, so groups split it along the first axis.
- *rows*: an output as (O, n*OH*Wq), the GEMM's natural result.

``Wq`` is the row width of cols and rows. It is OW, except for stride-1 convolutions where it is
the padded width Wp: then each output row carries Wp - OW extra "wrap-around" columns, the
strided view collapses to contiguous runs of OH*Wp elements (a memcpy-like copy, and col2im
becomes plain slice adds), and the extra columns are dropped when rows become an output
(``from_rows``). In backward they are zero in grad rows (``to_rows``), so they add nothing to any
gradient. The trick costs (Wp - OW)/OW more GEMM work, so it is used only when that is small.

``col2im`` adds one strided view per kernel tap; ``col2im_compiled`` does the same in one numba
loop (``im2col_kernels.py``: each image plane stays in cache while all its taps are added).
The readable versions of both, over the whole batch and without these layouts, are in
``ops/_im2col.py``.

The callers run these steps over the batch in chunks of a few images (``Geometry.chunks``):
the column matrix of a whole batch is tens of MB, and producing and consuming it chunk by chunk
keeps it in cache, where the copies cost a fraction of a trip through main memory.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

# Target size of one chunk's column matrix: big enough for efficient GEMMs, small enough to stay
# in the CPU caches between the GEMM and the copies around it.
CHUNK_BYTES = 1 << 22


class Geometry:
    """Where every kernel tap reads: sizes of the padded planes, the output and the row width.

    Args:
        in_hw: (H, W) of the unpadded input.
        kernel, stride, dilation: (kH, kW), (sh, sw), (dh, dw).
        pads: (top, bottom, left, right) zero padding.
        out_hw: the output size; computed from the rest when None (transposed convolutions
            pass it, since their output_padding can leave input rows that no tap reads).
    """

    def __init__(self, in_hw, kernel, stride, dilation, pads, out_hw=None):
        self.H, self.W = in_hw
        self.kH, self.kW = kernel
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.top, self.bottom, self.left, self.right = pads
        self.pads = tuple(pads)
        self.Hp = self.H + self.top + self.bottom
        self.Wp = self.W + self.left + self.right
        if out_hw is None:
            out_hw = (
                (self.Hp - self.dh * (self.kH - 1) - 1) // self.sh + 1,
                (self.Wp - self.dw * (self.kW - 1) - 1) // self.sw + 1,
            )
        self.OH, self.OW = out_hw
        wrap = self.sh == 1 and self.sw == 1 and 8 * (self.Wp - self.OW) <= self.OW
        self.Wq = self.Wp if wrap else self.OW
        self.slack = self.dw * (self.kW - 1) if wrap else 0
        self.P = self.Hp * self.Wp + self.slack
        self.L = self.OH * self.Wq  # GEMM columns per image
        self.K = self.kH * self.kW

    def chunks(self, n: int, channels: int, itemsize: int) -> list:
        """Slices of the batch whose column matrices (channels*K, nb*L) are near CHUNK_BYTES.

        Sizes differ by at most one image, largest first (callers size buffers by chunk 0).
        """
        if n == 0:
            return [slice(0, 0)]  # an empty batch: one empty chunk
        per_image = max(1, channels * self.K * self.L * itemsize)
        count = -(-n // max(1, min(n, CHUNK_BYTES // per_image)))
        size, extra = divmod(n, count)
        bounds = [0]
        for i in range(count):
            bounds.append(bounds[-1] + size + (1 if i < extra else 0))
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def pad_planes(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """x (N, C, H, W) -> planes (N, C, P): zero padded, each plane followed by its slack."""
    n, c = x.shape[:2]
    if geo.P == geo.H * geo.W and x.flags.c_contiguous:
        return x.reshape(n, c, geo.P)
    planes = np.zeros((n, c, geo.P), dtype=x.dtype)
    image = planes[:, :, : geo.Hp * geo.Wp].reshape(n, c, geo.Hp, geo.Wp)
    image[:, :, geo.top : geo.top + geo.H, geo.left : geo.left + geo.W] = x
    return planes


def unpad_into(planes: np.ndarray, geo: Geometry, out: np.ndarray) -> None:
    """Copy the unpadded (n, C, H, W) images out of planes (n, C, P) into ``out``."""
    n, c = planes.shape[:2]
    image = planes[:, :, : geo.Hp * geo.Wp].reshape(n, c, geo.Hp, geo.Wp)
    np.copyto(out, image[:, :, geo.top : geo.top + geo.H, geo.left : geo.left + geo.W])


def im2col(planes: np.ndarray, geo: Geometry, buffer: np.ndarray) -> np.ndarray:
    """planes (n, C, P) -> cols (C*kH*kW, n*OH*Wq), written into ``buffer`` (>= that size).

    Column (b, oh, ow) of cols holds the receptive field of output pixel (oh, ow) of image b.
    """
    n, c = planes.shape[:2]
    if planes.strides[2] != planes.itemsize:
        planes = np.ascontiguousarray(planes)
    sn, sc, item = planes.strides
    view = as_strided(
        planes,
        shape=(c, geo.kH, geo.kW, n, geo.OH, geo.Wq),
        strides=(
            sc,
            geo.dh * geo.Wp * item,
            geo.dw * item,
            sn,
            geo.sh * geo.Wp * item,
            geo.sw * item,
        ),
        writeable=False,
    )
    cols = buffer[:, : n * geo.L]
    np.copyto(np.reshape(cols, view.shape, copy=False), view)
    return cols


def col2im(cols: np.ndarray, geo: Geometry, planes: np.ndarray) -> np.ndarray:
    """cols (C*kH*kW, n*OH*Wq) -> planes (n, C, P): each column added back where it was read.

    ``planes`` is overwritten. One strided add per kernel tap; the taps overlap in the planes,
    never within one add.
    """
    n, c = planes.shape[:2]
    planes.fill(0)
    taps = np.reshape(cols, (c, geo.kH, geo.kW, n, geo.OH, geo.Wq), copy=False)
    image = planes[:, :, : geo.Hp * geo.Wp].reshape(n, c, geo.Hp, geo.Wp)
    for i in range(geo.kH):
        for j in range(geo.kW):
            tap = taps[:, i, j].transpose(1, 0, 2, 3)
            if geo.Wq != geo.OW:  # wrap-around rows: the tap's pixels are one contiguous run
                start = i * geo.dh * geo.Wp + j * geo.dw
                view = planes[:, :, start : start + geo.L]
                tap = tap.reshape(n, c, geo.L)
            else:
                h0 = i * geo.dh
                w0 = j * geo.dw
                view = image[
                    :,
                    :,
                    h0 : h0 + geo.sh * (geo.OH - 1) + 1 : geo.sh,
                    w0 : w0 + geo.sw * (geo.OW - 1) + 1 : geo.sw,
                ]
            np.add(view, tap, out=view)
    return planes


def col2im_compiled(cols: np.ndarray, geo: Geometry, planes: np.ndarray) -> np.ndarray:
    """``col2im`` as one numba loop (``im2col_kernels.py``); same arguments and result."""
    from neuronet.ops.fast import im2col_kernels

    g = geo
    im2col_kernels.col2im(cols, g.kH, g.kW, g.dh, g.dw, g.sh, g.sw, g.Wp, g.OH, g.OW, g.Wq, planes)
    return planes


def to_rows(y: np.ndarray, geo: Geometry, buffer: np.ndarray) -> np.ndarray:
    """y (n, O, OH, OW) -> rows (O, n*OH*Wq), written into ``buffer``.

    ``buffer`` is (O, nb_max, OH, Wq); its wrap-around columns must be zero and stay zero.
    """
    n = y.shape[0]
    rows = buffer[:, :n]
    np.copyto(rows[..., : geo.OW], y.transpose(1, 0, 2, 3))
    return np.reshape(rows, (rows.shape[0], n * geo.L), copy=False)


def from_rows(rows: np.ndarray, geo: Geometry, bias: np.ndarray | None, out: np.ndarray) -> None:
    """rows (O, n*OH*Wq) -> out (n, O, OH, OW), plus ``bias`` per channel if given."""
    n, o = out.shape[:2]
    view = np.reshape(rows, (o, n, geo.OH, geo.Wq), copy=False)[..., : geo.OW]
    if bias is None:
        np.copyto(out, view.transpose(1, 0, 2, 3))
    else:
        np.add(view.transpose(1, 0, 2, 3), bias.reshape(1, o, 1, 1), out=out)


def row_buffer(channels: int, nb: int, geo: Geometry, dtype) -> np.ndarray:
    """A zeroed (channels, nb, OH, Wq) buffer for ``to_rows`` (its wrap columns stay zero)."""
    return np.zeros((channels, nb, geo.OH, geo.Wq), dtype=dtype)


def grouped(a: np.ndarray, groups: int) -> np.ndarray:
    """View a (G*R, M) matrix as G stacked (R, M) blocks, for one batched matmul per call."""
    return np.reshape(a, (groups, a.shape[0] // groups, a.shape[1]), copy=False)
