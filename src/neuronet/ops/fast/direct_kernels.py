"""numba kernels for the direct convolution of few channels (see ``direct.py`` for the math).

Layout: the zero-padded input planes are (n, C, P) with rows of width Wp and kW - 1 zeros of
slack at the end (P = Hp*Wp + kW - 1), and every output plane is computed over wrap-around rows
of the same width: output pixel (oh, ow) sits at p = oh*Wp + ow, and tap (i, j) of it reads
planes[b, c, p + i*Wp + j]. So each tap is one contiguous run of L = OH*Wp products, a loop
LLVM vectorises (the last kW - 1 columns of each row are computed and dropped). One output or
gradient plane stays in the L1 cache while every tap is added into it. The input gradient is
the same loop run as a gather: each input position q collects w[o, c, i, j] * dL/dy at
q - i*Wp - j, reading dL/dy's wrap-around rows (zero in their dropped columns) preceded by
enough zeros that q - i*Wp - j never falls before the start.

Every output element is summed in one fixed order (channels, then taps, then images), so the
results do not depend on anything but the inputs. Compiled on first use and cached on disk;
imported by the Function that calls it (``ops/fast/jit.py``).
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.jit import kernel


@kernel(inline="always")
def _row_taps(acc, row, w, kW, zeros):
    """acc[p] += sum over j < kW of w[j] * row[p + j]: the kW taps of one kernel row, three per
    pass over acc (a missing one reads ``zeros``: a zero weight would turn 0 * inf into NaN)."""
    L = acc.shape[0]
    for j in range(0, kW, 3):
        a0 = row[j : j + L]
        a1 = row[j + 1 : j + 1 + L] if j + 1 < kW else zeros
        a2 = row[j + 2 : j + 2 + L] if j + 2 < kW else zeros
        w0 = w[j]
        w1 = w[j + 1] if j + 1 < kW else w0
        w2 = w[j + 2] if j + 2 < kW else w0
        for p in range(L):
            acc[p] += w0 * a0[p] + w1 * a1[p] + w2 * a2[p]


@kernel()
def forward(planes, w, Wp, bias, has_bias, y):
    """y[b, o, oh, ow] = bias[o] + sum over c, i, j of w[o, c, i, j] * planes[b, c, p + i*Wp + j]
    with p = oh*Wp + ow."""
    n, C, _ = planes.shape
    O, _, kH, kW = w.shape
    OH, OW = y.shape[2], y.shape[3]
    L = OH * Wp
    acc = np.empty(L, planes.dtype)
    zeros = np.zeros(L, planes.dtype)
    zero = planes.dtype.type(0.0)
    for b in range(n):
        for o in range(O):
            acc[:] = zero
            for c in range(C):
                for i in range(kH):
                    _row_taps(acc, planes[b, c, i * Wp :], w[o, c, i], kW, zeros)
            add = bias[o] if has_bias else zero
            for oh in range(OH):
                row = y[b, o, oh]
                for ow in range(OW):
                    row[ow] = acc[oh * Wp + ow] + add


@kernel()
def _rows(grad_y, b, Wp, margin, rows):
    """rows[o, margin + oh*Wp + ow] = grad_y[b, o, oh, ow]; every other entry stays zero."""
    O, OH, OW = grad_y.shape[1], grad_y.shape[2], grad_y.shape[3]
    for o in range(O):
        dst = rows[o]
        for oh in range(OH):
            src = grad_y[b, o, oh]
            for ow in range(OW):
                dst[margin + oh * Wp + ow] = src[ow]


@kernel()
def input_grad(grad_y, w, Wp, grad_planes):
    """grad_planes[b, c, q] = sum over o, i, j of w[o, c, i, j] * dL/dy[b, o, q - i*Wp - j], the
    adjoint of ``forward`` as a gather: dL/dy's wrap-around rows, preceded by ``margin`` zeros
    (so q - i*Wp - j never goes below 0), read backwards by the flipped kernel row."""
    n, O, OH, _ = grad_y.shape
    _, C, kH, kW = w.shape
    P = grad_planes.shape[2]
    margin = (kH - 1) * Wp + kW - 1
    rows = np.zeros((O, margin + P), grad_y.dtype)
    flipped = np.empty(kW, w.dtype)
    zeros = np.zeros(P, grad_y.dtype)
    for b in range(n):
        _rows(grad_y, b, Wp, margin, rows)
        for c in range(C):
            g = grad_planes[b, c]
            g[:] = 0
            for o in range(O):
                for i in range(kH):
                    for j in range(kW):  # row[q + j'] with j' = kW-1-j reads q - j
                        flipped[j] = w[o, c, i, kW - 1 - j]
                    _row_taps(g, rows[o, margin - i * Wp - (kW - 1) :], flipped, kW, zeros)


@kernel(fastmath={"reassoc", "contract"})
def weight_grad(planes, grad_y, Wp, kH, kW, grad_w):
    """grad_w[o, c, i, j] = sum over b, p of dL/dy[b, o, p] * planes[b, c, p + i*Wp + j]:
    one dot product of two contiguous runs per tap and image (reassociated, so it vectorises;
    the order is fixed by the code, the same on every run)."""
    n, O, OH, _ = grad_y.shape
    C = planes.shape[1]
    L = OH * Wp
    rows = np.zeros((O, L), grad_y.dtype)
    grad_w[:] = 0
    for b in range(n):
        _rows(grad_y, b, Wp, 0, rows)
        for o in range(O):
            r = rows[o]
            for c in range(C):
                src = planes[b, c]
                for i in range(kH):
                    for j in range(kW):
                        run = src[i * Wp + j : i * Wp + j + L]
                        s = grad_y.dtype.type(0.0)
                        for p in range(L):
                            s += r[p] * run[p]
                        grad_w[o, c, i, j] += s
