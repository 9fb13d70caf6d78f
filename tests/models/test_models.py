"""The reference models: shapes, configs that rebuild them, generation, options and errors."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import models


@pytest.mark.parametrize(
    "model, x, out_shape",
    [
        (
            models.MLP(64, [32, 16], 10, activation="gelu", dropout=0.1, norm="batch"),
            nt.randn(4, 64),
            (4, 10),
        ),
        (models.MLP(12, [8], 3, norm="layer"), nt.randn(4, 3, 4), (4, 3)),
        (models.LeNet(1, 10, image_size=8), nt.randn(2, 1, 8, 8), (2, 10)),
        (models.LeNet(3, 10, image_size=32), nt.randn(2, 3, 32, 32), (2, 10)),
        (models.ResNet(1, 10, widths=[8, 16], blocks=2), nt.randn(2, 1, 8, 8), (2, 10)),
        (
            models.RecurrentClassifier("gru", 8, 16, 2, 10, bidirectional=True),
            nt.randn(2, 5, 8),
            (2, 10),
        ),
        (models.RecurrentLM(20, "lstm", 8, 16), nt.randint(0, 20, (2, 7)), (2, 7, 20)),
        (
            models.TransformerClassifier(8, 10, d_model=16, nhead=2, num_layers=1, max_len=8),
            nt.randn(2, 8, 8),
            (2, 10),
        ),
        (
            models.GPT(30, block_size=16, n_layer=2, n_head=2, n_embd=16),
            nt.randint(0, 30, (2, 9)),
            (2, 9, 30),
        ),
        (models.Autoencoder(64, [32], 8), nt.randn(3, 64), (3, 64)),
        (models.ConvAutoencoder(1, [4, 8]), nt.randn(2, 1, 8, 8), (2, 1, 8, 8)),
    ],
)
def test_forward_backward_and_config_round_trip(model, x, out_shape):
    out = model(x)
    assert out.shape == out_shape
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    twin = models.build(model.config)
    twin.load_state_dict(model.state_dict())
    model.eval()
    twin.eval()
    np.testing.assert_allclose(twin(x).array, model(x).array, rtol=1e-5, atol=1e-6)


def test_gpt_ties_the_head_to_the_embedding_and_generates():
    gpt = models.GPT(30, block_size=8, n_layer=1, n_head=2, n_embd=16)
    assert gpt.lm_head.weight is gpt.wte.weight
    names = [n for n, _ in gpt.named_parameters()]
    assert "lm_head.weight" not in names  # shared parameters are listed once
    start = nt.tensor([[1, 2, 3]])
    a = gpt.generate(start, 12, temperature=0.8, top_k=5, generator=nt.Generator(0))
    b = gpt.generate(start, 12, temperature=0.8, top_k=5, generator=nt.Generator(0))
    assert a.shape == (1, 15) and a.tolist() == b.tolist() and a.tolist()[0][:3] == [1, 2, 3]
    greedy = gpt.generate(start, 4, temperature=0.0)
    assert greedy.tolist() == gpt.generate(start, 4, temperature=0.0).tolist()
    with pytest.raises(ValueError, match="longer than block_size 8"):
        gpt(nt.randint(0, 30, (1, 9)))


def test_recurrent_lm_generates():
    lm = models.RecurrentLM(20, "gru", 8, 16)
    out = lm.generate(nt.tensor([[1, 2]]), 5, generator=nt.Generator(1))
    assert out.shape == (1, 7) and 0 <= min(out.tolist()[0]) and max(out.tolist()[0]) < 20


def test_denoising_noise_only_in_training():
    ae = models.Autoencoder(16, [8], 4, denoising=0.5)
    x = nt.randn(4, 16)
    ae.eval()
    np.testing.assert_array_equal(ae(x).array, ae(x).array)
    ae.train()
    assert not np.array_equal(ae(x).array, ae(x).array)


def test_bad_configs():
    with pytest.raises(ValueError, match="unknown cell 'lstn'"):
        models.RecurrentClassifier("lstn")
    with pytest.raises(ValueError, match="unknown activation 'relu6x'"):
        models.MLP(4, [4], 2, activation="relu6x")
    with pytest.raises(ValueError, match="divisible"):
        models.GPT(10, n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="unknown model 'Foo'"):
        models.build({"name": "Foo"})
