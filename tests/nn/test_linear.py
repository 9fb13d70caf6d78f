"""nn.Identity, nn.Linear (nn.Dense), nn.Flatten, nn.Unflatten: parity with torch, default init,
shapes, repr and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from support.module_parity import assert_module_parity, assert_state_dict_loads_into_torch


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 5), (2, 3, 5), (5,)])
def test_linear_parity(torch, rng, bias, shape):
    torch.manual_seed(0)
    theirs = torch.nn.Linear(5, 4, bias=bias)
    ours = nn.Linear(5, 4, bias=bias)
    x = rng.standard_normal(shape).astype(np.float32)
    assert_module_parity(ours, theirs, [x])


def test_linear_parity_float64(torch, rng):
    torch.manual_seed(1)
    theirs = torch.nn.Linear(6, 3)
    ours = nn.Linear(6, 3)
    x = rng.standard_normal((4, 6))
    assert_module_parity(ours, theirs, [x], rtol=1e-10, atol=1e-12, double=True)


def test_linear_state_dict_loads_into_torch(torch, rng):
    ours = nn.Linear(7, 2)
    theirs = torch.nn.Linear(7, 2)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    assert_state_dict_loads_into_torch(ours, theirs, [rng.standard_normal((3, 7)).astype("f4")])


def test_linear_shapes_dtype_and_alias():
    layer = nn.Linear(20, 30)
    assert nn.Dense is nn.Linear
    assert layer.weight.shape == (30, 20) and layer.bias.shape == (30,)
    assert layer(nt.randn(128, 20)).shape == (128, 30)
    assert layer(nt.randn(2, 3, 20)).shape == (2, 3, 30)
    assert sum(p.numel() for p in layer.parameters()) == 20 * 30 + 30
    assert layer.weight.dtype == np.float32
    assert layer(nt.randn(4, 20)).dtype == np.float32
    double = nn.Linear(3, 2, dtype="float64")
    assert double.weight.dtype == np.float64 and double.bias.dtype == np.float64
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]


def test_linear_default_init_is_torch_distribution(torch):
    fan_in = 400
    ours = nn.Linear(fan_in, 500)
    theirs = torch.nn.Linear(fan_in, 500)
    bound = 1 / math.sqrt(fan_in)
    for w in (ours.weight.array, theirs.weight.detach().numpy()):
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * bound
        assert abs(w.mean()) < 5 * bound / math.sqrt(3 * w.size)
        assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    for b in (ours.bias.array, theirs.bias.detach().numpy()):
        assert np.abs(b).max() <= bound * (1 + 1e-6)
    # two-sample check: the weight histograms agree within sampling error
    edges = np.linspace(-bound, bound, 11)
    h_ours = np.histogram(ours.weight.array, edges)[0] / ours.weight.numel()
    h_theirs = np.histogram(theirs.weight.detach().numpy(), edges)[0] / ours.weight.numel()
    np.testing.assert_allclose(h_ours, h_theirs, atol=0.005)


def test_linear_reset_parameters_with_generator():
    a = nn.Linear(4, 3)
    b = nn.Linear(4, 3)
    a.reset_parameters(generator=nt.Generator(5))
    b.reset_parameters(generator=nt.Generator(5))
    np.testing.assert_array_equal(a.weight.array, b.weight.array)
    np.testing.assert_array_equal(a.bias.array, b.bias.array)
    nt.manual_seed(3)
    c = nn.Linear(4, 3)
    nt.manual_seed(3)
    d = nn.Linear(4, 3)
    np.testing.assert_array_equal(c.weight.array, d.weight.array)


def test_linear_learns_a_linear_map(rng):
    # one full-batch gradient step reduces the loss, and plain gradient descent converges
    x = nt.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    true_w = np.array([[1.0, -2.0, 0.5]], dtype=np.float32)
    y = nt.tensor(x.array @ true_w.T + 0.3)
    layer = nn.Linear(3, 1)
    for _ in range(300):
        layer.zero_grad()
        loss = nt.mse_loss(layer(x), y)
        loss.backward()
        with nt.no_grad():
            for p in layer.parameters():
                p.sub_(p.grad * 0.1)
    np.testing.assert_allclose(layer.weight.array, true_w, atol=1e-3)
    np.testing.assert_allclose(layer.bias.array, [0.3], atol=1e-3)


def test_linear_repr_matches_torch(torch):
    assert repr(nn.Linear(3, 4)) == repr(torch.nn.Linear(3, 4))
    assert repr(nn.Linear(3, 4, bias=False)) == repr(torch.nn.Linear(3, 4, bias=False))


def test_linear_errors_name_the_layer_and_the_fix():
    model = nn.Sequential()
    model.add_module("encoder", nn.Sequential(nn.Identity(), nn.ReLU(), nn.Linear(784, 10)))
    layer = model.encoder[2]
    expected = (
        "Linear at 'encoder.2': expected input with last dimension 784 (in_features), got shape "
        "(32, 28, 28); flatten the input first (nn.Flatten())"
    )
    with pytest.raises(ValueError) as info:
        layer(nt.randn(32, 28, 28))
    assert str(info.value) == expected
    with pytest.raises(ValueError, match=r"the input has 100 features: set in_features=100"):
        layer(nt.randn(32, 100))
    with pytest.raises(TypeError, match=r"input dtype float64 does not match the weight dtype"):
        layer(nt.randn(2, 784, dtype="float64"))
    with pytest.raises(TypeError, match=r"Linear at 'encoder.2': expected a Tensor, got ndarray"):
        layer(np.zeros((2, 784)))
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 3)


def test_identity():
    layer = nn.Identity(54, unused="argument")
    x = nt.randn(2, 3)
    assert layer(x) is x
    assert repr(layer) == "Identity()"


@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (1, 2), (2, 3), (-3, -2), (0, 0)])
def test_flatten_parity(torch, rng, start, end):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    assert_module_parity(nn.Flatten(start, end), torch.nn.Flatten(start, end), [x], load=False)


@pytest.mark.parametrize(
    "dim, sizes, shape",
    [(1, (2, 3), (4, 6)), (-1, (2, -1), (3, 8)), (1, (1, 28, 28), (2, 784)), (0, (2, 2), (4,))],
)
def test_unflatten_parity(torch, rng, dim, sizes, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    assert_module_parity(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), [x], load=False)


def test_flatten_unflatten_round_trip_and_repr(torch):
    x = nt.randn(2, 1, 28, 28)
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 784)
    assert nn.Unflatten(1, (1, 28, 28))(flat).shape == (2, 1, 28, 28)
    assert repr(nn.Flatten(0, 2)) == repr(torch.nn.Flatten(0, 2))
    assert repr(nn.Unflatten(1, [2, 3])) == repr(torch.nn.Unflatten(1, (2, 3)))


def test_flatten_unflatten_errors():
    net = nn.Sequential(nn.Flatten(2, 3))
    with pytest.raises(
        ValueError,
        match=r"Flatten at '0': cannot flatten dims 2..3 of an input of "
        r"shape \(4, 5\); the input needs at least 4 dimensions",
    ):
        net(nt.randn(4, 5))
    with pytest.raises(ValueError, match=r"cannot unflatten dim 1 of size 10 .* into \(3, 3\)"):
        nn.Unflatten(1, (3, 3))(nt.randn(2, 10))
    with pytest.raises(ValueError, match="dim 4 is out of range for an input of shape"):
        nn.Unflatten(4, (1, 2))(nt.randn(2, 2))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple or list"):
        nn.Unflatten(1, 6)
