"""Activation modules: parity with torch (output and input grad, float32 and float64, train and
eval), repr, aliases, ignored inplace=, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from support.module_parity import assert_module_parity

# (name, constructor arguments): each is built as nn.<name>(*args) and torch.nn.<name>(*args)
CASES = [
    ("ReLU", ()),
    ("ReLU6", ()),
    ("LeakyReLU", ()),
    ("LeakyReLU", (0.2,)),
    ("ELU", ()),
    ("ELU", (0.5,)),
    ("GELU", ()),
    ("GELU", ("tanh",)),
    ("SiLU", ()),
    ("Sigmoid", ()),
    ("Tanh", ()),
    ("Softplus", ()),
    ("Softplus", (2.0, 5.0)),
    ("Softmax", (1,)),
    ("Softmax", (-1,)),
    ("LogSoftmax", (1,)),
    ("LogSoftmax", (0,)),
]


def _input(rng, dtype):
    """Values away from the kinks at 0 and 6, with a few large ones for the saturating ops."""
    x = rng.standard_normal((4, 5, 3)) * 3
    x = np.where(np.abs(x) < 0.05, 0.5, x)
    x = np.where(np.abs(x - 6) < 0.05, 6.5, x)
    x[0, 0, 0] = 30.0
    x[0, 1, 0] = -30.0
    return x.astype(dtype)


@pytest.mark.parametrize("name, args", CASES, ids=lambda c: str(c))
def test_activation_parity_float32(torch, rng, name, args):
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    assert_module_parity(ours, theirs, [_input(rng, np.float32)], rtol=1e-5, atol=1e-6, load=False)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name, args", CASES, ids=lambda c: str(c))
def test_activation_parity_float64(torch, rng, name, args):
    ours = getattr(nn, name)(*args)
    theirs = getattr(torch.nn, name)(*args)
    x = _input(rng, np.float64)
    assert_module_parity(ours, theirs, [x], rtol=1e-10, atol=1e-12, load=False)


def test_activations_have_no_state_and_keep_shape_and_dtype(rng):
    x = nt.tensor(_input(rng, np.float32))
    for name, args in CASES:
        layer = getattr(nn, name)(*args)
        assert list(layer.parameters()) == [] and layer.state_dict() == {}
        y = layer(x)
        assert y.shape == x.shape and y.dtype == np.float32, name


def test_softmax_rows_sum_to_one_and_extremes_are_finite():
    x = nt.tensor([[1e4, -1e4, 0.0], [300.0, 300.0, -300.0]])
    y = nn.Softmax(dim=1)(x)
    np.testing.assert_allclose(y.array.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y.array, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    z = nn.LogSoftmax(dim=1)(x)
    assert np.isfinite(z.array).all()
    assert z.array[0, 1] == pytest.approx(-2e4)


def test_aliases_are_the_same_objects():
    assert nn.Swish is nn.SiLU
    assert nn.Dense is nn.Linear
    assert nn.MAELoss is nn.L1Loss


def test_inplace_is_accepted_and_the_input_is_unchanged():
    x = nt.tensor([-1.0, 2.0])
    for layer in (
        nn.ReLU(inplace=True),
        nn.LeakyReLU(0.1, True),
        nn.ELU(1.0, True),
        nn.SiLU(inplace=True),
        nn.ReLU6(inplace=True),
    ):
        layer(x)
        np.testing.assert_array_equal(x.array, [-1.0, 2.0])


def test_errors():
    model = nn.Sequential(nn.Linear(3, 3), nn.Softmax())
    with pytest.raises(ValueError, match=r"Softmax at '1': dim is None.* nn.Softmax\(dim=-1\)"):
        model(nt.randn(2, 3))
    with pytest.raises(ValueError, match=r"LogSoftmax: dim is None.*nn.LogSoftmax\(dim=-1\)"):
        nn.LogSoftmax()(nt.randn(2, 3))
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh', got 'fast'"):
        nn.GELU("fast")
    with pytest.raises(IndexError, match="softmax: dimension 2 is out of range"):
        nn.Softmax(dim=2)(nt.randn(2, 3))
