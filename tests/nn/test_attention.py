"""Attention: the fused scaled_dot_product_attention op (what the op registry cannot express:
dropout, the weights output, empty rows, errors) and nn.MultiheadAttention against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from neuronet.ops.attention import ScaledDotProductAttention
from support.module_parity import assert_module_parity, assert_state_dict_loads_into_torch
from support.parity import assert_close

F = nt.functional


def _qkv(rng, L=4, S=5, E=3, Ev=2, batch=(2,), dtype=np.float64, requires_grad=True):
    shapes = [batch + (L, E), batch + (S, E), batch + (S, Ev)]
    return [
        nt.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=requires_grad) for s in shapes
    ]


# ---- scaled_dot_product_attention ----------------------------------------------------------------


def test_sdpa_matches_the_formula(rng):
    q, k, v = _qkv(rng)
    out = F.scaled_dot_product_attention(q, k, v)
    scores = q.array @ np.swapaxes(k.array, -1, -2) / math.sqrt(3)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.array, weights @ v.array, rtol=1e-12)


def test_sdpa_keeps_float32(rng):
    q, k, v = _qkv(rng, dtype=np.float32)
    mask = nt.Tensor(rng.standard_normal((4, 5)).astype(np.float32))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=0.2)
    out.backward(nt.ones(*out.shape))
    assert out.dtype == np.float32
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_row_gives_zero_output_and_gradient(rng, kind):
    q, k, v = _qkv(rng)
    if kind == "bool":
        mask = np.ones((4, 5), dtype=bool)
        mask[2] = False  # query 2 may attend nowhere
    else:
        mask = np.zeros((4, 5))
        mask[2] = -np.inf
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=nt.Tensor(mask))
    out.backward(nt.Tensor(rng.standard_normal(out.shape)))
    assert np.isfinite(out.array).all() and np.isfinite(k.grad.array).all()
    np.testing.assert_array_equal(out.array[:, 2], 0.0)
    np.testing.assert_array_equal(q.grad.array[:, 2], 0.0)
    assert np.abs(out.array[:, [0, 1, 3]]).min() > 0


def test_sdpa_bool_mask_true_means_may_attend(rng):
    q, k, v = _qkv(rng)
    mask = np.zeros((4, 5), dtype=bool)
    mask[:, 3] = True  # everyone attends only to key 3
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=nt.Tensor(mask))
    np.testing.assert_allclose(out.array, np.broadcast_to(v.array[:, 3:4], out.shape), rtol=1e-12)


def test_sdpa_causal_is_top_left_lower_triangular(rng):
    q, k, v = _qkv(rng, L=4, S=6)
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    allowed = nt.Tensor(np.tril(np.ones((4, 6), dtype=bool)))
    explicit = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    np.testing.assert_allclose(causal.array, explicit.array, rtol=1e-12)
    np.testing.assert_allclose(causal.array[:, 0], np.broadcast_to(v.array[:, 0], (2, 2)))


def test_sdpa_dropout_is_reproducible_and_scaled(rng):
    q, k, v = _qkv(rng, L=64, S=64, batch=(4,), dtype=np.float32, requires_grad=False)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=nt.Generator(3))
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=nt.Generator(3))
    c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=nt.Generator(4))
    np.testing.assert_array_equal(a.array, b.array)
    assert not np.allclose(a.array, c.array)
    out, weights = ScaledDotProductAttention.apply(
        q, k, v, None, scale=0.5, dropout_p=0.25, generator=nt.Generator(0), need_weights=True
    )
    w = weights.array
    dropped = w == 0
    assert 0.2 < dropped.mean() < 0.3  # about p of the weights are zeroed ...
    np.testing.assert_allclose(w.sum(-1).mean(), 1.0, atol=0.02)  # ... the rest scaled by 1/(1-p)
    np.testing.assert_allclose(out.array, w @ v.array, rtol=1e-5, atol=1e-6)
    zero = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(zero.array, 0.0)


def test_sdpa_dropout_gradient_uses_the_same_mask(rng):
    q, k, v = _qkv(rng)

    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, generator=nt.Generator(1))

    assert nt.gradcheck(fn, (q, k, v))


@pytest.mark.parametrize("dropout_p", [0.0, 0.3])
def test_sdpa_weights_output_is_differentiable(rng, dropout_p):
    """With need_weights the op also returns the (dropped-out) weights; gradients reaching them
    flow back into query and key (gradcheck over both outputs)."""
    q, k, v = _qkv(rng)
    mask = nt.Tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def fn(q, k, v, mask):
        return ScaledDotProductAttention.apply(
            q,
            k,
            v,
            mask,
            scale=0.8,
            dropout_p=dropout_p,
            generator=nt.Generator(5),
            need_weights=True,
        )

    assert nt.gradcheck(fn, (q, k, v, mask))


def test_sdpa_empty_rows_nan_mode_is_plain_softmax(rng):
    q, k, v = _qkv(rng, requires_grad=False)
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = False
    out = ScaledDotProductAttention.apply(q, k, v, mask, scale=1.0, empty_rows="nan")
    assert np.isnan(out.array[:, 1]).all() and np.isfinite(out.array[:, [0, 2, 3]]).all()


def test_sdpa_no_grad_records_nothing(rng):
    q, k, v = _qkv(rng)
    with nt.no_grad():
        out = F.scaled_dot_product_attention(q, k, v)
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, attn_mask=nt.ones(4, 5, dtype="bool"), is_causal=True
            ),
            "either attn_mask or is_causal",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, attn_mask=nt.ones(3, 5, dtype="float64")
            ),
            r"attn_mask of shape \(3, 5\) cannot be broadcast .* \(2, 4, 5\)",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, attn_mask=nt.ones(4, 5, dtype="int64")
            ),
            "attn_mask must be bool .* got int64",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(
                q, k, v, attn_mask=nt.ones(4, 5, dtype="float32")
            ),
            r"query's dtype \(float64\)",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(q, nt.Tensor(k.array[..., :2]), v),
            r"query's last dimension \(3.*must equal key's \(2",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(q, k, nt.Tensor(v.array[:, :4])),
            "same sequence length S",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(q, k.float(), v),
            "same dtype",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=1.5),
            "dropout_p must be between 0 and 1, got 1.5",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(q.array, k, v),
            "query must be a Tensor",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(nt.Tensor(q.array[0, 0]), k, v),
            "at least 2 dimensions",
        ),
        (
            lambda q, k, v: F.scaled_dot_product_attention(
                q, nt.randn(3, 5, 3, dtype="float64"), nt.randn(3, 5, 2, dtype="float64")
            ),
            "batch dimensions .* cannot be broadcast",
        ),
    ],
)
def test_sdpa_errors(rng, make, match):
    q, k, v = _qkv(rng, requires_grad=False)
    with pytest.raises((ValueError, TypeError), match=match):
        make(q, k, v)


# ---- nn.MultiheadAttention -----------------------------------------------------------------------


def _pair(torch, call, *args, seed=0, **kwargs):
    """(ours, theirs): MultiheadAttention(*args, **kwargs) in both frameworks, each wrapped so
    that forward(*inputs) = call(mha, *inputs); state-dict keys are 'mha.<torch name>'."""
    torch.manual_seed(seed)
    theirs_mha = torch.nn.MultiheadAttention(*args, **kwargs)
    ours_mha = nt.nn.MultiheadAttention(*args, **kwargs)

    class Ours(nt.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = ours_mha

        def forward(self, *inputs):
            return call(self.mha, *inputs)

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = theirs_mha

        def forward(self, *inputs):
            return call(self.mha, *inputs)

    return Ours(), Theirs()


def _outputs(result):
    """(out, weights) as the list module parity compares: weights dropped when None."""
    out, weights = result
    return out if weights is None else (out, weights)


def _self_attention(**kwargs):
    return lambda mha, x: _outputs(mha(x, x, x, **kwargs))


def _masked(mask_kind, L, S, N, H, rng, padding=True, float_dtype=np.float32):
    """attn_mask and key_padding_mask in PyTorch MHA's convention (bool True = masked out)."""
    if mask_kind == "none":
        return None, None
    attn = rng.random((L, S) if N is None else (N * H, L, S)) < 0.3
    attn[..., 0] = False  # keep one key per query
    pad = np.zeros((N, S) if N is not None else (S,), dtype=bool)
    pad[..., -1] = True  # the last key is padding
    if mask_kind == "float":
        attn = np.where(attn, -np.inf, rng.standard_normal(attn.shape)).astype(float_dtype)
        pad = np.where(pad, -1e4, 0.0).astype(float_dtype)
    return attn, (pad if padding else None)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_self_attention_matches_torch(torch, batch_first, need_weights):
    ours, theirs = _pair(
        torch, _self_attention(need_weights=need_weights), 12, 3, batch_first=batch_first
    )
    x = np.random.default_rng(0).standard_normal((5, 2, 12)).astype(np.float32)
    assert_module_parity(ours, theirs, [x])
    out, weights = ours.mha(nt.Tensor(x), nt.Tensor(x), nt.Tensor(x), need_weights=need_weights)
    assert out.shape == (5, 2, 12)
    if need_weights:
        assert weights.shape == ((5, 2, 2) if batch_first else (2, 5, 5))
    else:
        assert weights is None


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_cross_attention_weights_match_torch_in_float64(torch, average, batch_first):
    """key is value (the encoder-decoder case: one GEMM for keys and values), L != S."""
    ours, theirs = _pair(
        torch,
        lambda mha, q, mem: mha(q, mem, mem, average_attn_weights=average),
        8,
        4,
        batch_first=batch_first,
    )
    rng = np.random.default_rng(1)
    q = rng.standard_normal((3, 4, 8) if batch_first else (4, 3, 8))
    mem = rng.standard_normal((3, 6, 8) if batch_first else (6, 3, 8))
    assert_module_parity(ours, theirs, [q, mem], rtol=1e-9, atol=1e-11, double=True)


def test_mha_distinct_query_key_value_and_kdim_vdim(torch):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((4, 2, d)).astype(np.float32) for d in (8, 8, 8))
    ours, theirs = _pair(torch, lambda mha, q, k, v: mha(q, k, v), 8, 2)
    assert_module_parity(ours, theirs, [q, k, v])
    ours, theirs = _pair(torch, lambda mha, q, k, v: mha(q, k, v), 8, 2, kdim=5, vdim=3)
    keys = list(ours.state_dict())
    assert keys == list(theirs.state_dict())
    assert "mha.in_proj_weight" not in keys and "mha.k_proj_weight" in keys
    k, v = (rng.standard_normal((6, 2, d)).astype(np.float32) for d in (5, 3))
    assert_module_parity(ours, theirs, [q, k, v])


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
@pytest.mark.parametrize("mask_dims", [2, 3])
@pytest.mark.parametrize("need_weights", [False, True])
def test_mha_masks_match_torch(torch, mask_kind, mask_dims, need_weights):
    rng = np.random.default_rng(3)
    N, L, H, E = 3, 5, 2, 8
    attn, pad = _masked(mask_kind, L, L, N if mask_dims == 3 else None, H, rng)
    pad = pad if pad.ndim == 2 else np.broadcast_to(pad, (N, L)).copy()
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    for attn_mask, key_padding_mask in ((attn, None), (None, pad), (attn, pad)):

        def call(mha, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask):
            mask = None if attn_mask is None else _as(mha, attn_mask)
            kpm = None if key_padding_mask is None else _as(mha, key_padding_mask)
            return _outputs(
                mha(x, x, x, attn_mask=mask, key_padding_mask=kpm, need_weights=need_weights)
            )

        ours, theirs = _pair(torch, call, E, H, batch_first=True)
        assert_module_parity(ours, theirs, [x], modes=("train",))


def _as(module, array):
    """``array`` as a tensor of the framework ``module`` belongs to."""
    if isinstance(module, nt.nn.Module):
        return nt.Tensor(array)
    import torch

    return torch.from_numpy(array)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_mha_mixed_mask_types_and_is_causal_match_torch(torch):
    rng = np.random.default_rng(4)
    N, L, E = 2, 6, 8
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    pad = np.zeros((N, L), dtype=np.float32)
    pad[:, -2:] = -np.inf  # float padding mask with a bool attn_mask: added as -inf/0
    x = rng.standard_normal((L, N, E)).astype(np.float32)
    for kwargs in (
        dict(attn_mask=causal, is_causal=True),
        dict(attn_mask=causal, is_causal=True, need_weights=False),
        dict(attn_mask=causal, key_padding_mask=pad, is_causal=True, need_weights=False),
    ):

        def call(mha, x, kwargs=kwargs):
            kw = {k: (_as(mha, v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
            return _outputs(mha(x, x, x, **kw))

        ours, theirs = _pair(torch, call, E, 2)
        assert_module_parity(ours, theirs, [x])


def test_mha_unbatched_and_no_bias_match_torch(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 8)).astype(np.float32)
    attn = rng.random((2, 5, 5)) < 0.3
    attn[..., 0] = False
    pad = np.zeros(5, dtype=bool)
    pad[-1] = True

    def call(mha, x):
        return mha(
            x,
            x,
            x,
            attn_mask=_as(mha, attn),
            key_padding_mask=_as(mha, pad),
            average_attn_weights=False,
        )

    ours, theirs = _pair(torch, call, 8, 2, bias=False, batch_first=True)
    assert "mha.in_proj_bias" not in ours.state_dict()
    assert_module_parity(ours, theirs, [x])


def test_mha_float_attn_mask_gets_a_gradient(torch):
    """A learned float mask (e.g. a relative-position bias) receives dL/dmask, as in PyTorch."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 2, 8)).astype(np.float32)
    bias = rng.standard_normal((4, 4)).astype(np.float32)
    ours, theirs = _pair(torch, lambda mha, x, b: mha(x, x, x, attn_mask=b), 8, 2)
    assert_module_parity(ours, theirs, [x, bias])


def test_mha_fully_masked_query(torch):
    """All keys of a query masked: need_weights=False gives out_proj.bias (the fused op's 0),
    need_weights=True gives NaN (plain softmax); both as PyTorch 2.13."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 8)).astype(np.float32)
    pad = np.zeros((2, 3), dtype=bool)
    pad[1] = True  # every key of sample 1 is padding
    ours, theirs = _pair(torch, lambda mha, x: mha, 8, 2, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    ours.mha.out_proj.bias.array[:] = 0.5
    theirs.mha.out_proj.bias.data[:] = 0.5
    for need_weights in (False, True):
        o, ow = ours.mha(
            *[nt.Tensor(x)] * 3, key_padding_mask=nt.Tensor(pad), need_weights=need_weights
        )
        t, tw = theirs.mha(
            *[torch.from_numpy(x)] * 3,
            key_padding_mask=torch.from_numpy(pad),
            need_weights=need_weights,
        )
        assert_close(o, t, 1e-4, 1e-5, f"need_weights={need_weights}")
        if need_weights:
            assert np.isnan(o.array[1]).all() and np.isnan(ow.array[1]).all()
            assert_close(ow, tw, 1e-4, 1e-5, "weights")
        else:
            np.testing.assert_allclose(o.array[1], 0.5)


def test_mha_state_dict_round_trip(torch):
    ours, theirs = _pair(torch, lambda mha, x: mha(x, x, x), 8, 2)
    assert list(ours.mha.state_dict()) == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in ours.mha.state_dict().items():
        assert p.shape == tuple(theirs.mha.state_dict()[name].shape), name
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(8).standard_normal((3, 2, 8)).astype(np.float32)
    torch.manual_seed(1)
    fresh = _pair(torch, lambda mha, x: mha(x, x, x), 8, 2, seed=1)[1]
    assert_state_dict_loads_into_torch(ours, fresh, [x])


def test_mha_default_init_follows_torch():
    nt.manual_seed(0)
    mha = nt.nn.MultiheadAttention(16, 4)
    bound = math.sqrt(6 / (16 + 48))
    w = mha.in_proj_weight.array
    assert w.shape == (48, 16) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert (mha.in_proj_bias.array == 0).all() and (mha.out_proj.bias.array == 0).all()
    assert np.abs(mha.out_proj.weight.array).max() <= 1 / math.sqrt(16)
    assert "embed_dim=16, num_heads=4, batch_first=False" in repr(mha)


def test_mha_dropout_only_in_training():
    nt.manual_seed(0)
    mha = nt.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = nt.randn(2, 6, 8)
    nt.manual_seed(1)
    a, wa = mha(x, x, x)
    nt.manual_seed(1)
    b, _ = mha(x, x, x)
    np.testing.assert_array_equal(a.array, b.array)
    assert (wa.array == 0).any()
    mha.eval()
    c, wc = mha(x, x, x)
    d, _ = mha(x, x, x)
    np.testing.assert_array_equal(c.array, d.array)
    assert not np.allclose(a.array, c.array)
    np.testing.assert_allclose(wc.array.sum(-1), 1.0, rtol=1e-5)


class _Encoder(nt.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nt.nn.ModuleList([nt.nn.MultiheadAttention(8, 2)])


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, x: m(nt.randn(4, 2, 6), x, x), ValueError, r"expected query with last dim"),
        (lambda m, x: m(x, nt.randn(4, 2, 6), x), ValueError, r"last dimension 8 \(kdim\)"),
        (lambda m, x: m(x, x, nt.randn(5, 2, 8)), ValueError, "key and value must agree"),
        (lambda m, x: m(x, nt.randn(4, 3, 8), nt.randn(4, 3, 8)), ValueError, "batch sizes"),
        (lambda m, x: m(nt.randn(8), x, x), ValueError, "query must be 3-D"),
        (lambda m, x: m(x, x, x, attn_mask=nt.ones(4, 5)), ValueError, r"attn_mask must have"),
        (
            lambda m, x: m(x, x, x, attn_mask=nt.ones(2, 4, 4)),
            ValueError,
            r"\(4, 4, 4\) \(N \* num_heads, L, S\), got \(2, 4, 4\)",
        ),
        (
            lambda m, x: m(x, x, x, key_padding_mask=nt.ones(4, 2, dtype="bool")),
            ValueError,
            r"key_padding_mask must have shape \(2, 4\)",
        ),
        (
            lambda m, x: m(x, x, x, key_padding_mask=nt.ones(2, 4, dtype="int64")),
            TypeError,
            "must be bool .* got dtype int64",
        ),
        (lambda m, x: m(x, x, x, is_causal=True), RuntimeError, "pass attn_mask too"),
        (lambda m, x: m(x.double(), x, x), TypeError, "query dtype float64 does not match"),
    ],
)
def test_mha_input_errors_name_the_module(call, error, match):
    model = _Encoder()
    x = nt.randn(4, 2, 8)
    with pytest.raises(error, match=match) as info:
        call(model.blocks[0], x)
    assert "MultiheadAttention at 'blocks.0'" in str(info.value)


def test_mha_constructor_errors():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(4\)"):
        nt.nn.MultiheadAttention(10, 4)
    with pytest.raises(ValueError, match="num_heads must be a positive int"):
        nt.nn.MultiheadAttention(8, 0)
    with pytest.raises(NotImplementedError, match="add_bias_kv=True is not supported"):
        nt.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(NotImplementedError, match="add_zero_attn=True is not supported"):
        nt.nn.MultiheadAttention(8, 2, add_zero_attn=True)
    with pytest.raises(ValueError, match="dropout must be between 0 and 1"):
        nt.nn.MultiheadAttention(8, 2, dropout=2.0)
