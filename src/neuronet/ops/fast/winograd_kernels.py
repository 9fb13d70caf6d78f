"""numba kernels for the Winograd F(4x4, 3x3) convolution (see ``winograd.py`` for the math).

``input_tiles`` computes V = Bᵀ d B for every 6x6 input tile d, ``output_tiles`` the 4x4 output
tiles Y = Aᵀ M A; ``output_tiles_adjoint`` and ``input_tiles_adjoint`` are their transposes
(for the gradients). The 2-d transforms are two 1-d passes, one along image rows, one down
image columns.

Speed comes from long, unit-stride loops that LLVM vectorises: every kernel works one channel
at a time over all the tiles of the chunk (columns (b, th, tw) of V and M are contiguous per
channel), through small buffers laid out tile row by tile row. The pass along rows reads (or
writes) whole groups of 4 neighbouring values, stride 4, which vectorises as an interleaved
access; loops that touch only some members of a group, or the 6 overlapping columns of an
input tile, do not. So the input transform splits each tile's columns into its own 4 and the 2
it shares with the next tile (taken from that tile's first two, shifted by one tile, with the
last tile of each row patched from the row's two extra columns). The first version, one tile
row at a time with loops TW = 2 to 8 long and 6-column reads, ran 1.8-2.8x slower (measured
on a 32-channel 32x32 chunk). The 1-d transforms:

    Bᵀ v = (4v0 - 5v2 + v4,  -4v1 - 4v2 + v3 + v4,  4v1 - 4v2 - v3 + v4,
            -2v1 - v2 + 2v3 + v4,  2v1 - v2 - 2v3 + v4,  4v1 - 5v3 + v5)
    Aᵀ m = (m0 + m1 + m2 + m3 + m4,  m1 - m2 + 2m3 - 2m4,  m1 + m2 + 4m3 + 4m4,
            m1 - m2 + 8m3 - 8m4 + m5)
    A q  = (q0,  q0 + q1 + q2 + q3,  q0 - q1 + q2 - q3,  q0 + 2q1 + 4q2 + 8q3,
            q0 - 2q1 + 4q2 - 8q3,  q3)

Conventions: the input is (n, C, H, W) (C-contiguous) and read as if zero padded, V and M are
(36, channels, columns) with column (b, th, tw) at ``(b * TH + th) * TW + tw`` and row 6a + e
for the Winograd-domain element (a, e).

Compiled on first use and cached on disk (``jit.py``); imported by the code that calls it.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.jit import kernel


@kernel()
def input_tiles(x, top, left, TH, TW, V, col0):
    """V[6a + e, c, col0 + (b, th, tw)] = (Bᵀ d B)[a, e] for the tile d = xp[b, c, 4th:4th+6,
    4tw:4tw+6] of xp, the input x (n, C, H, W) zero padded by ``top`` rows and ``left``
    columns (and with zeros past its bottom and right edges)."""
    n, C, H, W = x.shape
    dt = x.dtype
    L = n * TH * TW  # tiles in this call
    R = n * TH  # tile rows
    t = np.zeros((6, R, 4 * TW), dt)  # Bᵀ down the columns, per tile row: padded cols 0..4TW-1
    ext = np.zeros((6, R, 2), dt)  # ... and padded cols 4TW, 4TW+1 (the last tile's overlap)
    main = np.empty((6, L), dt)  # Bᵀ along the row from the tile's own 4 columns
    nxt = np.empty((2, L + 1), dt)  # nxt[s, j + 1] = column 4 + s of tile j
    zero = np.zeros(W, dt)
    four, five, two = dt.type(4.0), dt.type(5.0), dt.type(2.0)
    span = min(W, 4 * TW - left)  # x columns that land in t (the rest go to ext)
    for c in range(C):
        for b in range(n):
            for th in range(TH):
                rr = b * TH + th
                h = 4 * th - top
                r0 = x[b, c, h] if 0 <= h < H else zero
                r1 = x[b, c, h + 1] if 0 <= h + 1 < H else zero
                r2 = x[b, c, h + 2] if 0 <= h + 2 < H else zero
                r3 = x[b, c, h + 3] if 0 <= h + 3 < H else zero
                r4 = x[b, c, h + 4] if 0 <= h + 4 < H else zero
                r5 = x[b, c, h + 5] if 0 <= h + 5 < H else zero
                out = t[0, rr, left:]
                for w in range(span):
                    out[w] = four * r0[w] - five * r2[w] + r4[w]
                out = t[1, rr, left:]
                for w in range(span):
                    out[w] = r3[w] + r4[w] - four * (r1[w] + r2[w])
                out = t[2, rr, left:]
                for w in range(span):
                    out[w] = r4[w] - r3[w] + four * (r1[w] - r2[w])
                out = t[3, rr, left:]
                for w in range(span):
                    out[w] = r4[w] - r2[w] + two * (r3[w] - r1[w])
                out = t[4, rr, left:]
                for w in range(span):
                    out[w] = r4[w] - r2[w] - two * (r3[w] - r1[w])
                out = t[5, rr, left:]
                for w in range(span):
                    out[w] = four * r1[w] - five * r3[w] + r5[w]
                for s in range(2):
                    w = 4 * TW - left + s
                    if w < W:
                        ext[0, rr, s] = four * r0[w] - five * r2[w] + r4[w]
                        ext[1, rr, s] = r3[w] + r4[w] - four * (r1[w] + r2[w])
                        ext[2, rr, s] = r4[w] - r3[w] + four * (r1[w] - r2[w])
                        ext[3, rr, s] = r4[w] - r2[w] + two * (r3[w] - r1[w])
                        ext[4, rr, s] = r4[w] - r2[w] - two * (r3[w] - r1[w])
                        ext[5, rr, s] = four * r1[w] - five * r3[w] + r5[w]
        for a in range(6):
            ta = t[a].reshape(4 * L)
            m0, m1, m2, n0 = main[0], main[1], main[2], nxt[0]
            for j in range(L):  # whole groups of 4: vectorises
                d0, d1, d2, d3 = ta[4 * j], ta[4 * j + 1], ta[4 * j + 2], ta[4 * j + 3]
                m0[j] = four * d0 - five * d2
                m1[j] = d3 - four * (d1 + d2)
                m2[j] = four * (d1 - d2) - d3
                n0[j] = d0
            m3, m4, m5, n1 = main[3], main[4], main[5], nxt[1]
            for j in range(L):
                d0, d1, d2, d3 = ta[4 * j], ta[4 * j + 1], ta[4 * j + 2], ta[4 * j + 3]
                m3[j] = two * (d3 - d1) - d2
                m4[j] = two * (d1 - d3) - d2
                m5[j] = four * d1 - five * d3
                n1[j] = d1
            for rr in range(R):  # the last tile of each row overlaps the row's extra columns
                nxt[0, (rr + 1) * TW] = ext[a, rr, 0]
                nxt[1, (rr + 1) * TW] = ext[a, rr, 1]
            n0 = nxt[0, 1:]
            for e in range(5):  # + column 4 (e = 0..4) ...
                v = V[6 * a + e, c, col0 : col0 + L]
                me = main[e]
                for j in range(L):
                    v[j] = me[j] + n0[j]
            n1 = nxt[1, 1:]
            v = V[6 * a + 5, c, col0 : col0 + L]
            for j in range(L):  # ... or column 5 (e = 5)
                v[j] = m5[j] + n1[j]


@kernel()
def input_tiles_adjoint(dV, top, left, TH, TW, grad_x):
    """The adjoint of ``input_tiles`` (for the input gradient): grad_x[b, c] = the sum over
    tiles of B dV Bᵀ, dV = dV[6a + e, c, (b, th, tw)] as 6x6, each 6x6 result placed where the
    tile read xp[b, c, 4th:4th+6, 4tw:4tw+6] (xp: grad_x zero padded by ``top`` rows and
    ``left`` columns; what lands in the padding is dropped). Neighbouring tiles overlap by two
    rows and two columns, where their results add. Every element of grad_x is written once
    (the forward's tiles read all of x), so it need not start at zero.

    Per channel, the two 1-d passes of ``input_tiles`` backwards: B along the rows, each
    tile's columns 4, 5 first (``nxt``, shifted by one tile; a tile row's last tile's into
    ``ext``), then its columns 0-3 as a whole group of 4 with the previous tile's 4, 5 added
    (adding them in a pass of their own, every fourth value, took 2.6x as long); then B down
    the columns, and each grad_x row written once: row r of its tile row, plus row r + 4 of
    the tile row above for r < 2.
    B m = (4m0,  -4m1 + 4m2 - 2m3 + 2m4 + 4m5,  -5m0 - 4m1 - 4m2 - m3 - m4,
           m1 - m2 + 2m3 - 2m4 - 5m5,  m0 + m1 + m2 + m3 + m4,  m5)."""
    n, C, H, W = grad_x.shape
    dt = dV.dtype
    L = n * TH * TW  # tiles in this call
    R = n * TH  # tile rows
    t = np.empty((6, R, 4 * TW), dt)  # B along the rows, per tile row: padded cols 0..4TW-1
    ext = np.empty((6, R, 2), dt)  # ... and padded cols 4TW, 4TW+1 (the last tile's overlap)
    nxt = np.empty((2, L + 1), dt)  # nxt[s, j + 1] = column 4 + s of tile j
    U = np.empty((6, R, 4 * TW), dt)  # B down the columns: U[r, rr, col], row r of tile row rr
    U_ext = np.empty((6, R, 2), dt)
    two, four, five = dt.type(2.0), dt.type(4.0), dt.type(5.0)
    span = min(W, 4 * TW - left)  # grad_x columns that come from t (the next two from ext)
    for c in range(C):
        for a in range(6):
            m0, m1, m2 = dV[6 * a, c, :L], dV[6 * a + 1, c, :L], dV[6 * a + 2, c, :L]
            m3, m4, m5 = dV[6 * a + 3, c, :L], dV[6 * a + 4, c, :L], dV[6 * a + 5, c, :L]
            n0, n1 = nxt[0, 1:], nxt[1, 1:]
            for j in range(L):  # columns 4 and 5 of every tile
                n0[j] = m0[j] + m1[j] + m2[j] + m3[j] + m4[j]
                n1[j] = m5[j]
            for rr in range(R):  # a row's last tile overlaps the row's extra columns ...
                ext[a, rr, 0] = nxt[0, (rr + 1) * TW]
                ext[a, rr, 1] = nxt[1, (rr + 1) * TW]
                nxt[0, rr * TW] = 0  # ... and a row's first tile overlaps nothing
                nxt[1, rr * TW] = 0
            ta = t[a].reshape(4 * L)
            p0, p1 = nxt[0], nxt[1]  # p_s[j]: column 4 + s of tile j - 1, or 0
            for j in range(L):  # whole groups of 4: vectorises
                ta[4 * j] = four * m0[j] + p0[j]
                ta[4 * j + 1] = four * (m2[j] - m1[j] + m5[j]) + two * (m4[j] - m3[j]) + p1[j]
                ta[4 * j + 2] = -five * m0[j] - four * (m1[j] + m2[j]) - m3[j] - m4[j]
                ta[4 * j + 3] = m1[j] - m2[j] + two * (m3[j] - m4[j]) - five * m5[j]
        # B down the columns: the six combinations of t's rows, over all tile rows at once
        # (long loops: 1.5-2.7x faster than tile row by tile row on 32 x 32 to 8 x 8 maps) ...
        f0, f1, f2 = t[0].reshape(4 * L), t[1].reshape(4 * L), t[2].reshape(4 * L)
        f3, f4, f5 = t[3].reshape(4 * L), t[4].reshape(4 * L), t[5].reshape(4 * L)
        u = U[0].reshape(4 * L)
        for q in range(4 * L):
            u[q] = four * f0[q]
        u = U[1].reshape(4 * L)
        for q in range(4 * L):
            u[q] = four * (f2[q] - f1[q] + f5[q]) + two * (f4[q] - f3[q])
        u = U[2].reshape(4 * L)
        for q in range(4 * L):
            u[q] = -five * f0[q] - four * (f1[q] + f2[q]) - f3[q] - f4[q]
        u = U[3].reshape(4 * L)
        for q in range(4 * L):
            u[q] = f1[q] - f2[q] + two * (f3[q] - f4[q]) - five * f5[q]
        u = U[4].reshape(4 * L)
        for q in range(4 * L):
            u[q] = f0[q] + f1[q] + f2[q] + f3[q] + f4[q]
        u = U[5].reshape(4 * L)
        for q in range(4 * L):
            u[q] = f5[q]
        for rr in range(R):  # ... and of the extra columns
            for s in range(2):
                e0, e1, e2 = ext[0, rr, s], ext[1, rr, s], ext[2, rr, s]
                e3, e4, e5 = ext[3, rr, s], ext[4, rr, s], ext[5, rr, s]
                U_ext[0, rr, s] = four * e0
                U_ext[1, rr, s] = four * (e2 - e1 + e5) + two * (e4 - e3)
                U_ext[2, rr, s] = -five * e0 - four * (e1 + e2) - e3 - e4
                U_ext[3, rr, s] = e1 - e2 + two * (e3 - e4) - five * e5
                U_ext[4, rr, s] = e0 + e1 + e2 + e3 + e4
                U_ext[5, rr, s] = e5
        # then each grad_x row once: row r of its tile row, + row r + 4 of the tile row above
        # for r < 2 (U_ext indexed in place: a row view of it per row made this 2x slower)
        for b in range(n):
            plane = grad_x[b, c]
            for h in range(H):
                p = h + top
                th, r = p // 4, p % 4
                rr = b * TH + th
                out = plane[h]
                if th < TH and (r >= 2 or th == 0):
                    src = U[r, rr, left:]
                    for w in range(span):
                        out[w] = src[w]
                    for w in range(span, min(W, span + 2)):
                        out[w] = U_ext[r, rr, w - span]
                elif th == TH:  # below the last tile row: its rows 4, 5 only
                    src = U[r + 4, rr - 1, left:]
                    for w in range(span):
                        out[w] = src[w]
                    for w in range(span, min(W, span + 2)):
                        out[w] = U_ext[r + 4, rr - 1, w - span]
                else:
                    src, above = U[r, rr, left:], U[r + 4, rr - 1, left:]
                    for w in range(span):
                        out[w] = src[w] + above[w]
                    for w in range(span, min(W, span + 2)):
                        out[w] = U_ext[r, rr, w - span] + U_ext[r + 4, rr - 1, w - span]


@kernel()
def output_tiles(M, TH, TW, bias, has_bias, y):
    """y[b, o, 4th:4th+4, 4tw:4tw+4] = Aᵀ m A (+ bias[o]) for m = M[:, o, (b, th, tw)] as 6x6;
    the last tile row/column is cut at the edge.

    Per output channel: S = Aᵀ m for all tiles (runs of L tiles), then each tile's 4 output
    columns as one group of 4 into a row buffer (tile row by tile row), then the rows to y."""
    n, O, OH, OW = y.shape
    dt = M.dtype
    L = n * TH * TW
    S = np.empty((4, 6, L), dt)
    Y = np.empty((4, 4 * L), dt)  # Y[r, 4j + p] = output (r, p) of tile j
    two, four, eight = dt.type(2.0), dt.type(4.0), dt.type(8.0)
    for o in range(O):
        add = bias[o] if has_bias else dt.type(0.0)
        for e in range(6):  # Aᵀ down the columns
            m0, m1, m2 = M[e, o, :L], M[6 + e, o, :L], M[12 + e, o, :L]
            m3, m4, m5 = M[18 + e, o, :L], M[24 + e, o, :L], M[30 + e, o, :L]
            s = S[0, e]
            for j in range(L):
                s[j] = m0[j] + m1[j] + m2[j] + m3[j] + m4[j]
            s = S[1, e]
            for j in range(L):
                s[j] = m1[j] - m2[j] + two * (m3[j] - m4[j])
            s = S[2, e]
            for j in range(L):
                s[j] = m1[j] + m2[j] + four * (m3[j] + m4[j])
            s = S[3, e]
            for j in range(L):
                s[j] = m1[j] - m2[j] + eight * (m3[j] - m4[j]) + m5[j]
        for r in range(4):  # Aᵀ along the row: a whole group of 4 per tile
            s0, s1, s2, s3, s4, s5 = S[r, 0], S[r, 1], S[r, 2], S[r, 3], S[r, 4], S[r, 5]
            yr = Y[r]
            for j in range(L):
                yr[4 * j] = s0[j] + s1[j] + s2[j] + s3[j] + s4[j]
                yr[4 * j + 1] = s1[j] - s2[j] + two * (s3[j] - s4[j])
                yr[4 * j + 2] = s1[j] + s2[j] + four * (s3[j] + s4[j])
                yr[4 * j + 3] = s1[j] - s2[j] + eight * (s3[j] - s4[j]) + s5[j]
        for b in range(n):
            for th in range(TH):
                start = 4 * (b * TH + th) * TW
                for r in range(min(4, OH - 4 * th)):
                    src = Y[r, start : start + OW]
                    dst = y[b, o, 4 * th + r]
                    for w in range(OW):
                        dst[w] = src[w] + add


@kernel()
def output_tiles_adjoint(grad_y, TH, TW, dM):
    """The adjoint of ``output_tiles``: dM[6a + e, o, (b, th, tw)] = (A dy Aᵀ)[a, e] for the 4x4
    tile dy = grad_y[b, o, 4th:4th+4, 4tw:4tw+4] (zero past the edge).

    Per output channel: the dy rows into a buffer tile row by tile row, A along the rows (a
    whole group of 4 per tile), then A down the columns over runs of L tiles."""
    n, O, OH, OW = grad_y.shape
    dt = grad_y.dtype
    L = n * TH * TW
    Q = np.zeros((4, 4 * L), dt)  # Q[r, 4j + p] = dy (r, p) of tile j (0 past the edges)
    P = np.empty((4, 6, L), dt)  # P[r, e, j] = (dy A^T)[r, e]
    two, four, eight = dt.type(2.0), dt.type(4.0), dt.type(8.0)
    for o in range(O):
        for b in range(n):
            for th in range(TH):
                start = 4 * (b * TH + th) * TW
                for r in range(min(4, OH - 4 * th)):
                    src = grad_y[b, o, 4 * th + r]
                    dst = Q[r, start : start + OW]
                    for w in range(OW):
                        dst[w] = src[w]
        for r in range(4):
            q = Q[r]
            p0, p1, p2 = P[r, 0], P[r, 1], P[r, 2]
            for j in range(L):
                q0, q1, q2, q3 = q[4 * j], q[4 * j + 1], q[4 * j + 2], q[4 * j + 3]
                p0[j] = q0
                p1[j] = q0 + q1 + q2 + q3
                p2[j] = q0 - q1 + q2 - q3
            p3, p4, p5 = P[r, 3], P[r, 4], P[r, 5]
            for j in range(L):
                q0, q1, q2, q3 = q[4 * j], q[4 * j + 1], q[4 * j + 2], q[4 * j + 3]
                p3[j] = q0 + two * q1 + four * q2 + eight * q3
                p4[j] = q0 - two * q1 + four * q2 - eight * q3
                p5[j] = q3
        for e in range(6):  # A down the columns
            p0, p1, p2, p3 = P[0, e], P[1, e], P[2, e], P[3, e]
            d = dM[e, o, :L]
            for j in range(L):
                d[j] = p0[j]
            d = dM[6 + e, o, :L]
            for j in range(L):
                d[j] = p0[j] + p1[j] + p2[j] + p3[j]
            d = dM[12 + e, o, :L]
            for j in range(L):
                d[j] = p0[j] - p1[j] + p2[j] - p3[j]
            d = dM[18 + e, o, :L]
            for j in range(L):
                d[j] = p0[j] + two * p1[j] + four * p2[j] + eight * p3[j]
            d = dM[24 + e, o, :L]
            for j in range(L):
                d[j] = p0[j] - two * p1[j] + four * p2[j] - eight * p3[j]
            d = dM[30 + e, o, :L]
            for j in range(L):
                d[j] = p3[j]
