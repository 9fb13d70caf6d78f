"""nn.init: distributions (mean/std within sampling error), bounds, fans, gains, orthogonality,
reproducibility with generator=, in-place semantics and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from neuronet.nn import init

N = 200_000  # elements per statistics check: sampling error ~ 0.2% of std


def _assert_moments(values: np.ndarray, mean: float, std: float) -> None:
    """Sample mean and std within 5 standard errors of the expected ones."""
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n), (values.mean(), mean)
    assert abs(values.std() - std) < 5 * std * math.sqrt(0.5 / n), (values.std(), std)


def _gen(seed=0):
    return nt.Generator(seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_and_normal_moments_and_dtype(dtype):
    t = nt.empty(400, 500, dtype=dtype)
    out = init.uniform_(t, -2.0, 4.0, generator=_gen())
    assert out is t and t.dtype == np.dtype(dtype)
    assert t.array.min() >= -2.0 and t.array.max() <= 4.0
    _assert_moments(t.array, 1.0, 6.0 / math.sqrt(12))
    init.normal_(t, mean=3.0, std=0.5, generator=_gen())
    assert t.dtype == np.dtype(dtype)
    _assert_moments(t.array, 3.0, 0.5)


def test_generator_makes_init_reproducible():
    a = init.normal_(nt.empty(5, 7), generator=_gen(3))
    b = init.normal_(nt.empty(5, 7), generator=_gen(3))
    c = init.normal_(nt.empty(5, 7), generator=_gen(4))
    np.testing.assert_array_equal(a.array, b.array)
    assert not np.array_equal(a.array, c.array)
    nt.manual_seed(11)
    d = init.xavier_uniform_(nt.empty(5, 7))
    nt.manual_seed(11)
    e = init.xavier_uniform_(nt.empty(5, 7))
    np.testing.assert_array_equal(d.array, e.array)


@pytest.mark.parametrize(
    "shape, fans",
    [((30, 20), (20, 30)), ((16, 3, 5, 5), (75, 400)), ((8, 4, 3), (12, 24)), ((4, 0), (0, 4))],
)
def test_fans_follow_torch_layout(shape, fans):
    assert init._calculate_fan_in_and_fan_out(nt.empty(*shape)) == fans


def test_fans_match_torch(torch):
    for shape in [(30, 20), (16, 3, 5, 5), (8, 4, 3), (2, 3, 4, 5, 6)]:
        ours = init._calculate_fan_in_and_fan_out(nt.empty(*shape))
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        assert ours == theirs


@pytest.mark.parametrize(
    "name, param, expected",
    [
        ("linear", None, 1.0),
        ("conv2d", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5.0 / 3),
        ("relu", None, math.sqrt(2.0)),
        ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)),
        ("leaky_relu", math.sqrt(5), math.sqrt(2.0 / 6)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_matches_torch(torch):
    for name in ["linear", "conv1d", "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    for slope in (None, 0.0, 0.3, 3):
        assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
            torch.nn.init.calculate_gain("leaky_relu", slope)
        )


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    fan_in, fan_out = 300, 500
    t = nt.empty(fan_out, fan_in)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    init.xavier_uniform_(t, gain=gain, generator=_gen())
    assert np.abs(t.array).max() <= std * math.sqrt(3) * (1 + 1e-6)
    _assert_moments(t.array, 0.0, std)
    init.xavier_normal_(t, gain=gain, generator=_gen())
    _assert_moments(t.array, 0.0, std)


@pytest.mark.parametrize(
    "a, mode, nonlinearity",
    [
        (0, "fan_in", "relu"),
        (0, "fan_out", "relu"),
        (0.1, "fan_in", "leaky_relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0, "fan_out", "tanh"),
        (0, "fan_in", "linear"),
    ],
)
def test_kaiming(a, mode, nonlinearity):
    t = nt.empty(250, 40, 4, 5)  # fan_in = 800, fan_out = 5000
    fan = 800 if mode == "fan_in" else 5000
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity, generator=_gen())
    assert np.abs(t.array).max() <= std * math.sqrt(3) * (1 + 1e-6)
    _assert_moments(t.array, 0.0, std)
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity, generator=_gen())
    _assert_moments(t.array, 0.0, std)


def test_kaiming_sqrt5_is_pytorch_linear_default():
    # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    # (docs/semantics.md, "Default initialization")
    t = init.kaiming_uniform_(nt.empty(500, 400), a=math.sqrt(5), generator=_gen())
    bound = 1 / math.sqrt(400)
    assert np.abs(t.array).max() <= bound * (1 + 1e-6)
    assert np.abs(t.array).max() > 0.99 * bound
    _assert_moments(t.array, 0.0, bound / math.sqrt(3))


@pytest.mark.parametrize("shape", [(64, 64), (20, 50), (50, 20), (8, 3, 3, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal(shape, dtype):
    t = init.orthogonal_(nt.empty(*shape, dtype=dtype), gain=1.0, generator=_gen())
    assert t.dtype == np.dtype(dtype) and t.shape == shape
    w = t.array.reshape(shape[0], -1).astype(np.float64)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)
    g = init.orthogonal_(nt.empty(*shape, dtype=dtype), gain=3.0, generator=_gen())
    np.testing.assert_allclose(g.array, 3.0 * t.array, rtol=1e-5, atol=1e-6)


def test_trunc_normal_bounds_and_moments():
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    t = init.trunc_normal_(nt.empty(N), mean, std, a, b, generator=_gen())
    assert t.array.min() >= a and t.array.max() <= b

    def pdf(z):
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    def cdf(z):
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = cdf(beta) - cdf(alpha)
    true_mean = mean + std * (pdf(alpha) - pdf(beta)) / mass
    var = std**2 * (
        1 + (alpha * pdf(alpha) - beta * pdf(beta)) / mass - ((pdf(alpha) - pdf(beta)) / mass) ** 2
    )
    _assert_moments(t.array, true_mean, math.sqrt(var))


def test_constant_zeros_ones_eye():
    t = nt.empty(3, 4)
    assert init.constant_(t, 2.5) is t and (t.array == 2.5).all()
    assert (init.zeros_(t).array == 0).all()
    assert (init.ones_(t).array == 1).all()
    np.testing.assert_array_equal(init.eye_(t).array, np.eye(3, 4, dtype=np.float32))
    assert t.dtype == np.float32


def test_works_in_place_on_parameters_without_recording():
    layer = nn.Linear(5, 3)
    w = layer.weight
    version = w._version
    out = init.xavier_normal_(w, generator=_gen())
    assert out is w and isinstance(out, nn.Parameter)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    assert w._version > version
    init.zeros_(layer.bias)
    assert (layer.bias.array == 0).all() and layer.bias.requires_grad


def test_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(nt.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(nt.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity softmax"):
        init.kaiming_normal_(nt.empty(3, 3), nonlinearity="softmax")
    with pytest.raises(ValueError, match="negative_slope .* not a valid number"):
        init.calculate_gain("leaky_relu", "big")
    with pytest.raises(ValueError, match="only tensors with 2 dimensions"):
        init.eye_(nt.empty(2, 2, 2))
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(nt.empty(4))
    with pytest.raises(TypeError, match="floating-point tensor, got dtype int64"):
        init.normal_(nt.zeros(3, dtype="int64"))
    with pytest.raises(TypeError, match="expected a Tensor or Parameter, got ndarray"):
        init.uniform_(np.zeros(3))
    with pytest.raises(ValueError, match="need a < b"):
        init.trunc_normal_(nt.empty(3), a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="move the bounds closer"):
        init.trunc_normal_(nt.empty(3), a=50.0, b=60.0)


def test_empty_tensor_is_left_alone():
    t = nt.empty(0, 3)
    assert init.kaiming_uniform_(t) is t
    assert init.orthogonal_(t) is t
