"""Dropout: the semantics (PyTorch's random numbers cannot be matched, so values are not compared):
seeded determinism, the mask statistics and scaling, eval identity, the gradient mask/(1-p),
channel-wise masks, alpha dropout's moments, errors; the layers' modes and repr."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt

F = nt.functional
nn = nt.nn


def _x(shape, value=None, dtype=np.float32, requires_grad=False, rng=None):
    if value is not None:
        data = np.full(shape, value, dtype=dtype)
    else:
        data = (np.abs(rng.standard_normal(shape)) + 0.5).astype(dtype)  # no zeros
    return nt.Tensor(data, requires_grad=requires_grad)


# ---- functional ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.alpha_dropout])
def test_same_seed_same_mask_other_seed_other_mask(rng, fn):
    x = _x((8, 6, 5), rng=rng)
    a = fn(x, 0.5, training=True, generator=nt.Generator(3)).array
    b = fn(x, 0.5, training=True, generator=nt.Generator(3)).array
    c = fn(x, 0.5, training=True, generator=nt.Generator(4)).array
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_default_generator_follows_manual_seed(rng):
    x = _x((50,), rng=rng)
    nt.manual_seed(11)
    a = F.dropout(x, 0.5).array
    nt.manual_seed(11)
    b = F.dropout(x, 0.5).array
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_values_are_zero_or_scaled_and_the_mean_is_preserved(p):
    n = 200_000
    y = F.dropout(_x((n,), 1.0), p, generator=nt.Generator(0)).array
    kept = y != 0
    np.testing.assert_allclose(y[kept], np.float32(1 / (1 - p)), rtol=1e-6)
    # Bernoulli(1 - p) fraction kept, and E[y] = 1: both within 5 standard errors.
    se = np.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * se
    assert abs(y.mean() - 1.0) < 5 * se / (1 - p)


def test_gradient_is_mask_over_keep_probability(rng):
    p = 0.3
    x = _x((40, 7), rng=rng, requires_grad=True)
    y = F.dropout(x, p, generator=nt.Generator(1))
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(nt.Tensor(g))
    mask = y.array != 0
    np.testing.assert_allclose(x.grad.array, g * mask / np.float32(1 - p), rtol=1e-6)
    assert x.grad.dtype == np.float32


def test_eval_mode_and_p_zero_return_the_input(rng):
    x = _x((3, 4), rng=rng, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(_x((2, 3, 4, 4), rng=rng), 0.5, training=False).shape == (2, 3, 4, 4)
    assert F.alpha_dropout(x, 0.5) is x  # alpha_dropout's training defaults to False (torch)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, F.alpha_dropout])
def test_p_one_gives_zeros_and_zero_gradient(rng, fn):
    x = _x((2, 3, 4, 4), rng=rng, requires_grad=True)
    y = fn(x, 1.0, training=True)
    np.testing.assert_array_equal(y.array, 0)
    y.backward(nt.ones(*y.shape))
    np.testing.assert_array_equal(x.grad.array, 0)


def _channels_dropped(y: np.ndarray, channel_axes: int) -> np.ndarray:
    """Per channel: True if all zero; asserts each channel is either all zero or all kept."""
    flat = y.reshape(y.shape[:channel_axes] + (-1,))
    zero = (flat == 0).all(axis=-1)
    assert ((flat != 0).all(axis=-1) | zero).all(), "a channel was partly dropped"
    return zero


@pytest.mark.parametrize(
    "fn,shape,channel_axes",
    [
        (F.dropout2d, (16, 32, 3, 3), 2),
        (F.dropout2d, (64, 3, 3), 1),  # (C, H, W): unbatched image
        (F.dropout1d, (16, 32, 5), 2),
        (F.dropout1d, (64, 5), 1),
    ],
)
def test_channel_dropout_zeroes_whole_channels(fn, shape, channel_axes):
    p = 0.4
    x = _x(shape, 2.0, requires_grad=True)
    y = fn(x, p, generator=nt.Generator(5))
    dropped = _channels_dropped(y.array, channel_axes)
    n = dropped.size
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y.array[y.array != 0], np.float32(2 / (1 - p)), rtol=1e-6)
    y.backward(nt.ones(*shape))
    np.testing.assert_allclose(x.grad.array, (y.array != 0) / np.float32(1 - p), rtol=1e-6)


def _alpha_constants(p):
    """torch's alpha dropout: kept x -> a * x + alpha * a * p, dropped -> alpha * a * (p - 1)."""
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    return a, alpha * a * p, alpha * a * (p - 1)


def test_alpha_dropout_keeps_zero_mean_and_unit_variance_as_torch(torch):
    """Standard-normal input (the SELU fixed point) keeps mean 0 and variance 1; kept and dropped
    units follow the same formula as torch's alpha_dropout."""
    p = 0.2
    a, b, dropped_value = _alpha_constants(p)
    x = np.random.default_rng(0).standard_normal(400_000).astype(np.float32)
    y = F.alpha_dropout(nt.Tensor(x), p, training=True, generator=nt.Generator(0)).array
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01
    theirs = torch.nn.functional.alpha_dropout(torch.from_numpy(x), p, training=True).numpy()
    for out in (y, theirs):
        kept = np.isclose(out, a * x + b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(out[~kept], dropped_value, rtol=1e-5)
        assert abs((~kept).mean() - p) < 0.005


def test_alpha_dropout_gradient_is_a_times_mask(rng):
    p = 0.25
    x = _x((30, 4), rng=rng, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True, generator=nt.Generator(2))
    y.backward(nt.ones(*y.shape))
    a, b, _ = _alpha_constants(p)
    kept = np.isclose(y.array, a * x.array + b)
    np.testing.assert_allclose(x.grad.array, a * kept, rtol=1e-6)
    assert 0 < kept.mean() < 1


def test_inplace_writes_into_the_input_when_it_needs_no_grad(rng):
    x = _x((10, 10), rng=rng)
    y = F.dropout(x, 0.5, inplace=True, generator=nt.Generator(0))
    assert y is x and (x.array == 0).any()
    leaf = _x((10, 10), rng=rng, requires_grad=True)
    assert F.dropout(leaf, 0.5, inplace=True) is not leaf  # autograd needs the input


def test_float64_stays_float64(rng):
    x = _x((5, 5), rng=rng, dtype=np.float64, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.backward(nt.ones(5, 5, dtype="float64"))
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


def test_functional_errors(rng):
    x = _x((2, 3), rng=rng)
    for p in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, p)
    with pytest.raises(ValueError, match=r"dropout2d: expected a 4-D input \(N, C, H, W\) or"):
        F.dropout2d(x, 0.5)
    with pytest.raises(ValueError, match=r"dropout1d: expected a 3-D input \(N, C, L\)"):
        F.dropout1d(nt.zeros(2, 3, 4, 5), 0.5)
    with pytest.raises(TypeError, match="dropout: input must be floating point"):
        F.dropout(nt.tensor([1, 2, 3]), 0.5)


# ---- layers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"])
def test_layer_repr_matches_torch(torch, name):
    assert repr(getattr(nn, name)(0.2)) == repr(getattr(torch.nn, name)(0.2))
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


@pytest.mark.parametrize(
    "layer,shape",
    [
        (nn.Dropout(0.5), (6, 7)),
        (nn.Dropout1d(0.5), (4, 6, 7)),
        (nn.Dropout2d(0.5), (4, 6, 3, 3)),
        (nn.AlphaDropout(0.5), (6, 7)),
    ],
)
def test_layers_are_active_in_train_and_identity_in_eval(rng, layer, shape):
    x = _x(shape, rng=rng)
    assert layer.training
    assert not np.array_equal(layer(x).array, x.array)
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert list(layer.parameters()) == [] and layer.state_dict() == {}


def test_layer_generator_makes_masks_reproducible(rng):
    x = _x((20, 20), rng=rng)
    a = nn.Dropout(0.5, generator=nt.Generator(9))
    b = nn.Dropout(0.5, generator=nt.Generator(9))
    np.testing.assert_array_equal(a(x).array, b(x).array)
    np.testing.assert_array_equal(a(x).array, b(x).array)  # the streams advance together


def test_layer_errors():
    with pytest.raises(ValueError, match=r"Dropout: dropout probability .* but got 1.2"):
        nn.Dropout(1.2)
    model = nn.Sequential(nn.Dropout(0.1), nn.Dropout2d(0.3))
    with pytest.raises(ValueError, match=r"Dropout2d at '1': expected a 4-D \(N, C, H, W\)"):
        model(nt.zeros(4, 5))
    with pytest.raises(ValueError, match=r"Dropout1d: expected a 2-D \(C, L\) or 3-D"):
        nn.Dropout1d()(nt.zeros(4))
