"""Specs for ops/attention.py: scaled_dot_product_attention (fused; masks, causal, broadcasting).

Dropout cannot match PyTorch's random stream, so its spec has no torch oracle: the generator is
re-seeded on every call, which makes the op deterministic for gradcheck.
"""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec


def _torch_sdpa(**kwargs):
    def call(*args):
        import torch.nn.functional as F

        q, k, v = args[:3]
        mask = args[3] if len(args) > 3 else None
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs)

    return call


def _sdpa(**kwargs):
    def call(*args):
        q, k, v = args[:3]
        mask = args[3] if len(args) > 3 else None
        return nt.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs)

    return call


def _qkv(q_shape, k_shape, v_shape, mask=None):
    """Inputs q, k, v (+ a mask: 'bool' with one fully masked row, 'float' with -inf entries)."""

    def make(rng, dtype):
        q = rng.standard_normal(q_shape).astype(dtype)
        k = rng.standard_normal(k_shape).astype(dtype)
        v = rng.standard_normal(v_shape).astype(dtype)
        out = [q, k, v]
        L, S = q_shape[-2], k_shape[-2]
        if mask is not None:
            kind, shape = mask
            shape = tuple(shape) + (L, S)
            if kind == "bool":
                m = rng.random(shape) > 0.4
                m[..., 0] = True  # every row may attend somewhere ...
                m[..., 1, :] = False  # ... except row 1: fully masked (PyTorch gives 0)
            else:
                m = rng.standard_normal(shape).astype(dtype)
                m[rng.random(shape) < 0.25] = -np.inf
                m[..., 0] = 0.5
            out.append(m)
        return out

    return make


def _dropout_sdpa(q, k, v):
    g = nt.Generator(7)
    return nt.scaled_dot_product_attention(q, k, v, dropout_p=0.3, generator=g)


SDPA = "scaled_dot_product_attention"
_TOL = dict(rtol32=1e-4, atol32=1e-5)

SPECS = [
    # plain, unbatched-2D and 3-D, Ev != E
    OpSpec(SDPA, _sdpa(), _torch_sdpa(), _qkv((3, 4), (5, 4), (5, 2)), **_TOL),
    OpSpec(SDPA, _sdpa(), _torch_sdpa(), _qkv((2, 3, 4), (2, 5, 4), (2, 5, 3)), **_TOL),
    # batch dimensions broadcast between query, key and value
    OpSpec(SDPA, _sdpa(), _torch_sdpa(), _qkv((2, 1, 3, 4), (1, 2, 4, 4), (2, 2, 4, 3)), **_TOL),
    # bool mask (True = may attend), (L, S) and per-batch, with a fully masked row
    OpSpec(
        SDPA,
        _sdpa(),
        _torch_sdpa(),
        _qkv((2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 2), ("bool", ())),
        **_TOL,
    ),
    OpSpec(
        SDPA, _sdpa(), _torch_sdpa(), _qkv((2, 3, 3), (2, 4, 3), (2, 4, 2), ("bool", (2,))), **_TOL
    ),
    # float mask (added; -inf blocks), which itself gets a gradient
    OpSpec(
        SDPA,
        _sdpa(),
        _torch_sdpa(),
        _qkv((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), ("float", (2, 1))),
        **_TOL,
    ),
    # causal, square and L != S (top-left aligned), and a custom scale
    OpSpec(
        SDPA,
        _sdpa(is_causal=True),
        _torch_sdpa(is_causal=True),
        _qkv((2, 4, 3), (2, 4, 3), (2, 4, 2)),
        **_TOL,
    ),
    OpSpec(
        SDPA,
        _sdpa(is_causal=True),
        _torch_sdpa(is_causal=True),
        _qkv((5, 3), (3, 3), (3, 4)),
        **_TOL,
    ),
    OpSpec(
        SDPA,
        _sdpa(scale=0.7, is_causal=True),
        _torch_sdpa(scale=0.7, is_causal=True),
        _qkv((3, 4, 5), (3, 6, 5), (3, 6, 2)),
        **_TOL,
    ),
    # bigger: multi-head shapes (element-wise gradcheck on a small case of the same kind)
    OpSpec(
        SDPA,
        _sdpa(),
        _torch_sdpa(),
        _qkv((2, 4, 16, 8), (2, 4, 16, 8), (2, 4, 16, 8), ("bool", ())),
        fast_gradcheck=True,
        gradcheck_inputs=_qkv((1, 2, 5, 3), (1, 2, 5, 3), (1, 2, 5, 3), ("bool", ())),
        **_TOL,
    ),
    # causal over 130 tokens: the numba path runs it block by block (a short last block)
    OpSpec(
        SDPA,
        _sdpa(is_causal=True),
        _torch_sdpa(is_causal=True),
        _qkv((1, 130, 2), (1, 130, 2), (1, 130, 2)),
        **_TOL,
    ),
    # dropout on the weights (fixed generator, so deterministic): gradcheck only
    OpSpec(SDPA, _dropout_sdpa, None, _qkv((2, 4, 3), (2, 5, 3), (2, 5, 2))),
]
