"""Attention layers: MultiheadAttention (Vaswani et al., 2017, https://arxiv.org/abs/1706.03762).

Mask convention (docs/semantics.md, "Attention masks"): in this layer, as in PyTorch's
``nn.MultiheadAttention`` and ``nn.Transformer*``, a **bool** ``attn_mask`` or ``key_padding_mask``
is True where attention is **masked out** (not allowed). That is the opposite of
``F.scaled_dot_product_attention``, whose bool mask is True where a query MAY attend. Float masks
are added to the scores in both.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.backend import DEFAULT_DTYPE, as_dtype
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.linear import Linear
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import arithmetic as A
from neuronet.ops import joining as J
from neuronet.ops import matmul as M
from neuronet.ops import reduction as R
from neuronet.ops import shape as S
from neuronet.ops.attention import attention, scaled_dot_product_attention


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_out^T + b_out,
    head_i = softmax((Q W_q,i^T)(K W_k,i^T)^T / sqrt(d) + mask) (V W_v,i^T),  d = embed_dim / h.

    The h heads are computed as one batched fused attention op (``F.scaled_dot_product_attention``
    when ``need_weights=False``, the fast path; otherwise the same fused op also returns the
    attention weights).

    Args:
        embed_dim: model dimension E (query features and output features).
        num_heads: number of heads h; E must be divisible by h (each head has E / h features).
        dropout: dropout probability on the attention weights (training mode only). Default 0.
        bias: learn input and output projection biases. Default True.
        add_bias_kv, add_zero_attn: not supported (must be False).
        kdim, vdim: key and value feature sizes (default E). When either differs from E the
            projections are separate parameters q_proj_weight, k_proj_weight, v_proj_weight.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E). Default False.
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Forward (query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights or None):
        key_padding_mask: (N, S) (or (S,) unbatched); bool True = that key is padding, IGNORED;
            float: added.
        attn_mask: (L, S) or (N * num_heads, L, S) (or (num_heads, L, S) unbatched); bool True =
            NOT allowed to attend (opposite of F.scaled_dot_product_attention); float: added.
        need_weights: also return the attention weights (after dropout), averaged over heads
            (N, L, S) if ``average_attn_weights`` else per head (N, num_heads, L, S).
        is_causal: a hint that attn_mask is the causal mask (attn_mask is still required, as
            PyTorch); lets the fast path skip the mask.
    A query whose keys are all masked gets output = out_proj.bias when need_weights=False (the
    fused op gives 0 there, as PyTorch's SDPA) and NaN when need_weights=True (plain softmax,
    as PyTorch).

    Shape:
        query (L, N, E) or (N, L, E) with batch_first, or (L, E) unbatched; key (S, N, kdim);
        value (S, N, vdim); attn_output like query.

    Attributes:
        in_proj_weight: (3E, E), Xavier-uniform U(+-sqrt(6 / (E + 3E))) (None if kdim/vdim != E).
        q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim): Xavier-uniform,
            only when kdim/vdim != E.
        in_proj_bias: (3E,), zeros.
        out_proj: Linear(E, E): weight U(+-1/sqrt(E)) (Linear's default), bias zeros.

    Example:
        >>> import neuronet as nt
        >>> mha = nt.nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = nt.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, "MultiheadAttention's parameters")
        _check_sizes(embed_dim, num_heads, dropout)
        if add_bias_kv or add_zero_attn:
            which = "add_bias_kv" if add_bias_kv else "add_zero_attn"
            raise NotImplementedError(
                f"MultiheadAttention: {which}=True is not supported by neuronet; it appends a "
                "learned (or zero) key/value step, which few models use. Append that step to "
                "key and value yourself, or leave it False"
            )
        dtype = as_dtype(dtype) or DEFAULT_DTYPE
        self.embed_dim = int(embed_dim)
        self.kdim = int(kdim) if kdim is not None else self.embed_dim
        self.vdim = int(vdim) if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = False
        self.bias_k = self.bias_v = None
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * E,), dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform projections, zero biases; out_proj.weight keeps Linear's init (torch)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    _reset_parameters = reset_parameters  # PyTorch's name

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        batched = self._check_inputs(query, key, value)
        # (N, L, E) batch_first, (L, N, E) otherwise, (L, E) unbatched: where each axis is.
        seq_axis, batch_axis = (1, 0) if self.batch_first else (0, 1)
        if not batched:
            seq_axis, batch_axis = 0, None
        L, S = query.shape[seq_axis], key.shape[seq_axis]
        N = query.shape[batch_axis] if batched else None
        if is_causal and attn_mask is None:
            raise RuntimeError(
                f"{self.describe()}: is_causal=True is a hint that attn_mask is the causal mask; "
                "pass attn_mask too (e.g. nn.Transformer.generate_square_subsequent_mask(L)), "
                "as PyTorch requires"
            )
        mask = self._merged_mask(attn_mask, key_padding_mask, query, N, L, S)
        causal = False
        if is_causal and key_padding_mask is None and not need_weights:
            mask, causal = None, True  # the fused op's causal path skips the mask entirely
        q, k, v = self._in_projection(query, key, value)
        q, k, v = (self._split_heads(t, batch_axis) for t in (q, k, v))
        dropout_p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            out, weights = attention(
                q,
                k,
                v,
                mask,
                scale=1.0 / math.sqrt(self.head_dim),
                dropout_p=dropout_p,
                need_weights=True,
                empty_rows="nan",
            )
            if average_attn_weights:
                weights = R.mean(weights, dim=0 if N is None else 1)
        else:
            out = scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=causal
            )
        out = self._merge_heads(out, batch_axis)
        out = M.linear(out, self.out_proj.weight, self.out_proj.bias)
        return out, weights

    # ---- pieces of forward ---------------------------------------------------------------------
    def _in_projection(self, query, key, value) -> tuple:
        """q, k, v = the three input projections, sharing GEMMs where the inputs are shared."""
        E = self.embed_dim
        b_q = b_k = b_v = None
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = J.split(self.in_proj_bias, E)
        if not self._qkv_same_embed_dim:
            q = M.linear(query, self.q_proj_weight, b_q)
            k = M.linear(key, self.k_proj_weight, b_k)
            v = M.linear(value, self.v_proj_weight, b_v)
            return q, k, v
        if query is key and key is value:  # self-attention: one (E -> 3E) GEMM
            return J.split(M.linear(query, self.in_proj_weight, self.in_proj_bias), E, dim=-1)
        w_q, w_k, w_v = J.split(self.in_proj_weight, E)
        q = M.linear(query, w_q, b_q)
        if key is value:  # encoder-decoder attention: one (E -> 2E) GEMM for keys and values
            w_kv = J.split(self.in_proj_weight, [E, 2 * E])[1]
            b_kv = None if b_q is None else J.split(self.in_proj_bias, [E, 2 * E])[1]
            k, v = J.split(M.linear(key, w_kv, b_kv), E, dim=-1)
            return q, k, v
        return q, M.linear(key, w_k, b_k), M.linear(value, w_v, b_v)

    def _split_heads(self, x: Tensor, batch_axis) -> Tensor:
        """(.., E) with sequence and batch axes as given -> (N, h, seq, d) (or (h, seq, d))."""
        x = S.reshape(x, tuple(x.shape[:-1]) + (self.num_heads, self.head_dim))
        if batch_axis is None:
            return S.permute(x, 1, 0, 2)
        return S.permute(x, (0, 2, 1, 3) if batch_axis == 0 else (1, 2, 0, 3))

    def _merge_heads(self, x: Tensor, batch_axis) -> Tensor:
        """The inverse of ``_split_heads``: (N, h, L, d) -> the input layout with E features."""
        if batch_axis is None:
            x = S.permute(x, 1, 0, 2)
        else:
            x = S.permute(x, (0, 2, 1, 3) if batch_axis == 0 else (2, 0, 1, 3))
        return S.reshape(x, tuple(x.shape[:-2]) + (self.embed_dim,))

    def _merged_mask(self, attn_mask, key_padding_mask, query, N, L, S_len):
        """One mask for the fused op, broadcastable to (N, h, L, S): bool True = MAY attend
        (both masks inverted and combined) when every given mask is bool, else a float mask
        (bool ones become -inf / 0, then the two are added, as PyTorch)."""
        masks = []
        H = self.num_heads
        if attn_mask is not None:
            _check_mask(self, "attn_mask", attn_mask)
            shapes = [(L, S_len), (H, L, S_len) if N is None else (N * H, L, S_len)]
            if tuple(attn_mask.shape) not in shapes:
                raise ValueError(
                    f"{self.describe()}: attn_mask must have shape {shapes[0]} (L, S) or "
                    f"{shapes[1]} ({'num_heads' if N is None else 'N * num_heads'}, L, S), got "
                    f"{tuple(attn_mask.shape)}"
                )
            if attn_mask.ndim == 3 and N is not None:
                attn_mask = S.reshape(attn_mask, (N, H, L, S_len))
            masks.append(attn_mask)
        if key_padding_mask is not None:
            _check_mask(self, "key_padding_mask", key_padding_mask)
            want = (S_len,) if N is None else (N, S_len)
            if tuple(key_padding_mask.shape) != want:
                raise ValueError(
                    f"{self.describe()}: key_padding_mask must have shape {want} "
                    f"({'S' if N is None else 'N, S'}: True marks a padding key), got "
                    f"{tuple(key_padding_mask.shape)}"
                )
            if N is not None:
                key_padding_mask = S.reshape(key_padding_mask, (N, 1, 1, S_len))
            masks.append(key_padding_mask)
        if not masks:
            return None
        if all(m.dtype == np.bool_ for m in masks):
            blocked = masks[0].array if len(masks) == 1 else masks[0].array | masks[1].array
            return Tensor(~blocked)
        dtype = query.dtype
        floats = []
        for m in masks:
            if m.dtype == np.bool_:
                m = Tensor(np.where(m.array, -np.inf, 0.0).astype(dtype))
            elif m.dtype != dtype:
                m = S.cast(m, dtype)
            floats.append(m)
        return floats[0] if len(floats) == 1 else A.add(floats[0], floats[1])

    def _check_inputs(self, query, key, value) -> bool:
        """Validate shapes and dtypes; return whether the input is batched."""
        where = self.describe()
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{where}: {name} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3):
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(
                f"{where}: query must be 3-D {layout} or 2-D (L, E) unbatched, got shape "
                f"{tuple(query.shape)}"
            )
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{where}: key and value must have as many dims as query ({query.ndim}-D), got "
                f"key {tuple(key.shape)} and value {tuple(value.shape)}"
            )
        for name, t, size, what in (
            ("query", query, self.embed_dim, "embed_dim"),
            ("key", key, self.kdim, "kdim"),
            ("value", value, self.vdim, "vdim"),
        ):
            if t.shape[-1] != size:
                raise ValueError(
                    f"{where}: expected {name} with last dimension {size} ({what}), got shape "
                    f"{tuple(t.shape)}; check the layer before or set {what}={t.shape[-1]}"
                )
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(
                f"{where}: key and value must agree in every dim but the last, got key "
                f"{tuple(key.shape)} and value {tuple(value.shape)}"
            )
        batch_axis = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_axis] != key.shape[batch_axis]:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(
                f"{where}: query and key have different batch sizes ({query.shape[batch_axis]} "
                f"and {key.shape[batch_axis]}) in layout {layout}; with batch_first="
                f"{self.batch_first} the batch is dim {batch_axis}"
            )
        weight = self.out_proj.weight
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dtype != weight.dtype:
                raise TypeError(
                    f"{where}: {name} dtype {t.dtype} does not match the parameters' dtype "
                    f"{weight.dtype}; convert the input or the model (.to(...))"
                )
        return query.ndim == 3

    def extra_repr(self) -> str:
        extra = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            extra += f", dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            extra += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.in_proj_bias is None:
            extra += ", bias=False"
        return extra + f", batch_first={self.batch_first}"


def _check_sizes(embed_dim, num_heads, dropout) -> None:
    for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(
                f"MultiheadAttention: {name} must be a positive int, got {value!r} "
                f"(embed_dim={embed_dim!r}, num_heads={num_heads!r})"
            )
    if embed_dim % num_heads:
        raise ValueError(
            f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
            f"({num_heads}): each head gets embed_dim / num_heads features; e.g. num_heads="
            f"{_divisor_near(embed_dim, num_heads)}"
        )
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"MultiheadAttention: dropout must be between 0 and 1, got {dropout}")


def _divisor_near(n: int, k: int) -> int:
    """The divisor of n closest to k (for a helpful error message)."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - k), d))


def _check_mask(module: Module, name: str, mask) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{module.describe()}: {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(
            f"{module.describe()}: {name} must be bool (True = masked out) or float (added to "
            f"the scores), got dtype {mask.dtype}"
        )


__all__ = ["MultiheadAttention"]
