"""The fast paths of scaled dot-product attention (the reference is ``ops/attention.py``).

``TransposedAttention``: the same formulas with the (L, S) score matrices kept transposed,
(S, L), so that the softmax reduces over axis -2 (NumPy's max and sum over the last axis of
short rows are several times slower) and every product is one batched GEMM with free
transposes. Its softmax is ``probs_t_numpy`` (six NumPy passes); ``CompiledTransposedAttention``'s
is ``probs_t_compiled``, the numba kernel of ``attention_kernels.py`` that masks, exponentiates
and normalises each (S, L) block in cache.

``BlockCausalAttention``: causal attention without other masks, dropout or returned weights,
for at least 2 * BLOCK tokens, block by block (``attention_blocks.py``): only the lower
triangle of the score matrices is computed and kept.

``ops/attention.py``'s ``attention()`` chooses between them and the reference.
"""

from __future__ import annotations

import functools

import numpy as np

from neuronet.ops import attention as reference
from neuronet.ops._util import swap_last, unbroadcast
from neuronet.ops.fast import attention_blocks
from neuronet.random import resolve


@functools.lru_cache(maxsize=32)
def _causal_blocked_t(S: int, L: int) -> np.ndarray:
    """(S, L) grid, True where key j > query i: what a causal query may NOT see (transposed)."""
    blocked = np.tril(np.ones((S, L), dtype=bool), k=-1)
    blocked.flags.writeable = False
    return blocked


def _masked_scores_t(key, query_scaled, attn_mask, is_causal) -> np.ndarray:
    """scoresᵀ = K (Q · scale)ᵀ, then the mask (added, or -inf where blocked). A fresh array."""
    scores_t = np.matmul(key, swap_last(query_scaled))
    if attn_mask is not None:
        mask_t = swap_last(attn_mask)
        target = np.broadcast_shapes(scores_t.shape, mask_t.shape)
        if target != scores_t.shape:
            scores_t = np.array(np.broadcast_to(scores_t, target))
        if attn_mask.dtype == np.bool_:
            np.copyto(scores_t, -np.inf, where=~mask_t)
        else:
            scores_t += mask_t
    elif is_causal:
        np.copyto(scores_t, -np.inf, where=_causal_blocked_t(*scores_t.shape[-2:]))
    return scores_t


def _softmax_t_(scores_t: np.ndarray, zero_empty: bool) -> np.ndarray:
    """Softmax over axis -2 (the keys), in place. Columns that are all -inf become 0 if asked
    (PyTorch's SDPA), else NaN (plain softmax)."""
    col_max = scores_t.max(axis=-2, keepdims=True)
    empty = None
    if zero_empty:
        empty = np.isneginf(col_max)
        if empty.any():
            col_max[empty] = 0.0
        else:
            empty = None
    with np.errstate(invalid="ignore"):  # -inf - -inf = NaN: the plain-softmax empty column
        scores_t -= col_max
    np.exp(scores_t, out=scores_t)
    ones = np.ones((1, scores_t.shape[-2]), dtype=scores_t.dtype)
    denom = np.matmul(ones, scores_t)  # the column sums by BLAS: ~6x faster than .sum(-2)
    if empty is not None:
        denom[empty] = 1.0  # the column is all zeros already; keep it so
    np.reciprocal(denom, out=denom)
    scores_t *= denom
    return scores_t


def probs_t_numpy(key, query_scaled, attn_mask, is_causal, zero_empty) -> np.ndarray:
    """Pᵀ (..., S, L): the masked scores' softmax over the keys, in NumPy."""
    return _softmax_t_(_masked_scores_t(key, query_scaled, attn_mask, is_causal), zero_empty)


def probs_t_compiled(key, query_scaled, attn_mask, is_causal, zero_empty) -> np.ndarray:
    """``probs_t_numpy`` with the causal mask, max, exp, sum and scale in one numba kernel."""
    from neuronet.ops.fast import attention_kernels

    probs_t = np.ascontiguousarray(_masked_scores_t(key, query_scaled, attn_mask, False))
    blocks = probs_t.reshape((-1,) + probs_t.shape[-2:])
    attention_kernels.softmax_columns(blocks, is_causal, zero_empty, 0)
    return probs_t


class TransposedAttention(reference.ScaledDotProductAttention):
    """``ScaledDotProductAttention`` (same formulas and arguments) on transposed score matrices:

        dL/dV       = P'ᵀ dL/dout                (P'ᵀ as stored: one GEMM)
        dL/dP'ᵀ     = V dL/doutᵀ + Gᵀ
        dL/dscoresᵀ = Pᵀ · (dL/dPᵀ - rowdot),  rowdot = Σ_Ev dL/dout · out + Σ_S P' · G
        dL/dQ = dL/dscores K · scale,  dL/dK = dL/dscoresᵀ (Q · scale)

    The softmax's row sum Σ_S P · dL/dP equals rowdot (no (L, S) product needed).
    Saves: Q · scale, K, V, Pᵀ, P'ᵀ and keep (when dropout), out.
    """

    probs_t = staticmethod(probs_t_numpy)

    @staticmethod
    def forward(
        ctx,
        query,
        key,
        value,
        attn_mask,
        scale,
        is_causal=False,
        dropout_p=0.0,
        generator=None,
        need_weights=False,
        empty_rows="zero",
    ):
        query_scaled = query * query.dtype.type(scale)
        zero_empty = (attn_mask is not None or is_causal) and empty_rows == "zero"
        probs_t = ctx.fn.probs_t(key, query_scaled, attn_mask, is_causal, zero_empty)
        keep_t = None
        dropped_t = probs_t
        if dropout_p > 0.0:
            uniform = resolve(generator).uniform(probs_t.shape, dtype=np.float32)
            keep_t = uniform >= np.float32(dropout_p)  # as ops/dropout.py: kept w.p. 1 - p
            dropped_t = probs_t * keep_t
            dropped_t *= 0.0 if dropout_p >= 1.0 else 1.0 / (1.0 - dropout_p)
        out = np.matmul(swap_last(dropped_t), value)
        ctx.scale = scale
        ctx.dropout_p = dropout_p
        ctx.query_shape = query.shape
        ctx.mask_shape = None if attn_mask is None else attn_mask.shape
        ctx.save_for_backward(query_scaled, key, value, probs_t, dropped_t, keep_t, out)
        if need_weights:
            return out, swap_last(dropped_t)
        return out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        query_scaled, key, value, probs_t, dropped_t, keep_t, out = ctx.saved
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        grad_query = grad_key = grad_value = grad_mask = None
        if need_v:
            grad_value = unbroadcast(np.matmul(dropped_t, grad_out), value.shape)
        if not (need_q or need_k or need_mask):
            return grad_query, grad_key, grad_value, None
        grad_dropped_t = np.matmul(value, swap_last(grad_out))
        row_dot = np.einsum("...i,...i->...", grad_out, out)[..., None, :]
        if grad_weights is not None and grad_weights.any():
            grad_weights_t = swap_last(grad_weights)
            grad_dropped_t += grad_weights_t
            row_dot = (
                row_dot + np.einsum("...ji,...ji->...i", grad_weights_t, dropped_t)[..., None, :]
            )
        grad_probs_t = grad_dropped_t
        if keep_t is not None:
            grad_probs_t *= keep_t
            grad_probs_t *= 0.0 if ctx.dropout_p >= 1.0 else 1.0 / (1.0 - ctx.dropout_p)
        grad_scores_t = grad_probs_t
        grad_scores_t -= row_dot
        grad_scores_t *= probs_t
        if need_mask:
            grad_mask = unbroadcast(swap_last(grad_scores_t), ctx.mask_shape)
        if need_q:
            grad_query = np.matmul(swap_last(grad_scores_t), key)
            grad_query *= ctx.scale
            grad_query = unbroadcast(grad_query, ctx.query_shape)
        if need_k:
            grad_key = unbroadcast(np.matmul(grad_scores_t, query_scaled), key.shape)
        return grad_query, grad_key, grad_value, grad_mask


class CompiledTransposedAttention(TransposedAttention):
    """``TransposedAttention`` whose softmax (mask, max, exp, sum, scale) is one numba kernel."""

    probs_t = staticmethod(probs_t_compiled)


def blocks_apply(query, key, value, attn_mask, is_causal, dropout_p, need_weights, **_) -> bool:
    """Whether a call can take ``BlockCausalAttention`` (``attention_blocks.applies``)."""
    return attention_blocks.applies(
        query, key, value, attn_mask, is_causal, dropout_p, need_weights
    )


class BlockCausalAttention(reference.ScaledDotProductAttention):
    """``ScaledDotProductAttention`` for causal attention, block by block over the queries:
    each block of queries [q0, q1) sees keys 0..q1-1 only, so only the lower triangle of the
    score matrices is computed and saved (formulas in ``attention_blocks.py``).

    Saves: Q · scale, K, V, the blocks of Pᵀ, out.
    """

    @staticmethod
    def forward(
        ctx,
        query,
        key,
        value,
        attn_mask,
        scale,
        is_causal=True,
        dropout_p=0.0,
        generator=None,
        need_weights=False,
        empty_rows="zero",
    ):  # the reference's arguments; attention() sends only calls this path computes exactly
        query_scaled = query * query.dtype.type(scale)
        out, probs = attention_blocks.forward(query_scaled, key, value)
        ctx.scale = scale
        ctx.save_for_backward(query_scaled, key, value, probs, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        query_scaled, key, value, probs, out = ctx.saved
        needs = ctx.needs_input_grad[:3]
        grads = attention_blocks.backward(
            probs, query_scaled, key, value, out, grad_out, ctx.scale, needs
        )
        return grads + (None,)
