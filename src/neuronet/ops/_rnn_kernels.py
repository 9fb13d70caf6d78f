"""Fused numba kernels for the element-wise part of one BPTT step of the LSTM and the GRU.

Each kernel is the loop form of the NumPy step of the same name in ``_rnn_cells.py`` (the
readable reference, with the formulas in its docstrings; same arguments): it reads every array
once per step instead of once per ufunc. The backward step is pure arithmetic (the forward saved
every activation), so LLVM vectorises these loops; the forward stays in NumPy, whose SIMD tanh is
faster than a scalar libm call per element. The recurrent GEMMs stay in NumPy (BLAS).
Conventions: arrays are C-contiguous and of one dtype; ``t``/``prev`` index the time axes, so
the signatures do not change with the step (one compilation per dtype).

Compiled on first use and cached on disk (``cache=True``); loaded lazily through
``neuronet.ops._jit.kernels``, so ``import neuronet`` never imports numba.
"""

from __future__ import annotations

from numba import njit

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_JIT)
def lstm_backward_step(gates, tanh_cs, cs, grad_seq, t, prev, dh_next, dc, d, scratch):
    """gates (4, T, N, H) i, f, o, g; writes d[:, t] and dc <- dL/dc_{t-1} (scratch unused)."""
    _, _, n_, h_ = gates.shape
    one = gates.dtype.type(1.0)
    for n in range(n_):
        for j in range(h_):
            i = gates[0, t, n, j]
            f = gates[1, t, n, j]
            o = gates[2, t, n, j]
            g = gates[3, t, n, j]
            tc = tanh_cs[t, n, j]
            dh = grad_seq[t, n, j] + dh_next[n, j]
            d_c = dc[n, j] + dh * o * (one - tc * tc)
            d[0, t, n, j] = d_c * g * (i * (one - i))
            d[1, t, n, j] = d_c * cs[prev, n, j] * (f * (one - f))
            d[2, t, n, j] = dh * tc * (o * (one - o))
            d[3, t, n, j] = d_c * i * (one - g * g)
            dc[n, j] = d_c * f


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
