"""Fused numba kernels for the element-wise part of one time step of the LSTM and the GRU.

Each kernel is the loop form of the NumPy step of the same name in ``ops/lstm.py`` or
``ops/gru.py`` (the readable reference, with the formulas in its docstrings; same arguments):
it reads every array once per step instead of once per ufunc. The backward steps are pure
arithmetic (the forward saved every activation); the forward steps take sigmoid and tanh from
``fastmath.py`` (branch-free in float32), so LLVM vectorises every loop here. The recurrent
GEMMs stay in NumPy (BLAS). Arrays are C-contiguous rows of one step, (N, G*H) or (N, H), of
one dtype, so the signatures do not change with the step (one compilation per dtype). Only
fused multiply-adds, reciprocal-multiply division and the sign of zero are relaxed
(``FASTMATH``).
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.fastmath import FASTMATH, sigmoid, tanh
from neuronet.ops.fast.jit import kernel


@kernel(fastmath=FASTMATH)
def lstm_forward_step(a, rec, c_prev, c, tanh_c, h):
    """a (N, 4H) columns i, f, g, o: a + rec activated in place; writes c_t, tanh(c_t), h_t.

    Each row runs as short loops over one or two arrays each (rather than one loop over all
    seven), so that LLVM vectorises them without giving up on aliasing checks; the sums a + rec
    go through a scratch row first, since activating a in place from a read of a itself did
    not vectorise as well (half the time per step on the lstm benchmark).
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


@kernel(fastmath=FASTMATH)
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


@kernel(fastmath=FASTMATH)
def gru_forward_step(a, rec, b_hn, h_prev, hn, h):
    """a (N, 3H) columns r, z, n (input side): r, z = sig(a + rec) in place, hn = rec_n + b_hn,
    n = tanh(a_n + r * hn) in place, h_t = n + z * (h_{t-1} - n). Short loops per row, as
    lstm_forward_step."""
    n_, g_ = a.shape
    h_ = g_ // 3
    pre = np.empty(2 * h_, a.dtype)
    for n in range(n_):
        row = a[n]
        row_rec = rec[n]
        for j in range(2 * h_):
            pre[j] = row[j] + row_rec[j]
        for j in range(2 * h_):
            row[j] = sigmoid(pre[j])
        hn_n = hn[n]
        for j in range(h_):
            hn_n[j] = row_rec[2 * h_ + j] + b_hn[j]
        r, z, gate_n = row[:h_], row[h_ : 2 * h_], row[2 * h_ :]
        for j in range(h_):
            gate_n[j] = tanh(gate_n[j] + r[j] * hn_n[j])
        h_prev_n = h_prev[n]
        h_n = h[n]
        for j in range(h_):
            h_n[j] = gate_n[j] + z[j] * (h_prev_n[j] - gate_n[j])


@kernel(fastmath=FASTMATH)
def gru_backward_step(a, hn, h_prev, grad_h, dh, d_ih, d_hh):
    """a (N, 3H) the activated gates r, z, n; dh <- dL/dh_t * z (grad_h added first); writes
    d_ih = [da_r, da_z, da_n] and d_hh = [da_r, da_z, da_n * r] (N, 3H)."""
    n_, g_ = a.shape
    h_ = g_ // 3
    one = a.dtype.type(1.0)
    for n in range(n_):
        row = a[n]
        hn_n = hn[n]
        h_prev_n = h_prev[n]
        grad_h_n = grad_h[n]
        dh_n = dh[n]
        d_ih_n = d_ih[n]
        d_hh_n = d_hh[n]
        for j in range(h_):
            r = row[j]
            z = row[h_ + j]
            gate_n = row[2 * h_ + j]
            d = dh_n[j] + grad_h_n[j]
            da_n = d * (one - z) * (one - gate_n * gate_n)
            da_r = da_n * hn_n[j] * (r * (one - r))
            da_z = d * (h_prev_n[j] - gate_n) * (z * (one - z))
            d_ih_n[j] = da_r
            d_ih_n[h_ + j] = da_z
            d_ih_n[2 * h_ + j] = da_n
            d_hh_n[j] = da_r
            d_hh_n[h_ + j] = da_z
            d_hh_n[2 * h_ + j] = da_n * r
            dh_n[j] = d * z
