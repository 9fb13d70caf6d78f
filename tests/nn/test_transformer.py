"""Transformer layers and stacks against PyTorch: same weights (torch's state dict loaded
unchanged), same inputs and masks, in train mode (dropout=0.0) and eval mode."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from support.module_parity import assert_module_parity, assert_state_dict_loads_into_torch

E, H, FF = 8, 2, 16


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _wrap(torch, ours_module, theirs_module, call):
    """Both modules wrapped so forward(*inputs) = call(module, *inputs, as_tensor)."""

    class Ours(nt.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = ours_module

        def forward(self, *inputs):
            return call(self.m, *inputs, as_tensor=nt.Tensor)

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.m = theirs_module

        def forward(self, *inputs):
            return call(self.m, *inputs, as_tensor=torch.from_numpy)

    return Ours(), Theirs()


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_torch(torch, norm_first, activation, batch_first):
    kwargs = dict(
        dropout=0.0, activation=activation, norm_first=norm_first, batch_first=batch_first
    )
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, H, FF, **kwargs)
    ours = nt.nn.TransformerEncoderLayer(E, H, FF, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_module_parity(ours, theirs, [_x((5, 3, E))])


def test_encoder_layer_with_masks_float64(torch):
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    padding = np.zeros((3, 5), dtype=bool)
    padding[0, -2:] = True

    def call(layer, x, as_tensor):
        return layer(x, src_mask=as_tensor(causal), src_key_padding_mask=as_tensor(padding))

    torch.manual_seed(1)
    ours, theirs = _wrap(
        torch,
        nt.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True),
        torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True),
        call,
    )
    x = _x((3, 5, E), dtype=np.float64)
    assert_module_parity(ours, theirs, [x], rtol=1e-9, atol=1e-11, double=True)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_with_all_masks_matches_torch(torch, norm_first, activation):
    T, S, N = 4, 6, 2
    tgt_mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
    memory_mask = np.zeros((T, S), dtype=bool)
    memory_mask[1, :2] = True
    tgt_pad = np.zeros((N, T), dtype=bool)
    tgt_pad[1, -1] = True
    memory_pad = np.zeros((N, S), dtype=bool)
    memory_pad[0, -3:] = True

    def call(layer, tgt, memory, as_tensor):
        return layer(
            tgt,
            memory,
            tgt_mask=as_tensor(tgt_mask),
            memory_mask=as_tensor(memory_mask),
            tgt_key_padding_mask=as_tensor(tgt_pad),
            memory_key_padding_mask=as_tensor(memory_pad),
            tgt_is_causal=True,
        )

    kwargs = dict(dropout=0.0, activation=activation, norm_first=norm_first)
    torch.manual_seed(2)
    ours, theirs = _wrap(
        torch,
        nt.nn.TransformerDecoderLayer(E, H, FF, **kwargs),
        torch.nn.TransformerDecoderLayer(E, H, FF, **kwargs),
        call,
    )
    assert_module_parity(ours, theirs, [_x((T, N, E), 1), _x((S, N, E), 2)])


def test_encoder_stack_of_two_layers_matches_torch(torch):
    torch.manual_seed(3)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0),
        2,
        norm=torch.nn.LayerNorm(E),
        enable_nested_tensor=False,
    )
    ours = nt.nn.TransformerEncoder(
        nt.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0), 2, norm=nt.nn.LayerNorm(E)
    )
    keys = list(ours.state_dict())
    assert keys == list(theirs.state_dict())
    assert keys[:3] == [
        "layers.0.self_attn.in_proj_weight",
        "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight",
    ]
    assert "layers.1.norm2.bias" in keys and keys[-1] == "norm.bias"
    x = _x((5, 3, E))
    assert_module_parity(ours, theirs, [x])  # loads torch's state dict unchanged
    torch.manual_seed(4)
    fresh = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0),
        2,
        norm=torch.nn.LayerNorm(E),
        enable_nested_tensor=False,
    )
    assert_state_dict_loads_into_torch(ours, fresh, [x])


def test_encoder_stack_detects_a_causal_mask(torch):
    mask = nt.nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(
        mask.array, torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    )
    from neuronet.nn.transformer import _detect_is_causal_mask

    assert _detect_is_causal_mask(mask, None, 5)
    assert _detect_is_causal_mask(nt.Tensor(np.triu(np.ones((5, 5), dtype=bool), 1)), None, 5)
    assert not _detect_is_causal_mask(mask, None, 4)
    assert not _detect_is_causal_mask(nt.zeros(5, 5), None, 5)

    def call(encoder, x, as_tensor):
        return encoder(x, mask=as_tensor(mask.array))

    torch.manual_seed(5)
    ours, theirs = _wrap(
        torch,
        nt.nn.TransformerEncoder(nt.nn.TransformerEncoderLayer(E, H, FF, 0.0), 2),
        torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(E, H, FF, 0.0), 2, enable_nested_tensor=False
        ),
        call,
    )
    assert_module_parity(ours, theirs, [_x((5, 2, E))])


def test_decoder_stack_and_full_transformer_match_torch(torch):
    torch.manual_seed(6)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, H, FF, 0.0), 2)
    ours = nt.nn.TransformerDecoder(nt.nn.TransformerDecoderLayer(E, H, FF, 0.0), 2)
    assert_module_parity(ours, theirs, [_x((4, 2, E), 1), _x((6, 2, E), 2)])

    def call(model, src, tgt, as_tensor):
        tgt_mask = nt.nn.Transformer.generate_square_subsequent_mask(4).array
        return model(src, tgt, tgt_mask=as_tensor(tgt_mask), tgt_is_causal=True)

    kwargs = dict(
        num_encoder_layers=1,
        num_decoder_layers=2,
        dim_feedforward=FF,
        dropout=0.0,
        batch_first=True,
    )
    torch.manual_seed(7)
    ours, theirs = _wrap(
        torch, nt.nn.Transformer(E, H, **kwargs), torch.nn.Transformer(E, H, **kwargs), call
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_module_parity(ours, theirs, [_x((2, 6, E), 3), _x((2, 4, E), 4)])


def test_unbatched_input_and_callable_activation_match_torch(torch):
    torch.manual_seed(8)
    theirs = torch.nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=torch.nn.functional.silu)
    ours = nt.nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=nt.functional.silu)
    assert_module_parity(ours, theirs, [_x((5, E))])
    theirs = torch.nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=torch.nn.GELU())
    ours = nt.nn.TransformerEncoderLayer(E, H, FF, 0.0, activation=nt.nn.GELU())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_module_parity(ours, theirs, [_x((5, 2, E))])


def test_stack_layers_are_independent_copies():
    layer = nt.nn.TransformerEncoderLayer(E, H, FF)
    encoder = nt.nn.TransformerEncoder(layer, 3)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.array, second.linear1.weight.array)
    first.linear1.weight.array[:] = 0
    assert np.abs(second.linear1.weight.array).sum() > 0
    assert np.abs(layer.linear1.weight.array).sum() > 0
    assert second.self_attn.out_proj.describe() == "Linear at 'layers.1.self_attn.out_proj'"
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))


def test_dropout_only_in_training():
    nt.manual_seed(0)
    layer = nt.nn.TransformerEncoderLayer(E, H, FF, dropout=0.3)
    x = nt.randn(5, 2, E)
    nt.manual_seed(1)
    a = layer(x)
    nt.manual_seed(1)
    b = layer(x)
    np.testing.assert_array_equal(a.array, b.array)
    layer.eval()
    c = layer(x)
    assert not np.allclose(a.array, c.array)
    np.testing.assert_array_equal(c.array, layer(x).array)


def test_keeps_float32_and_runs_float64():
    layer = nt.nn.TransformerDecoderLayer(E, H, FF)
    out = layer(nt.randn(3, 2, E), nt.randn(4, 2, E))
    assert out.dtype == np.float32
    layer.double()
    out = layer(nt.randn(3, 2, E, dtype="float64"), nt.randn(4, 2, E, dtype="float64"))
    assert out.dtype == np.float64


def test_encoder_errors_name_the_layer():
    encoder = nt.nn.TransformerEncoder(nt.nn.TransformerEncoderLayer(E, H, FF), 2)
    x = nt.randn(5, 2, E)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer at 'layers.1': expected src"):
        encoder.layers[1](nt.randn(5, 2, 6))
    with pytest.raises(
        ValueError,
        match=r"MultiheadAttention at 'layers.0.self_attn': attn_mask must have shape \(5, 5\)",
    ):
        encoder(x, mask=nt.ones(4, 4, dtype="bool"))
    with pytest.raises(
        ValueError, match=r"'layers.0.self_attn': key_padding_mask must have shape \(2, 5\)"
    ):
        encoder(x, src_key_padding_mask=nt.ones(5, 2, dtype="bool"))
    with pytest.raises(RuntimeError, match="pass attn_mask too"):
        encoder(x, is_causal=True)


def test_decoder_and_constructor_errors():
    decoder = nt.nn.TransformerDecoderLayer(E, H, FF)
    with pytest.raises(ValueError, match=r"TransformerDecoderLayer: expected memory of shape"):
        decoder(nt.randn(3, 2, E), nt.randn(4, 2, E + 1))
    with pytest.raises(ValueError, match="activation should be 'relu' or 'gelu'"):
        nt.nn.TransformerEncoderLayer(E, H, activation="swish")
    with pytest.raises(ValueError, match=r"embed_dim \(8\) must be divisible by num_heads \(3\)"):
        nt.nn.TransformerEncoderLayer(E, 3)
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        nt.nn.TransformerEncoder(nt.nn.TransformerEncoderLayer(E, H), 0)
    with pytest.raises(ValueError, match="same batch size"):
        nt.nn.Transformer(E, H, 1, 1, FF)(nt.randn(5, 2, E), nt.randn(4, 3, E))
