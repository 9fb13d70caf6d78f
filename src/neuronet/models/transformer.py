"""Transformers: an encoder classifier and GPT, a decoder-only language model."""

from __future__ import annotations

import math

import numpy as np

from neuronet import functional as F
from neuronet import nn
from neuronet.models.base import record_config, register
from neuronet.models.sampling import sample_next


@register
class TransformerClassifier(nn.Module):
    """A Transformer encoder over a sequence of feature vectors, mean-pooled, then linear:

        z = W_in x + p (learned positions);  z = Encoder(z);  y = W_out mean_t(z_t)

    Args:
        input_size: features per token (e.g. 8 pixels of a digits row).
        num_classes, d_model, nhead, num_layers, dim_feedforward, dropout, max_len.

    Shape: (N, T, input_size) -> (N, num_classes).
    """

    def __init__(
        self,
        input_size=8,
        num_classes=10,
        d_model=64,
        nhead=4,
        num_layers=2,
        dim_feedforward=128,
        dropout=0.1,
        max_len=64,
    ):
        super().__init__()
        record_config(self, locals())
        self.proj = nn.Linear(input_size, d_model)
        self.pos = nn.Parameter(np.zeros((1, max_len, d_model), dtype=np.float32))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, num_classes)

    def forward(self, x):
        t = x.shape[1]
        z = self.proj(x) + self.pos[:, :t]
        z = self.norm(self.encoder(z))
        return self.fc(z.mean(1))


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused QKV projection (c_attn) and the fused
    scaled-dot-product attention op."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.dropout = dropout
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x):
        n, t, c = x.shape
        h = self.n_head
        qkv = self.c_attn(x).reshape(n, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        y = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).reshape(n, t, c)
        return self.resid_drop(self.c_proj(y))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)) with GELU."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


@register
class GPT(nn.Module):
    """A decoder-only Transformer language model (Radford et al., 2018/2019):

        x = wte(idx) + wpe(positions);  x = Block_L(...Block_1(x));  logits = ln_f(x) wte^T

    The output head shares the token embedding's weight (weight tying).

    Args:
        vocab_size, block_size (context length), n_layer, n_head, n_embd, dropout.

    Shape: (N, T) token ids with T <= block_size -> logits (N, T, vocab_size).
    """

    def __init__(self, vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0):
        super().__init__()
        record_config(self, locals())
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, idx):
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(
                f"GPT at '{self.module_path()}': sequence length {t} is longer than block_size "
                f"{self.block_size}; crop the input to the last {self.block_size} tokens"
            )
        from neuronet.creation import arange

        x = self.drop(self.wte(idx) + self.wpe(arange(t)))
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Extend ``idx`` (N, T) by ``max_new_tokens`` tokens sampled one at a time (the context
        is cropped to ``block_size``)."""
        from neuronet.autograd.grad_mode import no_grad
        from neuronet.models.sampling import check_generate

        check_generate(type(self).__name__, max_new_tokens, temperature, top_k)
        from neuronet.autograd.tensor import Tensor

        was_training = self.training
        self.eval()
        tokens = idx.array
        with no_grad():
            for _ in range(max_new_tokens):
                logits = self(Tensor(tokens[:, -self.block_size :]))
                nxt = sample_next(logits.array[:, -1], temperature, top_k, generator)
                tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
        self.train(was_training)
        return Tensor(tokens)
