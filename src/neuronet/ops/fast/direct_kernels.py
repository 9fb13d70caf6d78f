"""numba kernels for the direct convolution (see ``direct.py`` for the math).

Layout: the zero-padded input planes are (n, C, P) with rows of width Wp and kW - 1 zeros of
slack at the end (P = Hp*Wp + kW - 1), and every output plane is computed over wrap-around rows
of the same width: output pixel (r, s) sits at p = r*Wp + s, and tap (i, j) of it reads
src[b, c, start + p + i*Wp + j]. So each tap is one contiguous run of L = R*Wp products, a loop
LLVM vectorises (the last Wp - S columns of each row are computed and dropped).

``taps`` computes four output channels at once: each pass over the run reads up to five taps
of one kernel row and adds 4 x 5 products into four accumulator rows, so one load of the input
serves four multiply-adds and one store of an accumulator five (``_pass5``; ``_pass3`` and
``_pass1`` take what is left of a row: kW = 7 is 5 + 1 + 1). A last block of one or two
channels runs the same passes on two rows (``taps_pair``: ``_pair5``, ...), a kernel of its own
so that the many layers without such a block do not compile it (1 s of a first run); a last
block of three, a block of four that repeats a channel. The accumulator rows and the image's
planes stay in the L1 cache. The input gradient is the same kernels run on dL/dy: a stride-1
convolution's input gradient is dL/dy, zero padded, convolved with the flipped kernel.

``weight_grad`` blocks the same way: four output channels by five taps, twenty dot products
over the run at once, each image's dL/dy rows read once per block; ``weight_grad_threes`` takes
a kernel row's last three taps or fewer, four channels by three (a kernel of its own too: a 3x3
layer compiles only it, a 5x5 one only ``weight_grad``).

Every output element is summed in one fixed order (channels, then taps, then images), so the
results do not depend on anything but the inputs. Compiled on first use and cached on disk;
imported by the Function that calls it (``ops/fast/jit.py``).
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.jit import kernel

# Products as fused multiply-adds: rounding differs from NumPy's by ~1 ulp, the same on every run.
_FMA = {"contract"}


@kernel(inline="always", fastmath=_FMA)
def _pass5(a0, a1, a2, a3, row, j, w0, w1, w2, w3):
    """a_q[p] += sum over t < 5 of w_q[j + t] * row[j + t + p], for the four rows a_q."""
    L = a0.shape[0]
    x0, x1, x2 = row[j : j + L], row[j + 1 : j + 1 + L], row[j + 2 : j + 2 + L]
    x3, x4 = row[j + 3 : j + 3 + L], row[j + 4 : j + 4 + L]
    u0, u1, u2, u3, u4 = w0[j], w0[j + 1], w0[j + 2], w0[j + 3], w0[j + 4]
    v0, v1, v2, v3, v4 = w1[j], w1[j + 1], w1[j + 2], w1[j + 3], w1[j + 4]
    s0, s1, s2, s3, s4 = w2[j], w2[j + 1], w2[j + 2], w2[j + 3], w2[j + 4]
    t0, t1, t2, t3, t4 = w3[j], w3[j + 1], w3[j + 2], w3[j + 3], w3[j + 4]
    for p in range(L):
        e0, e1, e2, e3, e4 = x0[p], x1[p], x2[p], x3[p], x4[p]
        a0[p] += u0 * e0 + u1 * e1 + u2 * e2 + u3 * e3 + u4 * e4
        a1[p] += v0 * e0 + v1 * e1 + v2 * e2 + v3 * e3 + v4 * e4
        a2[p] += s0 * e0 + s1 * e1 + s2 * e2 + s3 * e3 + s4 * e4
        a3[p] += t0 * e0 + t1 * e1 + t2 * e2 + t3 * e3 + t4 * e4


@kernel(inline="always", fastmath=_FMA)
def _pass3(a0, a1, a2, a3, row, j, w0, w1, w2, w3):
    """``_pass5`` for three taps."""
    L = a0.shape[0]
    x0, x1, x2 = row[j : j + L], row[j + 1 : j + 1 + L], row[j + 2 : j + 2 + L]
    u0, u1, u2 = w0[j], w0[j + 1], w0[j + 2]
    v0, v1, v2 = w1[j], w1[j + 1], w1[j + 2]
    s0, s1, s2 = w2[j], w2[j + 1], w2[j + 2]
    t0, t1, t2 = w3[j], w3[j + 1], w3[j + 2]
    for p in range(L):
        e0, e1, e2 = x0[p], x1[p], x2[p]
        a0[p] += u0 * e0 + u1 * e1 + u2 * e2
        a1[p] += v0 * e0 + v1 * e1 + v2 * e2
        a2[p] += s0 * e0 + s1 * e1 + s2 * e2
        a3[p] += t0 * e0 + t1 * e1 + t2 * e2


@kernel(inline="always", fastmath=_FMA)
def _pass1(a0, a1, a2, a3, row, j, w0, w1, w2, w3):
    """``_pass5`` for one tap."""
    L = a0.shape[0]
    x0 = row[j : j + L]
    u0, v0, s0, t0 = w0[j], w1[j], w2[j], w3[j]
    for p in range(L):
        e0 = x0[p]
        a0[p] += u0 * e0
        a1[p] += v0 * e0
        a2[p] += s0 * e0
        a3[p] += t0 * e0


@kernel(inline="always", fastmath=_FMA)
def _pair5(a0, a1, row, j, w0, w1):
    """``_pass5`` for two accumulator rows: a last block of one or two channels."""
    L = a0.shape[0]
    x0, x1, x2 = row[j : j + L], row[j + 1 : j + 1 + L], row[j + 2 : j + 2 + L]
    x3, x4 = row[j + 3 : j + 3 + L], row[j + 4 : j + 4 + L]
    u0, u1, u2, u3, u4 = w0[j], w0[j + 1], w0[j + 2], w0[j + 3], w0[j + 4]
    v0, v1, v2, v3, v4 = w1[j], w1[j + 1], w1[j + 2], w1[j + 3], w1[j + 4]
    for p in range(L):
        e0, e1, e2, e3, e4 = x0[p], x1[p], x2[p], x3[p], x4[p]
        a0[p] += u0 * e0 + u1 * e1 + u2 * e2 + u3 * e3 + u4 * e4
        a1[p] += v0 * e0 + v1 * e1 + v2 * e2 + v3 * e3 + v4 * e4


@kernel(inline="always", fastmath=_FMA)
def _pair3(a0, a1, row, j, w0, w1):
    """``_pair5`` for three taps."""
    L = a0.shape[0]
    x0, x1, x2 = row[j : j + L], row[j + 1 : j + 1 + L], row[j + 2 : j + 2 + L]
    u0, u1, u2 = w0[j], w0[j + 1], w0[j + 2]
    v0, v1, v2 = w1[j], w1[j + 1], w1[j + 2]
    for p in range(L):
        e0, e1, e2 = x0[p], x1[p], x2[p]
        a0[p] += u0 * e0 + u1 * e1 + u2 * e2
        a1[p] += v0 * e0 + v1 * e1 + v2 * e2


@kernel(inline="always", fastmath=_FMA)
def _pair1(a0, a1, row, j, w0, w1):
    """``_pair5`` for one tap."""
    L = a0.shape[0]
    x0 = row[j : j + L]
    u0, v0 = w0[j], w1[j]
    for p in range(L):
        e0 = x0[p]
        a0[p] += u0 * e0
        a1[p] += v0 * e0


@kernel()
def split(O):
    """The output channels that ``taps`` computes in blocks of four: all of them, unless one or
    two are left over, which ``taps_pair`` computes (a last block of three repeats a channel)."""
    return O - O % 4 if O % 4 <= 2 else O


@kernel(fastmath=_FMA)
def taps(src, w, Wp, start, bias, out):
    """out[b, o, r, s] = bias[o] + sum over c, i, j of w[o, c, i, j] * src[b, c, q + i*Wp + j]
    with q = start + r*Wp + s, for the output channels o < ``split(O)``, four at a time.

    The forward runs it on the padded input planes (``start`` = 0, output pixel (oh, ow) at
    p = oh*Wp + ow); the input gradient on dL/dy's padded planes with the flipped kernel.
    ``src`` (n, C, >= start + (R + kH - 1)*Wp + kW - 1), ``w`` (O, C, kH, kW), ``bias`` (O,),
    ``out`` (n, O, R, S) with S <= Wp - kW + 1."""
    O, C, kH, kW = w.shape
    R = out.shape[2]
    acc = np.empty((4, R * Wp), src.dtype)
    a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
    for b in range(src.shape[0]):
        for o in range(0, split(O), 4):
            o1, o2, o3 = min(o + 1, O - 1), min(o + 2, O - 1), min(o + 3, O - 1)
            acc[:] = 0
            for c in range(C):
                for i in range(kH):
                    row = src[b, c, start + i * Wp :]
                    w0, w1, w2, w3 = w[o, c, i], w[o1, c, i], w[o2, c, i], w[o3, c, i]
                    j = 0
                    while kW - j >= 5:
                        _pass5(a0, a1, a2, a3, row, j, w0, w1, w2, w3)
                        j += 5
                    while kW - j >= 3:
                        _pass3(a0, a1, a2, a3, row, j, w0, w1, w2, w3)
                        j += 3
                    while j < kW:
                        _pass1(a0, a1, a2, a3, row, j, w0, w1, w2, w3)
                        j += 1
            _store(acc, Wp, bias, o, min(4, O - o), out[b])


@kernel(fastmath=_FMA)
def taps_pair(src, w, Wp, start, bias, out):
    """``taps`` for the one or two output channels o >= ``split(O)``, with two accumulator
    rows (a separate kernel, so that a layer without such channels does not compile it)."""
    O, C, kH, kW = w.shape
    R = out.shape[2]
    acc = np.empty((2, R * Wp), src.dtype)
    a0, a1 = acc[0], acc[1]
    o = split(O)
    o1 = min(o + 1, O - 1)
    for b in range(src.shape[0]):
        acc[:] = 0
        for c in range(C):
            for i in range(kH):
                row = src[b, c, start + i * Wp :]
                w0, w1 = w[o, c, i], w[o1, c, i]
                j = 0
                while kW - j >= 5:
                    _pair5(a0, a1, row, j, w0, w1)
                    j += 5
                while kW - j >= 3:
                    _pair3(a0, a1, row, j, w0, w1)
                    j += 3
                while j < kW:
                    _pair1(a0, a1, row, j, w0, w1)
                    j += 1
        _store(acc, Wp, bias, o, O - o, out[b])


@kernel(inline="always")
def _store(acc, Wp, bias, o, count, out):
    """out[o + q, r, s] = acc[q, r*Wp + s] + bias[o + q] for q < count (the wrap-around columns
    s >= S dropped)."""
    R, S = out.shape[1], out.shape[2]
    for q in range(count):
        add = bias[o + q]
        for r in range(R):
            dst = out[o + q, r]
            for s in range(S):
                dst[s] = acc[q, r * Wp + s] + add


@kernel()
def input_grad(grad_y, flipped, Wp, top, left, grad_x):
    """grad_x[b, c, r, s] = sum over o, i, j of w[o, c, i, j] * dL/dy[b, o, q - i*Wp - j] with
    q = (r + top)*Wp + s + left its place in the padded planes (dL/dy in wrap-around rows, zero
    outside), for the input channels c < ``split(C)``: ``taps`` with ``flipped`` (C, O, kH, kW)
    = w[o, c, kH-1-i', kW-1-j'], image by image, over dL/dy after margin = (kH - 1)*Wp + kW - 1
    zeros: term (i', j') reads position q + i'*Wp + j' - margin = q - i*Wp - j of dL/dy.
    (``taps`` is called with the forward's argument types, so numba compiles it once for
    both.)"""
    rows, margin, start, no_bias = _input_grad_buffers(grad_y, flipped, Wp, top, left, grad_x)
    for b in range(grad_y.shape[0]):
        _rows(grad_y, b, Wp, margin, rows[0])
        taps(rows, flipped, Wp, start, no_bias, grad_x[b : b + 1])


@kernel()
def input_grad_pair(grad_y, flipped, Wp, top, left, grad_x):
    """``input_grad`` for all input channels, when one or two are left over for ``taps_pair``:
    both kernels image by image, so that the second finds the rows in the cache (10% faster
    than a pass over the batch each)."""
    rows, margin, start, no_bias = _input_grad_buffers(grad_y, flipped, Wp, top, left, grad_x)
    for b in range(grad_y.shape[0]):
        _rows(grad_y, b, Wp, margin, rows[0])
        taps(rows, flipped, Wp, start, no_bias, grad_x[b : b + 1])
        taps_pair(rows, flipped, Wp, start, no_bias, grad_x[b : b + 1])


@kernel(inline="always")
def _input_grad_buffers(grad_y, flipped, Wp, top, left, grad_x):
    """One image's dL/dy rows (1, O, P), zero (P: what ``taps`` reads, or the margin and dL/dy
    if longer), the margin, grad_x's start in the rows, a zero bias."""
    C, O, kH, kW = flipped.shape
    margin = (kH - 1) * Wp + kW - 1
    start = top * Wp + left
    reach = max(start + (grad_x.shape[2] + kH - 1) * Wp + kW - 1, margin + grad_y.shape[2] * Wp)
    rows = np.zeros((1, O, reach), grad_y.dtype)
    return rows, margin, start, np.zeros(C, grad_y.dtype)


@kernel()
def _rows(grad_y, b, Wp, at, rows):
    """rows[o, at + r*Wp + s] = grad_y[b, o, r, s]; the wrap-around columns s >= S stay zero."""
    O, R, S = grad_y.shape[1], grad_y.shape[2], grad_y.shape[3]
    for o in range(O):
        dst = rows[o, at:]
        for r in range(R):
            src = grad_y[b, o, r]
            for s in range(S):
                dst[r * Wp + s] = src[s]


@kernel()
def fives_end(kW):
    """The taps j < fives_end(kW) of a kernel row go in groups of five (``weight_grad``), the
    last three or fewer in one group of three (``weight_grad_threes``)."""
    return 5 * ((kW + 1) // 5)  # kW - fives_end(kW) is 0 to 3


@kernel(fastmath={"reassoc", "contract"})
def weight_grad(planes, grad_y, Wp, kH, kW, grad_w):
    """grad_w[o, c, i, j] += sum over b, p of dL/dy[b, o, p] * planes[b, c, p + i*Wp + j] for
    the taps j < ``fives_end(kW)``: dot products of contiguous runs, twenty at a time, four
    output channels by five taps. Reassociated, so each vectorises; the order is fixed by the
    code, the same on every run. A tap past the kernel's row (j + t >= kW) reads ``zeros`` and
    is not written out. (The passes are written out here: as a function of its own one ran 2x
    slower.)"""
    n, O, R, _ = grad_y.shape
    C = planes.shape[1]
    L = R * Wp
    rows = np.zeros((O, L), grad_y.dtype)
    zeros = np.zeros(L, grad_y.dtype)
    zero = grad_y.dtype.type(0.0)
    for b in range(n):
        _rows(grad_y, b, Wp, 0, rows)
        for o in range(0, O, 4):
            o1, o2, o3 = min(o + 1, O - 1), min(o + 2, O - 1), min(o + 3, O - 1)
            g0, g1, g2, g3 = rows[o], rows[o1], rows[o2], rows[o3]
            for c in range(C):
                for i in range(kH):
                    row = planes[b, c, i * Wp :]
                    for j in range(0, fives_end(kW), 5):
                        x0 = row[j : j + L]
                        x1 = row[j + 1 : j + 1 + L] if j + 1 < kW else zeros
                        x2 = row[j + 2 : j + 2 + L] if j + 2 < kW else zeros
                        x3 = row[j + 3 : j + 3 + L] if j + 3 < kW else zeros
                        x4 = row[j + 4 : j + 4 + L] if j + 4 < kW else zeros
                        u0 = u1 = u2 = u3 = u4 = v0 = v1 = v2 = v3 = v4 = zero
                        s0 = s1 = s2 = s3 = s4 = t0 = t1 = t2 = t3 = t4 = zero
                        # fmt: off
                        for p in range(L):
                            e0, e1, e2, e3, e4 = x0[p], x1[p], x2[p], x3[p], x4[p]
                            d = g0[p]; u0 += d * e0; u1 += d * e1; u2 += d * e2; u3 += d * e3; u4 += d * e4  # noqa: E702, E501
                            d = g1[p]; v0 += d * e0; v1 += d * e1; v2 += d * e2; v3 += d * e3; v4 += d * e4  # noqa: E702, E501
                            d = g2[p]; s0 += d * e0; s1 += d * e1; s2 += d * e2; s3 += d * e3; s4 += d * e4  # noqa: E702, E501
                            d = g3[p]; t0 += d * e0; t1 += d * e1; t2 += d * e2; t3 += d * e3; t4 += d * e4  # noqa: E702, E501
                        sums = ((u0, u1, u2, u3, u4), (v0, v1, v2, v3, v4),
                                (s0, s1, s2, s3, s4), (t0, t1, t2, t3, t4))
                        # fmt: on
                        for q in range(min(4, O - o)):
                            for t in range(min(5, kW - j)):
                                grad_w[o + q, c, i, j + t] += sums[q][t]


@kernel(fastmath={"reassoc", "contract"})
def weight_grad_threes(planes, grad_y, Wp, kH, kW, grad_w):
    """``weight_grad`` for the taps j >= ``fives_end(kW)``, the last three or fewer of a row:
    four output channels by three taps (a 3x3 kernel: 14-22% faster than five taps with two of
    zeros). A kernel of its own, so that a 5x5 layer does not compile it, nor a 3x3 one
    ``weight_grad``."""
    n, O, R, _ = grad_y.shape
    C = planes.shape[1]
    L = R * Wp
    rows = np.zeros((O, L), grad_y.dtype)
    zeros = np.zeros(L, grad_y.dtype)
    zero = grad_y.dtype.type(0.0)
    j = fives_end(kW)
    for b in range(n):
        _rows(grad_y, b, Wp, 0, rows)
        for o in range(0, O, 4):
            o1, o2, o3 = min(o + 1, O - 1), min(o + 2, O - 1), min(o + 3, O - 1)
            g0, g1, g2, g3 = rows[o], rows[o1], rows[o2], rows[o3]
            for c in range(C):
                for i in range(kH):
                    row = planes[b, c, i * Wp :]
                    x0 = row[j : j + L]
                    x1 = row[j + 1 : j + 1 + L] if j + 1 < kW else zeros
                    x2 = row[j + 2 : j + 2 + L] if j + 2 < kW else zeros
                    u0 = u1 = u2 = v0 = v1 = v2 = s0 = s1 = s2 = t0 = t1 = t2 = zero
                    # fmt: off
                    for p in range(L):
                        e0, e1, e2 = x0[p], x1[p], x2[p]
                        d = g0[p]; u0 += d * e0; u1 += d * e1; u2 += d * e2  # noqa: E702
                        d = g1[p]; v0 += d * e0; v1 += d * e1; v2 += d * e2  # noqa: E702
                        d = g2[p]; s0 += d * e0; s1 += d * e1; s2 += d * e2  # noqa: E702
                        d = g3[p]; t0 += d * e0; t1 += d * e1; t2 += d * e2  # noqa: E702
                    sums = ((u0, u1, u2), (v0, v1, v2), (s0, s1, s2), (t0, t1, t2))
                    # fmt: on
                    for q in range(min(4, O - o)):
                        for t in range(kW - j):
                            grad_w[o + q, c, i, j + t] += sums[q][t]
