"""Transformer layers (Vaswani et al., 2017, https://arxiv.org/abs/1706.03762), as PyTorch:
TransformerEncoderLayer, TransformerDecoderLayer, their stacks TransformerEncoder and
TransformerDecoder, and the full encoder-decoder Transformer.

Submodule names and therefore state-dict keys are PyTorch's (``layers.0.self_attn.in_proj_weight``,
``layers.0.linear1.weight``, ``layers.0.norm1.bias``, ...), so a PyTorch checkpoint loads unchanged.

Masks follow ``nn.MultiheadAttention`` (docs/semantics.md, "Attention masks"): a bool ``*_mask`` or
``*_key_padding_mask`` is True where attention is **masked out** (the opposite of
``F.scaled_dot_product_attention``); float masks are added to the attention scores.

Post-norm (``norm_first=False``, the paper and PyTorch's default):
    x = norm1(x + dropout1(self_attn(x)));  x = norm2(x + dropout2(ff(x)))
Pre-norm (``norm_first=True``, Xiong et al., 2020, https://arxiv.org/abs/2002.04745):
    x = x + dropout1(self_attn(norm1(x)));  x = x + dropout2(ff(norm2(x)))
with ff(x) = linear2(dropout(activation(linear1(x)))).
"""

from __future__ import annotations

import copy
import weakref

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.attention import MultiheadAttention
from neuronet.nn.containers import ModuleList
from neuronet.nn.dropout import Dropout
from neuronet.nn.linear import Linear
from neuronet.nn.module import Module
from neuronet.nn.normalization import LayerNorm
from neuronet.ops import activation as act


def _activation_fn(activation):
    """'relu' / 'gelu' -> the function; a callable (function or Module) is kept as it is."""
    if isinstance(activation, str):
        if activation == "relu":
            return act.relu
        if activation == "gelu":
            return act.gelu
        raise ValueError(
            f"activation should be 'relu' or 'gelu' (or a callable such as nn.GELU()), not "
            f"{activation!r}"
        )
    if not callable(activation):
        raise TypeError(f"activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _check_features(module: Module, name: str, x, d_model: int) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{module.describe()}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ValueError(
            f"{module.describe()}: expected {name} of shape (S, N, {d_model}), (N, S, {d_model}) "
            f"with batch_first, or (S, {d_model}) unbatched (d_model={d_model}), got "
            f"{tuple(x.shape)}"
        )


def _reset_children(module: Module) -> None:
    for child in module.children():
        if hasattr(child, "reset_parameters"):
            child.reset_parameters()


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each with a residual connection and
    LayerNorm (post-norm by default; see the module docstring for both orders).

    Args:
        d_model: features per token (E).
        nhead: attention heads (d_model must be divisible by nhead).
        dim_feedforward: hidden size of the feed-forward network. Default 2048.
        dropout: dropout on the attention weights, after attention, inside and after the
            feed-forward network. Default 0.1.
        activation: 'relu' (default), 'gelu' (exact erf GELU) or any callable.
        layer_norm_eps: LayerNorm eps. Default 1e-5.
        batch_first: (N, S, E) instead of (S, N, E). Default False.
        norm_first: pre-norm instead of post-norm. Default False.
        bias: biases in the Linear and LayerNorm layers (and attention projections).
        dtype: parameter dtype (default float32); ``device``: ``'cpu'`` or None.

    Forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_mask (S, S) or (N * nhead, S, S); src_key_padding_mask (N, S); bool True = masked
        out. ``is_causal`` is a hint that src_mask is causal (src_mask still required).

    Shape: src (S, N, E), (N, S, E) with batch_first, or (S, E); output the same.

    Attributes (submodules, PyTorch's names): self_attn (MultiheadAttention), linear1
    (d_model -> dim_feedforward), dropout, linear2 (dim_feedforward -> d_model), norm1, norm2,
    dropout1, dropout2; each initialised by its own default (Linear: U(+-1/sqrt(fan_in)),
    LayerNorm: weight 1 and bias 0, attention: Xavier-uniform in_proj).

    Example:
        >>> import neuronet as nt
        >>> layer = nt.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        >>> layer(nt.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, f"{type(self).__name__}'s parameters")
        self.d_model = int(d_model)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation_fn(activation)

    def reset_parameters(self) -> None:
        """Re-initialise every sublayer with its own default (they initialise on creation)."""
        _reset_children(self)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        _check_features(self, "src", src, self.d_model)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


class TransformerDecoderLayer(Module):
    """Masked self-attention, cross-attention over the encoder output (``memory``), then a
    feed-forward network; each with a residual connection and LayerNorm (norm1..norm3).

    Post-norm:  x = norm1(x + sa(x)); x = norm2(x + mha(x, memory)); x = norm3(x + ff(x))
    Pre-norm:   x = x + sa(norm1(x)); x = x + mha(norm2(x), memory); x = x + ff(norm3(x))

    Args: as ``TransformerEncoderLayer``.

    Forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        tgt_mask (T, T) (usually causal), memory_mask (T, S), tgt_key_padding_mask (N, T),
        memory_key_padding_mask (N, S); bool True = masked out.

    Shape: tgt (T, N, E), memory (S, N, E) ((N, T, E), (N, S, E) with batch_first); output as
    tgt.

    Attributes: self_attn, multihead_attn (MultiheadAttention), linear1, dropout, linear2,
    norm1, norm2, norm3, dropout1, dropout2, dropout3 (PyTorch's names and initialisation).

    Example:
        >>> import neuronet as nt
        >>> layer = nt.nn.TransformerDecoderLayer(16, 4, 32, batch_first=True)
        >>> layer(nt.randn(2, 3, 16), nt.randn(2, 5, 16)).shape
        (2, 3, 16)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, f"{type(self).__name__}'s parameters")
        self.d_model = int(d_model)
        attn = dict(dropout=dropout, batch_first=batch_first, bias=bias, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **attn)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attn)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation_fn(activation)

    def reset_parameters(self) -> None:
        """Re-initialise every sublayer with its own default (they initialise on creation)."""
        _reset_children(self)

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ):
        _check_features(self, "tgt", tgt, self.d_model)
        _check_features(self, "memory", memory, self.d_model)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


def _clones(module: Module, n: int) -> ModuleList:
    """n deep copies of ``module`` (independent parameters, identical initial values).

    ``copy.deepcopy`` shares the weak references by which a module knows its parent, so each
    copy's submodules are re-linked to the copy (error messages then name the right path).
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"num_layers must be a positive int, got {n!r}")
    copies = []
    for _ in range(int(n)):
        clone = copy.deepcopy(module)
        object.__setattr__(clone, "_parent", None)
        for parent in clone.modules():
            for name, child in parent.named_children():
                object.__setattr__(child, "_parent", weakref.ref(parent))
                object.__setattr__(child, "_name", name)
        copies.append(clone)
    return ModuleList(copies)


def _seq_len(x: Tensor, batch_first: bool) -> int:
    if x.ndim == 2:
        return x.shape[0]
    return x.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal, size: int) -> bool:
    """``is_causal`` if given; else whether ``mask`` is exactly the (size, size) causal mask
    (bool True above the diagonal, or float -inf above and 0 elsewhere), as PyTorch."""
    if is_causal is not None:
        return bool(is_causal)
    if mask is None or tuple(mask.shape) != (size, size):
        return False
    blocked = np.triu(np.ones((size, size), dtype=bool), 1)
    data = mask.array
    if data.dtype == np.bool_:
        return bool(np.array_equal(data, blocked))
    return bool(np.all(np.where(blocked, data == -np.inf, data == 0)))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then an optional ``norm``.

    Args:
        encoder_layer: a TransformerEncoderLayer, deep-copied num_layers times (so every layer
            starts from the same weights, as PyTorch; re-initialise them if you want them to
            differ).
        num_layers: how many layers.
        norm: a module applied to the output (e.g. LayerNorm(d_model)), or None.
        enable_nested_tensor, mask_check: accepted for PyTorch compatibility and ignored
            (neuronet has no nested tensors, so padded positions are computed like the others;
            PyTorch's inference fast path returns 0 there instead).

    Forward(src, mask=None, src_key_padding_mask=None, is_causal=None): masks as in
    TransformerEncoderLayer; ``is_causal=None`` detects a causal ``mask``.

    Attributes: layers (ModuleList: ``layers.0.self_attn.in_proj_weight``, ...), norm.
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        first = self.layers[0]
        if isinstance(src, Tensor) and isinstance(first, TransformerEncoderLayer):
            size = _seq_len(src, first.self_attn.batch_first)
            is_causal = _detect_is_causal_mask(mask, is_causal, size)
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                is_causal=bool(is_causal),
                src_key_padding_mask=src_key_padding_mask,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then an optional ``norm``.

    Args: decoder_layer (deep-copied, as TransformerEncoder), num_layers, norm.

    Forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False): as
    TransformerDecoderLayer; ``tgt_is_causal=None`` detects a causal ``tgt_mask``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal: bool = False,
    ):
        first = self.layers[0]
        if isinstance(tgt, Tensor) and isinstance(first, TransformerDecoderLayer):
            size = _seq_len(tgt, first.self_attn.batch_first)
            tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, size)
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer: encoder = TransformerEncoder(num_encoder_layers,
    norm=LayerNorm), decoder = TransformerDecoder(num_decoder_layers, norm=LayerNorm);
    out = decoder(tgt, encoder(src)). Every parameter with more than one dimension is then
    re-initialised Xavier-uniform (PyTorch's ``_reset_parameters``).

    Args: d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
        dim_feedforward=2048, dropout=0.1, activation='relu', custom_encoder=None,
        custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
        bias=True (as the layers); custom_encoder/decoder replace the built stacks.

    Forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False) -> (T, N, E).

    Attributes: encoder (layers.*, norm), decoder (layers.*, norm), d_model, nhead,
    batch_first.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, "Transformer's parameters")
        layer = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        norm = dict(eps=layer_norm_eps, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **layer)
            encoder_norm = LayerNorm(d_model, **norm)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **layer)
            decoder_norm = LayerNorm(d_model, **norm)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform for every parameter with more than one dimension (as PyTorch)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    _reset_parameters = reset_parameters  # PyTorch's name

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal: bool = False,
    ):
        batch = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch] != tgt.shape[batch]:
            raise ValueError(
                f"{self.describe()}: src and tgt must have the same batch size, got "
                f"{tuple(src.shape)} and {tuple(tgt.shape)} (batch_first={self.batch_first})"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The (sz, sz) float causal mask: -inf above the diagonal (future positions), 0 else."""
        check_device(device)
        dtype = np.dtype(dtype) if dtype is not None else np.float32
        mask = np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1)
        return Tensor(mask)


__all__ = [
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
]
