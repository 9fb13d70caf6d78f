"""Fused numba kernels for the element-wise part of one BPTT step of the LSTM and the GRU.

Each kernel is the loop form of the NumPy step of the same name in ``_rnn_cells.py`` (the
readable reference, with the formulas in its docstrings; same arguments): it reads every array
once per step instead of once per ufunc. The backward steps are pure arithmetic (the forward
saved every activation); the LSTM's forward step takes its sigmoid and tanh from ``_fastmath``
(branch-free in float32), so LLVM vectorises every loop here. The recurrent GEMMs stay in NumPy
(BLAS). Conventions: arrays are C-contiguous and of one dtype; ``t``/``prev``/``cur`` index the
time axes, so the signatures do not change with the step (one compilation per dtype). Only
fused multiply-adds, reciprocal-multiply division and the sign of zero are relaxed
(``FASTMATH``).

Compiled on first use and cached on disk (``cache=True``); loaded lazily through
``neuronet.ops._jit.kernels``, so ``import neuronet`` never imports numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neuronet.ops._fastmath import FASTMATH, sigmoid, tanh

_JIT = {"cache": True, "error_model": "numpy", "nogil": True, "fastmath": FASTMATH}


@njit(**_JIT)
def lstm_forward_step(a, rec, c_prev, c, tanh_c, h):
    """a (N, 4H) columns i, f, g, o: a + rec activated in place; writes c_t, tanh(c_t), h_t.

    Each row runs as short loops over one or two arrays each (rather than one loop over all
    seven), so that LLVM vectorises them without giving up on aliasing checks; the sums a + rec
    go through a scratch row first, since activating a in place from a read of a itself did
    not vectorise as well (76 -> 38 us per step of the lstm benchmark).
    """
    n_, g_ = a.shape
    h_ = g_ // 4
    pre = np.empty(g_, a.dtype)  # one row's pre-activations
    for n in range(n_):
        row = a[n]
        row_rec = rec[n]
        for j in range(g_):
            pre[j] = row[j] + row_rec[j]
        for j in range(2 * h_):
            row[j] = sigmoid(pre[j])
        for j in range(2 * h_, 3 * h_):
            row[j] = tanh(pre[j])
        for j in range(3 * h_, g_):
            row[j] = sigmoid(pre[j])
        i, f, g, o = row[:h_], row[h_ : 2 * h_], row[2 * h_ : 3 * h_], row[3 * h_ :]
        c_prev_n = c_prev[n]
        c_n = c[n]
        for j in range(h_):
            c_n[j] = f[j] * c_prev_n[j] + i[j] * g[j]
        tanh_c_n = tanh_c[n]
        for j in range(h_):
            tanh_c_n[j] = tanh(c_n[j])
        h_n = h[n]
        for j in range(h_):
            h_n[j] = o[j] * tanh_c_n[j]


@njit(**_JIT)
def lstm_backward_step(a, tanh_c, c_prev, grad_h, dh, dc, da):
    """a (N, 4H) the activated gates i, f, g, o; dh <- dL/dh_t (grad_h added in place), dc <-
    dL/dc_{t-1}; writes da (N, 4H). Short loops per row, as lstm_forward_step."""
    n_, g_ = a.shape
    h_ = g_ // 4
    one = a.dtype.type(1.0)
    for n in range(n_):
        row = a[n]
        i, f, g, o = row[:h_], row[h_ : 2 * h_], row[2 * h_ : 3 * h_], row[3 * h_ :]
        d_row = da[n]
        di, df, dg, do = d_row[:h_], d_row[h_ : 2 * h_], d_row[2 * h_ : 3 * h_], d_row[3 * h_ :]
        dh_n = dh[n]
        dc_n = dc[n]
        tc = tanh_c[n]
        grad_h_n = grad_h[n]
        c_prev_n = c_prev[n]
        for j in range(h_):
            dh_n[j] += grad_h_n[j]
        for j in range(h_):
            dc_n[j] += dh_n[j] * o[j] * (one - tc[j] * tc[j])
        for j in range(h_):
            di[j] = dc_n[j] * g[j] * (i[j] * (one - i[j]))
        for j in range(h_):
            df[j] = dc_n[j] * c_prev_n[j] * (f[j] * (one - f[j]))
        for j in range(h_):
            dg[j] = dc_n[j] * i[j] * (one - g[j] * g[j])
        for j in range(h_):
            do[j] = dh_n[j] * tc[j] * (o[j] * (one - o[j]))
        for j in range(h_):
            dc_n[j] *= f[j]


@njit(**_JIT)
def gru_backward_step(gates, hns, hs, grad_seq, t, prev, dh_next, dh_z, d_hh, d_n, scratch):
    """gates (3, T, N, H) r, z, n; writes d_hh[:, t] = [da_r, da_z, dhn], d_n[t] = da_n and
    dh_z = dL/dh_t * z (scratch unused)."""
    _, _, n_, h_ = gates.shape
    one = gates.dtype.type(1.0)
    for n in range(n_):
        for j in range(h_):
            r = gates[0, t, n, j]
            z = gates[1, t, n, j]
            nn = gates[2, t, n, j]
            dh = grad_seq[t, n, j] + dh_next[n, j]
            da_n = dh * (one - z) * (one - nn * nn)
            d_n[t, n, j] = da_n
            d_hh[2, t, n, j] = da_n * r
            d_hh[0, t, n, j] = da_n * hns[t, n, j] * (r * (one - r))
            d_hh[1, t, n, j] = dh * (hs[prev, n, j] - nn) * (z * (one - z))
            dh_z[n, j] = dh * z
