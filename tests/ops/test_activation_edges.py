"""Edge cases of ops/activation.py: extreme inputs, kinks, dtypes, arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from support.parity import assert_close, to_torch

EXTREME = np.array([-1e4, -300.0, -88.0, -20.0, -1.0, 0.0, 1.0, 20.0, 88.0, 300.0, 1e4])
ACTIVATIONS = [
    ("sigmoid", {}),
    ("tanh", {}),
    ("softplus", {}),
    ("softplus", {"beta": 3.0, "threshold": 10.0}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("elu", {}),
    ("leaky_relu", {}),
    ("relu", {}),
    ("hardtanh", {}),
    ("relu6", {}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_extreme_inputs_no_warning_no_nan_equal_to_torch(name, kwargs, dtype, torch):
    x = EXTREME.astype(dtype)
    ours_in = nt.tensor(x, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        ours = getattr(F, name)(ours_in, **kwargs)
        ours.backward(nt.ones_like(ours))
    theirs_in = to_torch(x, requires_grad=True)
    theirs = getattr(torch.nn.functional, name)(theirs_in, **kwargs)
    theirs.backward(torch.ones_like(theirs))
    assert not np.isnan(ours.array).any() and not np.isnan(ours_in.grad.array).any()
    assert ours.dtype == np.dtype(dtype) and ours_in.grad.dtype == np.dtype(dtype)
    assert_close(ours, theirs, 1e-6, 1e-7, f"{name} forward")
    assert_close(ours_in.grad, theirs_in.grad, 1e-6, 1e-7, f"{name} grad")


@pytest.mark.parametrize(
    "name,kwargs,expected",
    [
        ("relu", {}, 0.0),
        ("leaky_relu", {"negative_slope": 0.2}, 0.2),
        ("elu", {"alpha": 0.7}, 0.7),
        ("hardtanh", {}, 1.0),
    ],
)
def test_gradient_at_zero_matches_torch(name, kwargs, expected, torch):
    ours_in = nt.tensor([0.0], requires_grad=True)
    getattr(F, name)(ours_in, **kwargs).sum().backward()
    theirs_in = torch.zeros(1, requires_grad=True)
    getattr(torch.nn.functional, name)(theirs_in, **kwargs).sum().backward()
    assert ours_in.grad.item() == pytest.approx(expected) == theirs_in.grad.item()


@pytest.mark.parametrize("name,x", [("hardtanh", [-1.0, 1.0]), ("relu6", [0.0, 6.0])])
def test_hardtanh_gradient_is_zero_at_the_bounds(name, x, torch):
    ours_in = nt.tensor(x, requires_grad=True)
    getattr(F, name)(ours_in).sum().backward()
    theirs_in = torch.tensor(x, requires_grad=True)
    getattr(torch.nn.functional, name)(theirs_in).sum().backward()
    assert ours_in.grad.tolist() == theirs_in.grad.tolist() == [0.0, 0.0]


def test_softplus_switches_to_identity_above_threshold(torch):
    x = np.array([9.9, 10.0, 10.1, 30.0]) / 2.0  # beta * x around the threshold 10
    ours = F.softplus(nt.tensor(x), beta=2.0, threshold=10.0)
    theirs = torch.nn.functional.softplus(torch.tensor(x), beta=2.0, threshold=10.0)
    assert_close(ours, theirs, 1e-12, 0, "softplus")


def test_gelu_exact_and_tanh_differ():
    x = nt.tensor(np.linspace(-3, 3, 61))
    gap = np.abs(F.gelu(x).array - F.gelu(x, approximate="tanh").array).max()
    assert 1e-4 < gap < 1e-3


def test_integer_input_becomes_float32():
    assert F.relu(nt.tensor([-1, 2])).dtype == np.float32
    assert F.sigmoid(nt.tensor([0])).tolist() == [0.5]


def test_inplace_flag_is_accepted_and_input_is_unchanged():
    x = nt.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    assert y.tolist() == [0.0, 2.0] and x.tolist() == [-1.0, 2.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(nt.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="softplus: beta must be non-zero"):
        F.softplus(nt.ones(2), beta=0)
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\) cannot be greater"):
        F.hardtanh(nt.ones(2), 2, 1)
    with pytest.raises(TypeError, match="relu: expected a Tensor"):
        F.relu(np.ones(2))
