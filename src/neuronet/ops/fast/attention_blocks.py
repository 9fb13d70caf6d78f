"""Causal attention block by block: ``BlockCausalAttention`` in ``attention.py``.

A causal query i only sees keys 0..i, so of the (L, L) score matrix only the lower triangle is
ever used. Cutting the queries into blocks [q0, q1) and giving each block only keys 0..q1-1,

    scoresᵀ[keys 0..q1-1, queries q0..q1-1] = K[:q1] (Q[q0:q1] · scale)ᵀ     (then masked)
    out[q0:q1] = P_blockᵀ V[:q1]

computes (and stores for backward) about (n + 1) / 2n of the full matrix for n blocks of
``BLOCK`` queries: 9/16 at 512 tokens. The heads run in chunks so that one block's scores stay
near ``CHUNK_BYTES``. The backward walks the same blocks; per block, with the same formulas as the
reference op (``ops/attention.py``):

    dL/dV[:q1] += P_block · dL/dout[q0:q1]        (P_block stored transposed, keys first)
    dL/dscoresᵀ = Pᵀ · (V[:q1] dL/dout[q0:q1]ᵀ - rowdot),  rowdot = Σ dL/dout · out
    dL/dQ[q0:q1] = dL/dscores K[:q1] · scale,   dL/dK[:q1] += dL/dscoresᵀ (Q[q0:q1] · scale)

docs/performance.md (Scaling) shows what it saves, and why short sequences keep one matrix.

Used when the causal mask is the only mask, without dropout or returned weights, for square
attention (L = S) of at least 2 * BLOCK tokens with the same batch dimensions on query, key and
value; the softmax is the numba kernel ``softmax_columns`` with the block's query offset.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops._util import swap_last

BLOCK = 64  # queries per block; sequences shorter than 2 blocks take the one-matrix path
CHUNK_BYTES = 1 << 21  # one block's scores for a chunk of heads


def applies(query, key, value, attn_mask, is_causal, dropout_p, need_weights) -> bool:
    """Whether a call can take the block path (numba on is the caller's condition)."""
    return (
        is_causal
        and attn_mask is None
        and dropout_p == 0.0
        and not need_weights
        and query.shape[-2] == key.shape[-2]
        and query.shape[:-2] == key.shape[:-2] == value.shape[:-2]
        and query.shape[-2] >= 2 * BLOCK
    )


def _query_blocks(L: int) -> list:
    return [(q0, min(L, q0 + BLOCK)) for q0 in range(0, L, BLOCK)]


def _head_chunks(heads: int, L: int, block: int, itemsize: int) -> list:
    per_head = max(1, L * block * itemsize)
    size = max(1, min(heads, CHUNK_BYTES // per_head))
    return [(h0, min(heads, h0 + size)) for h0 in range(0, heads, size)]


def forward(query_scaled, key, value):
    """out (..., L, Ev) and the saved blocks of Pᵀ (a list, in the order backward walks)."""
    from neuronet.ops.fast import attention_kernels

    L, E = query_scaled.shape[-2:]
    q = query_scaled.reshape(-1, L, E)
    kk = key.reshape(-1, L, E)
    v = value.reshape(-1, L, value.shape[-1])
    out = np.empty(q.shape[:2] + (v.shape[-1],), dtype=q.dtype)
    blocks = _query_blocks(L)
    saved = []
    for h0, h1 in _head_chunks(q.shape[0], L, blocks[0][1], q.itemsize):
        for q0, q1 in blocks:
            probs_t = np.matmul(kk[h0:h1, :q1], swap_last(q[h0:h1, q0:q1]))  # (heads, q1, q1 - q0)
            attention_kernels.softmax_columns(probs_t, True, True, q0)
            out[h0:h1, q0:q1] = np.matmul(swap_last(probs_t), v[h0:h1, :q1])
            saved.append(probs_t)
    return out.reshape(query_scaled.shape[:-1] + (v.shape[-1],)), saved


def backward(saved_probs, query_scaled, key, value, out, grad_out, scale, needs):
    """(dL/dQ, dL/dK, dL/dV) for the inputs in ``needs`` (None for the others)."""
    need_q, need_k, need_v = needs
    L, E = query_scaled.shape[-2:]
    q = query_scaled.reshape(-1, L, E)
    kk = key.reshape(-1, L, E)
    v = value.reshape(-1, L, value.shape[-1])
    o = out.reshape(v.shape[0], L, -1)
    g = grad_out.reshape(o.shape)
    grad_q = np.empty_like(q) if need_q else None
    grad_k = np.zeros_like(kk) if need_k else None
    grad_v = np.zeros_like(v) if need_v else None
    blocks = _query_blocks(L)
    probs = iter(saved_probs)
    for h0, h1 in _head_chunks(q.shape[0], L, blocks[0][1], q.itemsize):
        for q0, q1 in blocks:
            probs_t = next(probs)
            g_block = g[h0:h1, q0:q1]
            if need_v:
                grad_v[h0:h1, :q1] += np.matmul(probs_t, g_block)
            if not (need_q or need_k):
                continue
            grad_scores_t = np.matmul(v[h0:h1, :q1], swap_last(g_block))
            row_dot = np.einsum("...i,...i->...", g_block, o[h0:h1, q0:q1])
            grad_scores_t -= row_dot[:, None, :]
            grad_scores_t *= probs_t
            if need_q:
                grad_q[h0:h1, q0:q1] = np.matmul(swap_last(grad_scores_t), kk[h0:h1, :q1])
            if need_k:
                grad_k[h0:h1, :q1] += np.matmul(grad_scores_t, q[h0:h1, q0:q1])
    if need_q:
        grad_q *= q.dtype.type(scale)
    shapes = (query_scaled.shape, key.shape, value.shape)
    return tuple(
        None if a is None else a.reshape(s) for a, s in zip((grad_q, grad_k, grad_v), shapes)
    )
