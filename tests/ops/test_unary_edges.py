"""Edge cases of ops/unary.py: dtypes, kinks, ties, bounds, erf accuracy, error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from support.parity import assert_close, to_torch

FLOAT_OPS = ["exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "erf", "abs", "square"]


@pytest.mark.parametrize("name", FLOAT_OPS)
def test_float32_stays_float32(name):
    x = nt.tensor(np.linspace(0.5, 2.0, 6, dtype=np.float32), requires_grad=True)
    y = getattr(nt, name)(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "erf"])
def test_integer_input_is_promoted_to_float32(name, torch):
    x = np.array([1, 2, 3])
    ours = getattr(nt, name)(nt.tensor(x))
    theirs = getattr(torch, name)(torch.from_numpy(x))
    assert str(theirs.dtype) == "torch.float32" and ours.dtype == np.float32
    assert_close(ours, theirs, 1e-6, 1e-6, name)


def test_abs_and_square_keep_integer_dtype():
    x = nt.tensor([-2, 3])
    assert nt.abs(x).dtype == np.int64 and nt.abs(x).tolist() == [2, 3]
    assert nt.square(x).tolist() == [4, 9]


def _grads(fn_nt, fn_torch, torch, *arrays):
    ours = [nt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [to_torch(a, requires_grad=True) for a in arrays]
    fn_nt(*ours).sum().backward()
    fn_torch(*theirs).sum().backward()
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad, 0, 0, "grad")
    return [o.grad.array for o in ours]


def test_abs_gradient_at_zero_is_zero(torch):
    (g,) = _grads(nt.abs, torch.abs, torch, np.array([-1.0, 0.0, 2.0]))
    assert g.tolist() == [-1.0, 0.0, 1.0]


def test_clamp_gradient_passes_at_the_bounds(torch):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    (g,) = _grads(lambda t: t.clamp(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0), torch, x)
    assert g.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_clamp_min_greater_than_max_gives_max(torch):
    x = np.array([-2.0, 0.0, 2.0])
    y = nt.clamp(nt.tensor(x), 1.0, -1.0)
    assert y.tolist() == [-1.0, -1.0, -1.0]
    lo = np.array([0.5, 1.0, -3.0])
    hi = np.array([-0.5, 2.0, -4.0])  # lo > hi in entries 0 and 2
    _grads(
        lambda a, b, c: nt.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c), torch, x, lo, hi
    )


def test_clamp_tensor_bounds_at_ties(torch):
    x = np.array([0.0, 1.0, 2.0, 3.0])
    lo = np.array([0.0, 0.5, 2.5, 3.0])
    hi = np.array([1.0, 1.0, 3.0, 3.0])
    _grads(
        lambda a, b, c: nt.clamp(a, b, c), lambda a, b, c: torch.clamp(a, b, c), torch, x, lo, hi
    )


def test_clamp_integer_input_with_float_bound_becomes_float32(torch):
    ours = nt.clamp(nt.tensor([1, 2, 3]), min=1.5)
    theirs = torch.clamp(torch.tensor([1, 2, 3]), min=1.5)
    assert ours.dtype == np.float32 and ours.tolist() == theirs.tolist()


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="at least one of 'min' or 'max'"):
        nt.clamp(nt.ones(3))
    with pytest.raises(TypeError, match="clamp: min must be a number, a Tensor or None"):
        nt.clamp(nt.ones(3), "0")


def test_clip_is_clamp():
    assert nt.clip is nt.clamp


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_the_gradient_like_torch(name, torch):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([1.0, 5.0, 3.0])  # ties at (0, 0) and (0, 2)
    ga, gb = _grads(getattr(nt, name), getattr(torch, name), torch, a, b)
    assert ga[0, 0] == 0.5 and ga[0, 2] == 0.5


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_nan_propagates_like_torch(name, torch):
    a = np.array([1.0, np.nan, 2.0])
    b = np.array([1.0, 0.0, np.nan])
    ours = getattr(nt, name)(nt.tensor(a), nt.tensor(b))
    assert np.isnan(ours.array[1:]).all()
    _grads(getattr(nt, name), getattr(torch, name), torch, a, b)


def test_maximum_broadcast_error_names_shapes():
    with pytest.raises(
        ValueError, match=r"maximum: shapes \(2, 3\) and \(4,\) cannot be broadcast"
    ):
        nt.maximum(nt.ones(2, 3), nt.ones(4))


def test_sign_has_a_zero_gradient():
    # as torch: backward through sign works and contributes nothing
    x = nt.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = nt.sign(x)
    assert y.requires_grad and y.tolist() == [-1.0, 0.0, 1.0]
    (y * 5.0 + x).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_non_tensor_input_is_a_clear_error():
    with pytest.raises(TypeError, match="exp: expected a Tensor as input, got list"):
        nt.exp([1.0, 2.0])


def test_erf_matches_math_erf_to_1e15():
    x = np.concatenate([np.linspace(-8, 8, 4001), [0.0, 1e-12, -1e-300, 26.0, 1e4, -1e4]])
    ours = nt.erf(nt.tensor(x)).array
    ref = np.array([math.erf(v) for v in x])
    rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 1e-15


def test_erf_special_values():
    y = nt.erf(nt.tensor([np.inf, -np.inf, np.nan, -0.0], dtype="float64")).array
    assert y[0] == 1.0 and y[1] == -1.0 and np.isnan(y[2]) and y[3] == 0.0
    assert nt.erf(nt.tensor([30.0, -1e30])).tolist() == [1.0, -1.0]
