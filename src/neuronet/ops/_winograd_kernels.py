"""numba kernels for the Winograd F(2x2, 3x3) convolution (see ``_winograd.py`` for the math).

``input_tiles`` computes V = Bᵀ d B for every 4x4 input tile d, ``output_tiles`` the 2x2 output
tiles Y = Aᵀ M A, ``output_tiles_adjoint`` the transpose of the latter (for the weight
gradient). Each works one tile row at a time: the row combinations first, into a small buffer,
then each of the 16 Winograd-domain rows in its own short loop. (One loop writing all 16 rows,
which lie far apart in memory, thrashes the L1 cache: 7x slower, measured.)

Conventions: the input is (n, C, H, W) (any strides) and read as if zero padded, V and M are
(16, channels, columns) with column (b, th, tw) at ``(b * TH + th) * TW + tw``.

Compiled on first use and cached on disk; imported lazily through ``neuronet.ops._jit``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
def input_tiles(x, top, left, TH, TW, V):
    """V[4a + e, c, (b, th, tw)] = (Bᵀ d B)[a, e] for the tile d = xp[b, c, 2th:2th+4,
    2tw:2tw+4] of xp, the input x (n, C, H, W) zero padded by ``top`` rows and ``left``
    columns (and with zeros past its bottom and right edges);
    Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]."""
    n, C, H, W = x.shape
    width = 2 * TW + 2
    rows = np.zeros((4, width), x.dtype)  # the tile row's 4 padded rows (borders stay 0)
    t = np.empty((4, width), x.dtype)  # Bᵀ d for the whole tile row
    span = min(W, width - left)
    for b in range(n):
        for c in range(C):
            for th in range(TH):
                for r in range(4):
                    h = 2 * th + r - top
                    if 0 <= h < H:
                        for w in range(span):
                            rows[r, left + w] = x[b, c, h, w]
                    else:
                        for w in range(width):
                            rows[r, w] = 0
                for w in range(width):
                    t[0, w] = rows[0, w] - rows[2, w]
                for w in range(width):
                    t[1, w] = rows[1, w] + rows[2, w]
                for w in range(width):
                    t[2, w] = rows[2, w] - rows[1, w]
                for w in range(width):
                    t[3, w] = rows[1, w] - rows[3, w]
                j0 = (b * TH + th) * TW
                for a in range(4):  # one loop per output row of V: each vectorises
                    k = 4 * a
                    for tw in range(TW):
                        V[k, c, j0 + tw] = t[a, 2 * tw] - t[a, 2 * tw + 2]
                    for tw in range(TW):
                        V[k + 1, c, j0 + tw] = t[a, 2 * tw + 1] + t[a, 2 * tw + 2]
                    for tw in range(TW):
                        V[k + 2, c, j0 + tw] = t[a, 2 * tw + 2] - t[a, 2 * tw + 1]
                    for tw in range(TW):
                        V[k + 3, c, j0 + tw] = t[a, 2 * tw + 1] - t[a, 2 * tw + 3]


@njit(**_JIT)
def output_tiles(M, TH, TW, bias, has_bias, y):
    """y[b, o, 2th:2th+2, 2tw:2tw+2] = Aᵀ m A (+ bias[o]) for m = M[:, o, (b, th, tw)] as 4x4,
    with Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]; the last tile row/column is cut at the edge.

    Per tile row: S = Aᵀ m for the whole row first (2 x 4 values per tile, each in its own
    loop over three rows of M), then the two output rows from S."""
    n, O, OH, OW = y.shape
    S = np.empty((8, TW), M.dtype)
    even = OW // 2
    for b in range(n):
        for o in range(O):
            add = bias[o] if has_bias else M.dtype.type(0.0)
            for th in range(TH):
                j0 = (b * TH + th) * TW
                for e in range(4):
                    for tw in range(TW):
                        S[e, tw] = M[e, o, j0 + tw] + M[4 + e, o, j0 + tw] + M[8 + e, o, j0 + tw]
                    for tw in range(TW):
                        S[4 + e, tw] = (
                            M[4 + e, o, j0 + tw] - M[8 + e, o, j0 + tw] - M[12 + e, o, j0 + tw]
                        )
                for r in range(2):
                    h = 2 * th + r
                    if h >= OH:
                        break
                    q = 4 * r
                    for tw in range(even):
                        y[b, o, h, 2 * tw] = S[q, tw] + S[q + 1, tw] + S[q + 2, tw] + add
                        y[b, o, h, 2 * tw + 1] = S[q + 1, tw] - S[q + 2, tw] - S[q + 3, tw] + add
                    if OW % 2:
                        y[b, o, h, OW - 1] = S[q, even] + S[q + 1, even] + S[q + 2, even] + add


@njit(**_JIT)
def output_tiles_adjoint(grad_y, TH, TW, dM):
    """The adjoint of ``output_tiles``: dM[4a + e, o, (b, th, tw)] = (A dy Aᵀ)[a, e] for the 2x2
    tile dy = grad_y[b, o, 2th:2th+2, 2tw:2tw+2] (zero past the edge), A = (Aᵀ)ᵀ.

    Per tile row: P = A dy for the whole row first (rows dy0, dy0 + dy1, dy0 - dy1, -dy1 of a
    small buffer), then each of the 16 outputs in its own loop (each row (p, q) of P gives
    (p, p + q, p - q, -q))."""
    n, O, OH, OW = grad_y.shape
    width = 2 * TW
    rows = np.zeros((2, width), grad_y.dtype)  # the two dy rows, zero past the edge
    P = np.empty((4, width), grad_y.dtype)
    span = min(OW, width)
    for b in range(n):
        for o in range(O):
            for th in range(TH):
                for r in range(2):
                    h = 2 * th + r
                    if h < OH:
                        for w in range(span):
                            rows[r, w] = grad_y[b, o, h, w]
                    else:
                        for w in range(width):
                            rows[r, w] = 0
                for w in range(width):
                    P[0, w] = rows[0, w]
                for w in range(width):
                    P[1, w] = rows[0, w] + rows[1, w]
                for w in range(width):
                    P[2, w] = rows[0, w] - rows[1, w]
                for w in range(width):
                    P[3, w] = -rows[1, w]
                j0 = (b * TH + th) * TW
                for a in range(4):
                    k = 4 * a
                    for tw in range(TW):
                        dM[k, o, j0 + tw] = P[a, 2 * tw]
                    for tw in range(TW):
                        dM[k + 1, o, j0 + tw] = P[a, 2 * tw] + P[a, 2 * tw + 1]
                    for tw in range(TW):
                        dM[k + 2, o, j0 + tw] = P[a, 2 * tw] - P[a, 2 * tw + 1]
                    for tw in range(TW):
                        dM[k + 3, o, j0 + tw] = -P[a, 2 * tw + 1]
