"""The numba kernel for attention's softmax (see ``attention.py`` for the NumPy paths).

The scores are kept transposed, (batch, S, L), so the softmax runs down each column. NumPy
needs six passes (max, subtract, exp, column sums, reciprocal, scale) plus one more to write a
causal mask; this kernel does the mask, the maximum, exp and the sum in two sweeps of each
(S, L) block while it sits in cache, and a third to scale. exp comes from ``fastmath.py`` (a
vectorisable polynomial in float32, the C library's in float64).

Empty columns (every key masked) become 0 (``zero_empty``, PyTorch's SDPA) or NaN (plain
softmax). Compiled on first use and cached on disk; imported by the Function
that calls it (``ops/fast/jit.py``).
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.fast.fastmath import FASTMATH, exp_nonpositive
from neuronet.ops.fast.jit import kernel


@kernel(fastmath=FASTMATH)
def softmax_columns(scores_t, causal, zero_empty, offset):
    """scores_t (B, S, L) in place: softmax over axis 1; with ``causal``, entries s > l + offset
    (key after query; column l is query l + offset of the sequence) are masked first."""
    B, S, L = scores_t.shape
    dtype = scores_t.dtype
    neg_inf = dtype.type(-np.inf)
    col_max = np.empty(L, dtype)
    col_sum = np.empty(L, dtype)
    for b in range(B):
        block = scores_t[b]
        col_max[:] = neg_inf
        for s in range(S):
            row = block[s]
            if causal:
                for l in range(max(0, min(s - offset, L))):
                    row[l] = neg_inf
            for l in range(L):
                col_max[l] = max(col_max[l], row[l])
        for l in range(L):
            if col_max[l] == neg_inf:  # an empty column
                col_max[l] = 0.0 if zero_empty else np.nan
        col_sum[:] = 0.0
        for s in range(S):
            row = block[s]
            for l in range(L):
                e = exp_nonpositive(row[l] - col_max[l])
                row[l] = e
                col_sum[l] += e
        for l in range(L):
            col_sum[l] = 1.0 / col_sum[l] if col_sum[l] > 0 else 0.0
        for s in range(S):
            row = block[s]
            for l in range(L):
                row[l] *= col_sum[l]
