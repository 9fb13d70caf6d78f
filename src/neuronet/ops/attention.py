"""Attention: scaled dot-product attention as one fused op with a hand-derived backward.

    scores = Q Kᵀ · scale + mask          (..., L, S)
    P      = softmax(scores) over S       (stable: the row maximum is subtracted first)
    P'     = dropout(P)                   (P · keep / (1 - p); P' = P when p = 0)
    out    = P' V                         (..., L, Ev)

Masks follow PyTorch's ``F.scaled_dot_product_attention`` (SEMANTICS #18): a **bool** mask is
True where a query MAY attend (the opposite of ``nn.MultiheadAttention`` and ``nn.Transformer``,
whose bool masks are True where attention is masked OUT); a **float** mask is added to the
scores. ``is_causal`` is the top-left lower-triangular mask (query i sees keys 0..i), as PyTorch.

A query row whose every key is masked has an empty softmax. PyTorch 2.13's SDPA returns 0 for such
a row (output and gradients), and so does this op; plain softmax (``nn.MultiheadAttention`` with
``need_weights=True``) gives NaN, which the layer reproduces with ``empty_rows='nan'``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops import _attention_blocks
from neuronet.ops._jit import kernels
from neuronet.ops._util import swap_last, unbroadcast
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


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(Q Kᵀ · scale + mask)) V, fused (see the module docstring).

    Layout: the (L, S) score matrices are kept transposed, (S, L), so that the softmax reduces
    over axis -2; NumPy's max/sum over the last axis of short rows is several times slower.
    Every product below is one batched GEMM (transposes are free views).

    Backward, with P the softmax, P' = P · keep / (1 - p) the dropped-out weights, G the
    gradient reaching the returned weights P' (zero unless ``need_weights``):

        dL/dV  = P'ᵀ dL/dout
        dL/dP' = dL/dout Vᵀ + G
        dL/dP  = dL/dP' · keep / (1 - p)
        dL/dscores = P · (dL/dP - Σ_S P · dL/dP)     softmax backward; the row sum equals
                     Σ_Ev dL/dout · out + Σ_S P' · G (cheaper: no (L, S) product needed)
        dL/dmask = dL/dscores      (a float mask that requires grad, e.g. a learned bias)
        dL/dQ  = dL/dscores K · scale,   dL/dK = dL/dscoresᵀ (Q · scale)
    each summed over the batch axes that were broadcast. Masked positions (P = 0) and empty rows
    get zero gradient.

    Forward keywords: scale, is_causal, dropout_p, generator (as the public function);
    need_weights=True also returns P' (..., L, S) as a second, differentiable output (what
    ``nn.MultiheadAttention`` returns); empty_rows='zero' (SDPA: an all-masked row gives 0) or
    'nan' (plain softmax, as PyTorch's MultiheadAttention with need_weights=True).

    Saves: Q · scale, K, V, Pᵀ, P'ᵀ and keep (when dropout), out. Causal attention over 128
    tokens or more without other masks, dropout or returned weights runs block by block and
    keeps only the lower triangle of Pᵀ (``_attention_blocks.py``).
    """

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
        masked = attn_mask is not None or is_causal
        zero_empty = masked and empty_rows == "zero"
        k = kernels("_attention_kernels") if query.dtype in (np.float32, np.float64) else None
        ctx.scale = scale
        ctx.blocked = _attention_blocks.usable(
            query, key, value, attn_mask, is_causal, dropout_p, need_weights, k
        )
        if ctx.blocked:  # causal only: the lower triangle, block by block
            out, probs = _attention_blocks.forward(k, query_scaled, key, value)
            ctx.save_for_backward(query_scaled, key, value, probs, out)
            return out
        if k is not None:  # mask (causal), max, exp, sum and scale in one kernel (numba)
            probs_t = np.ascontiguousarray(_masked_scores_t(key, query_scaled, attn_mask, False))
            k.softmax_columns(probs_t.reshape((-1,) + probs_t.shape[-2:]), is_causal, zero_empty, 0)
        else:
            scores_t = _masked_scores_t(key, query_scaled, attn_mask, is_causal)
            probs_t = _softmax_t_(scores_t, zero_empty=zero_empty)
        keep_t = None
        dropped_t = probs_t
        if dropout_p > 0.0:
            uniform = resolve(generator).uniform(probs_t.shape, dtype=np.float32)
            keep_t = uniform >= np.float32(dropout_p)  # as ops/dropout.py: kept w.p. 1 - p
            dropped_t = probs_t * keep_t
            dropped_t *= 0.0 if dropout_p >= 1.0 else 1.0 / (1.0 - dropout_p)
        out = np.matmul(swap_last(dropped_t), value)
        ctx.dropout_p = dropout_p
        ctx.query_shape = query.shape
        ctx.mask_shape = None if attn_mask is None else attn_mask.shape
        ctx.save_for_backward(query_scaled, key, value, probs_t, dropped_t, keep_t, out)
        if need_weights:
            return out, swap_last(dropped_t)
        return out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        if ctx.blocked:
            query_scaled, key, value, probs, out = ctx.saved
            needs = ctx.needs_input_grad[:3]
            grads = _attention_blocks.backward(
                probs, query_scaled, key, value, out, grad_out, ctx.scale, needs
            )
            return grads + (None,)
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


def _check_inputs(query, key, value, attn_mask, dropout_p, is_causal) -> None:
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")
        if t.ndim < 2:
            raise ValueError(
                f"{op}: {name} must have at least 2 dimensions (..., seq, features), got shape "
                f"{tuple(t.shape)}"
            )
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(
            f"{op}: query, key and value must have the same dtype, got {query.dtype}, "
            f"{key.dtype} and {value.dtype}; convert them with .float() or .double()"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"{op}: query's last dimension ({query.shape[-1]}, shape {tuple(query.shape)}) must "
            f"equal key's ({key.shape[-1]}, shape {tuple(key.shape)}): Q Kᵀ contracts over it"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{op}: key and value must have the same sequence length S (dimension -2), got key "
            f"{tuple(key.shape)} and value {tuple(value.shape)}"
        )
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: the batch dimensions of query {tuple(query.shape)}, key {tuple(key.shape)} "
            f"and value {tuple(value.shape)} (all but the last two) cannot be broadcast together"
        ) from None
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p}")
    if attn_mask is None:
        return
    if is_causal:
        raise ValueError(
            f"{op}: give either attn_mask or is_causal=True, not both (as PyTorch); for a causal "
            "mask combined with another, build the combined mask yourself"
        )
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{op}: attn_mask must be a Tensor or None, got {type(attn_mask)}")
    if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
        raise TypeError(
            f"{op}: attn_mask must be bool (True = may attend) or have query's dtype "
            f"({query.dtype}) to be added to the scores, got {attn_mask.dtype}"
        )
    target = tuple(batch) + (query.shape[-2], key.shape[-2])
    try:
        fits = np.broadcast_shapes(attn_mask.shape, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{op}: attn_mask of shape {tuple(attn_mask.shape)} cannot be broadcast to the "
            f"attention scores' shape {target} (batch..., L, S); give an (L, S) mask or one with "
            "matching (or size-1) batch dimensions"
        )


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    generator=None,
) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V, with optional dropout on the attention weights.

    As ``torch.nn.functional.scaled_dot_product_attention``, one fused op (forward and a
    hand-derived backward; see ``ScaledDotProductAttention``).

    Args:
        query: (..., L, E).
        key: (..., S, E).
        value: (..., S, Ev). The batch dimensions (...) of the three broadcast together.
        attn_mask: None, a **bool** mask where True means the query MAY attend to that key
            (PyTorch's SDPA convention; ``nn.MultiheadAttention`` uses the opposite), or a float
            mask of query's dtype added to the scores (-inf blocks). Broadcasts to (..., L, S).
            A float mask that requires grad gets a gradient (learned attention biases).
        dropout_p: probability of zeroing each attention weight (the kept ones are scaled by
            1/(1-p)). Applied whenever > 0, as PyTorch: pass 0.0 at evaluation time.
        is_causal: mask key j > query i (top-left aligned when L != S). Not with attn_mask.
        scale: multiplies Q Kᵀ; default 1/sqrt(E).
        generator: the ``neuronet.Generator`` for the dropout mask (default generator if None).

    Returns:
        (..., L, Ev). A query row whose keys are all masked gives 0 (PyTorch 2.13 does too).

    Example:
        >>> import neuronet as nt
        >>> q = nt.randn(2, 4, 5, 8)
        >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
        (2, 4, 5, 8)
    """
    _check_inputs(query, key, value, attn_mask, dropout_p, is_causal)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    return ScaledDotProductAttention.apply(
        query,
        key,
        value,
        attn_mask,
        scale=float(scale),
        is_causal=bool(is_causal),
        dropout_p=float(dropout_p),
        generator=generator,
    )


__all__ = ["scaled_dot_product_attention"]
