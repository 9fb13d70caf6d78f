"""ONNX mappings of attention: the fused scaled-dot-product op, and MultiheadAttention whole.

    scores = (Q * scale) Kᵀ  (+ float mask, or -inf where a bool mask blocks)
    P = softmax(scores) over the keys;  out = P V

A query row whose keys are all masked gives 0 in the fused op (PyTorch 2.13's SDPA), NaN in
MultiheadAttention with need_weights=True (plain softmax); both are reproduced.

MultiheadAttention is exported as a whole because it merges ``key_padding_mask`` and
``attn_mask`` with NumPy, outside the autograd graph; here the merge is ONNX nodes, so either
mask may be a graph input (e.g. ``export(model, (tokens, padding_mask), ...)``). Its
projections use the layer's ``in_proj_weight``/``out_proj.weight`` initializers.
"""

from __future__ import annotations

import numpy as np

from neuronet.nn.attention import MultiheadAttention
from neuronet.onnx.graph import ExportError
from neuronet.onnx.registry import maps, maps_module
from neuronet.ops.attention import ScaledDotProductAttention


def _transpose_last(g, x: str, ndim: int) -> str:
    perm = list(range(ndim - 2)) + [ndim - 1, ndim - 2]
    return g.node("Transpose", [x], perm=perm)


def _attend(g, q, k, v, ndim: int, scale: float, dtype, mask=None, zero_empty=True):
    """softmax((q * scale) kᵀ masked) v; ``mask`` is ('bool_may', name), ('bool_blocked',
    name) or ('float', name). Returns (out, probabilities)."""
    scores = g.node(
        "MatMul", [g.node("Mul", [q, g.scalar(scale, dtype)]), _transpose_last(g, k, ndim)]
    )
    empty = None
    if mask is not None:
        kind, m = mask
        if kind == "float":
            scores = g.node("Add", [scores, m])
        else:
            ninf = g.scalar(-np.inf, dtype)
            scores = (
                g.node("Where", [m, scores, ninf])
                if kind == "bool_may"
                else g.node("Where", [m, ninf, scores])
            )
        if zero_empty:
            row_max = g.reduce("ReduceMax", scores, [ndim - 1], True)
            empty = g.node("IsInf", [row_max], detect_positive=0)
    probs = g.node("Softmax", [scores], axis=-1)
    if empty is not None:
        probs = g.node("Where", [empty, g.scalar(0, dtype), probs])
    return g.node("MatMul", [probs, v]), probs


@maps(ScaledDotProductAttention)
def _sdpa(g, call):
    if call.param("dropout_p", 0.0) > 0:
        raise ExportError(
            f"{call.where()}: attention dropout_p={call.param('dropout_p')} is random; pass "
            "dropout_p=0.0 in eval mode (e.g. dropout_p=self.dropout if self.training else 0.0)"
        )
    q_shape = call.args[0].shape
    k_shape = call.args[1].shape
    ndim = max(len(q_shape), len(k_shape))
    dtype = call.outputs[0].dtype
    mask = None
    attn_mask = call.param("attn_mask")
    if attn_mask is not None:
        kind = "bool_may" if attn_mask.dtype == np.bool_ else "float"
        mask = (kind, g.arg(call, "attn_mask"))
    elif call.param("is_causal", False):
        L, S = q_shape[-2], k_shape[-2]
        mask = ("bool_may", g.const(np.tril(np.ones((L, S), dtype=bool))))
    zero_empty = call.param("empty_rows", "zero") == "zero" and attn_mask is not None
    out, probs = _attend(
        g,
        g.arg(call, 0),
        g.arg(call, 1),
        g.arg(call, 2),
        ndim,
        float(call.param("scale")),
        dtype,
        mask,
        zero_empty,
    )
    return [out, probs] if call.param("need_weights", False) else [out]


# ---- MultiheadAttention ------------------------------------------------------------------------
def _project(g, x: str, weight: str, bias) -> str:
    y = g.node("MatMul", [x, g.node("Transpose", [weight], perm=[1, 0])])
    return g.node("Add", [y, bias]) if bias else y


def _rows(g, name: str, start: int, stop: int) -> str:
    return g.slice(name, [start], [stop], [0])


def _projections(g, call, mha):
    E = mha.embed_dim
    q_in, k_in, v_in = (g.arg(call, i) for i in range(3))
    bias = None if mha.in_proj_bias is None else g.value(mha.in_proj_bias)
    b = [None] * 3 if bias is None else [_rows(g, bias, i * E, (i + 1) * E) for i in range(3)]
    if not mha._qkv_same_embed_dim:
        weights = [g.value(w) for w in (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight)]
        return tuple(_project(g, x, w, bi) for x, w, bi in zip((q_in, k_in, v_in), weights, b))
    w = g.value(mha.in_proj_weight)
    query, key, value = call.args[:3]
    if query is key and key is value:
        return tuple(g.split(_project(g, q_in, w, bias), [E, E, E], -1))
    ws = [_rows(g, w, i * E, (i + 1) * E) for i in range(3)]
    return tuple(_project(g, x, wi, bi) for x, wi, bi in zip((q_in, k_in, v_in), ws, b))


def _merged_mask(g, call, mha, batched: bool, dtype):
    """The layer's two masks as one: ('bool_blocked', ...) when both are bool, else float."""
    H = mha.num_heads
    masks = []
    attn_mask = call.param("attn_mask")
    if attn_mask is not None:
        m = g.arg(call, "attn_mask")
        if attn_mask.ndim == 3 and batched:
            L, S = attn_mask.shape[1:]
            m = g.node("Reshape", [m, g.ints([-1, H, L, S])])
        masks.append((attn_mask.dtype == np.bool_, m))
    kpm = call.param("key_padding_mask")
    if kpm is not None:
        m = g.arg(call, "key_padding_mask")
        if batched:
            m = g.unsqueeze(m, [1, 2])
        masks.append((kpm.dtype == np.bool_, m))
    if not masks:
        return None
    if all(is_bool for is_bool, _ in masks):
        blocked = masks[0][1] if len(masks) == 1 else g.node("Or", [masks[0][1], masks[1][1]])
        return ("bool_blocked", blocked)
    floats = []
    for is_bool, m in masks:
        if is_bool:
            m = g.node("Where", [m, g.scalar(-np.inf, dtype), g.scalar(0, dtype)])
        floats.append(m)
    total = floats[0] if len(floats) == 1 else g.node("Add", floats)
    return ("float", total)


@maps_module(MultiheadAttention)
def _multihead_attention(g, call):
    mha = call.instance
    E = mha.embed_dim
    H = mha.num_heads
    d = mha.head_dim
    query = call.args[0]
    key = call.args[1]
    batched = query.ndim == 3
    dtype = call.outputs[0].dtype
    need_weights = call.param("need_weights", True)
    q, k, v = _projections(g, call, mha)
    if batched:
        split, merge = (
            ([0, 2, 1, 3], [0, 2, 1, 3]) if mha.batch_first else ([1, 2, 0, 3], [2, 0, 1, 3])
        )
        heads = [
            g.node("Transpose", [g.node("Reshape", [t, g.ints([0, 0, H, d])])], perm=split)
            for t in (q, k, v)
        ]
    else:
        merge = [1, 0, 2]
        heads = [
            g.node("Transpose", [g.node("Reshape", [t, g.ints([0, H, d])])], perm=[1, 0, 2])
            for t in (q, k, v)
        ]
    ndim = 4 if batched else 3
    is_causal = call.param("is_causal", False)
    if is_causal and call.param("key_padding_mask") is None and not need_weights:
        # the layer's own shortcut: attn_mask is taken to be the causal mask it claims to be
        seq = 1 if batched and mha.batch_first else 0
        L, S = query.shape[seq], key.shape[seq]
        mask = ("bool_may", g.const(np.tril(np.ones((L, S), dtype=bool))))
    else:
        mask = _merged_mask(g, call, mha, batched, dtype)
    out, probs = _attend(g, *heads, ndim, 1.0 / np.sqrt(d), dtype, mask, not need_weights)
    out = g.node("Transpose", [out], perm=merge)
    out = g.node("Reshape", [out, g.ints([0, 0, E] if batched else [0, E])])
    out_bias = None if mha.out_proj.bias is None else g.value(mha.out_proj.bias)
    out = _project(g, out, g.value(mha.out_proj.weight), out_bias)
    if not need_weights:
        return [out, None]
    if call.param("average_attn_weights", True):
        probs = g.reduce("ReduceMean", probs, [1 if batched else 0], False)
    return [out, probs]
