"""Attention: scaled dot-product attention as one fused op with a hand-derived backward.

    scores = Q Kᵀ · scale + mask          (..., L, S)
    P      = softmax(scores) over S       (stable: the row maximum is subtracted first)
    P'     = dropout(P)                   (P · keep / (1 - p); P' = P when p = 0)
    out    = P' V                         (..., L, Ev)

Masks follow PyTorch's ``F.scaled_dot_product_attention`` (docs/semantics.md, "Attention
masks"): a **bool** mask is True where a query MAY attend (the opposite of
``nn.MultiheadAttention`` and ``nn.Transformer``, whose bool masks are True where attention is
masked OUT); a **float** mask is added to the scores. ``is_causal`` is the top-left
lower-triangular mask (query i sees keys 0..i), as PyTorch.

A query row whose every key is masked has an empty softmax. PyTorch 2.13's SDPA returns 0 for such
a row (output and gradients), and so does this op; plain softmax (``nn.MultiheadAttention`` with
``need_weights=True``) gives NaN, which the layer reproduces with ``empty_rows='nan'``.

``ScaledDotProductAttention`` is the reference. ``attention()`` chooses the implementation: with
``backend.fast`` on, the fast paths of ``ops/fast/attention.py`` (score matrices kept
transposed, the softmax as one numba kernel, causal attention block by block).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import swap_last, unbroadcast
from neuronet.random import resolve


@functools.lru_cache(maxsize=32)
def causal_blocked(L: int, S: int) -> np.ndarray:
    """(L, S) grid, True where key j > query i: what a causal query may NOT see."""
    blocked = np.triu(np.ones((L, S), dtype=bool), k=1)
    blocked.flags.writeable = False
    return blocked


def masked_scores(query_scaled, key, attn_mask, is_causal) -> np.ndarray:
    """scores = (Q · scale) Kᵀ, then the mask (added, or -inf where blocked). A fresh array."""
    scores = np.matmul(query_scaled, swap_last(key))
    if attn_mask is not None:
        target = np.broadcast_shapes(scores.shape, attn_mask.shape)
        if target != scores.shape:
            scores = np.array(np.broadcast_to(scores, target))
        if attn_mask.dtype == np.bool_:
            np.copyto(scores, -np.inf, where=~attn_mask)
        else:
            scores += attn_mask
    elif is_causal:
        np.copyto(scores, -np.inf, where=causal_blocked(*scores.shape[-2:]))
    return scores


def softmax_rows(scores: np.ndarray, zero_empty: bool) -> np.ndarray:
    """Softmax over the keys (last axis). Rows that are all -inf become 0 if ``zero_empty``
    (PyTorch's SDPA), else NaN (plain softmax)."""
    row_max = scores.max(axis=-1, keepdims=True)
    empty = np.isneginf(row_max) if zero_empty else None
    if empty is not None:
        row_max[empty] = 0.0
    with np.errstate(invalid="ignore"):  # -inf - -inf = NaN: the plain-softmax empty row
        e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    if empty is not None:
        total[empty] = 1.0  # the row is all zeros already; keep it so
    return e / total


def dropout_keep(generator, shape: tuple, p: float) -> np.ndarray:
    """The dropout mask of the weights (..., L, S): kept where a uniform draw >= p (as
    ops/dropout.py). Drawn as (..., S, L) and transposed, the layout of the fast path, so that
    both paths drop the same weights for the same generator state."""
    uniform = resolve(generator).uniform(shape[:-2] + (shape[-1], shape[-2]), dtype=np.float32)
    return swap_last(uniform >= np.float32(p))


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(Q Kᵀ · scale + mask)) V, fused (see the module docstring).

    Backward, with P the softmax, P' = P · keep / (1 - p) the dropped-out weights and G the
    gradient reaching the returned weights P' (zero unless ``need_weights``):

        dL/dV      = P'ᵀ dL/dout
        dL/dP'     = dL/dout Vᵀ + G
        dL/dP      = dL/dP' · keep / (1 - p)
        dL/dscores = P · (dL/dP - Σ_S P · dL/dP)        (softmax backward, row by row)
        dL/dmask   = dL/dscores     (a float mask that requires grad, e.g. a learned bias)
        dL/dQ      = dL/dscores K · scale,    dL/dK = dL/dscoresᵀ (Q · scale)

    each summed over the batch axes that were broadcast. Masked positions (P = 0) and empty rows
    get zero gradient.

    Forward keywords: scale, is_causal, dropout_p, generator (as the public function);
    need_weights=True also returns P' (..., L, S) as a second, differentiable output (what
    ``nn.MultiheadAttention`` returns); empty_rows='zero' (SDPA: an all-masked row gives 0) or
    'nan' (plain softmax, as PyTorch's MultiheadAttention with need_weights=True).

    Saves: Q · scale, K, V, P, P' and keep (when dropout).
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
        scores = masked_scores(query_scaled, key, attn_mask, is_causal)
        zero_empty = (attn_mask is not None or is_causal) and empty_rows == "zero"
        probs = softmax_rows(scores, zero_empty)
        keep = None
        dropped = probs
        if dropout_p > 0.0:
            keep = dropout_keep(generator, probs.shape, dropout_p)
            dropped = probs * keep
            dropped *= 0.0 if dropout_p >= 1.0 else 1.0 / (1.0 - dropout_p)
        out = np.matmul(dropped, value)
        ctx.scale = scale
        ctx.dropout_p = dropout_p
        ctx.shapes = (query.shape, None if attn_mask is None else attn_mask.shape)
        ctx.save_for_backward(query_scaled, key, value, probs, dropped, keep)
        return (out, dropped) if need_weights else out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        query_scaled, key, value, probs, dropped, keep = ctx.saved
        query_shape, mask_shape = ctx.shapes
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        grad_query = grad_key = grad_value = grad_mask = None
        if need_v:
            grad_value = unbroadcast(np.matmul(swap_last(dropped), grad_out), value.shape)
        grad_dropped = np.matmul(grad_out, swap_last(value))
        if grad_weights is not None:
            grad_dropped = grad_dropped + grad_weights
        grad_probs = grad_dropped
        if keep is not None:
            grad_probs = grad_dropped * keep
            grad_probs *= 0.0 if ctx.dropout_p >= 1.0 else 1.0 / (1.0 - ctx.dropout_p)
        row_dot = np.sum(probs * grad_probs, axis=-1, keepdims=True)
        grad_scores = probs * (grad_probs - row_dot)
        if need_mask:
            grad_mask = unbroadcast(grad_scores, mask_shape)
        if need_q:
            grad_query = unbroadcast(np.matmul(grad_scores, key) * ctx.scale, query_shape)
        if need_k:
            grad_key = unbroadcast(np.matmul(swap_last(grad_scores), query_scaled), key.shape)
        return grad_query, grad_key, grad_value, grad_mask


def attention(
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
    """Apply scaled dot-product attention to checked tensors, choosing the implementation:
    the reference above, or with ``backend.fast`` on the fast paths of ``ops/fast/attention.py``
    (``nn.MultiheadAttention`` calls this directly for ``need_weights``)."""
    params = {
        "scale": float(scale),
        "is_causal": bool(is_causal),
        "dropout_p": float(dropout_p),
        "generator": generator,
        "need_weights": need_weights,
        "empty_rows": empty_rows,
    }
    args = (query, key, value, attn_mask)
    if not backend.fast.enabled:
        return ScaledDotProductAttention.apply(*args, **params)
    numba = backend.fast.numba and query.dtype in (np.float32, np.float64)
    if numba and fast_attention.blocks_apply(query, key, value, attn_mask, **params):
        return fast_attention.BlockCausalAttention.apply(*args, **params)
    if numba:
        return fast_attention.CompiledTransposedAttention.apply(*args, **params)
    return fast_attention.TransposedAttention.apply(*args, **params)


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
    return attention(query, key, value, attn_mask, scale, is_causal, dropout_p, generator)


# The fast paths subclass the Function above (same contract), so they are imported after it.
from neuronet.ops.fast import attention as fast_attention  # noqa: E402

__all__ = ["scaled_dot_product_attention"]
