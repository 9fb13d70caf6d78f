"""Edge cases of ops/reduction.py and of var/std (ops/statistics.py): ties, zeros, degrees of
freedom, infinities, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt
from support.parity import assert_close, to_torch

TIES = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 1.0, 5.0], [0.0, -1.0, -1.0, 0.0]])


def _compare(fn_nt, fn_torch, torch, x, rtol=1e-12, atol=0.0):
    """Forward values and gradients (random cotangent) of both on the same float64 input."""
    ours_in = nt.tensor(x, requires_grad=True)
    theirs_in = to_torch(x, requires_grad=True)
    ours = fn_nt(ours_in)
    theirs = fn_torch(theirs_in)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for o, t in zip(ours, theirs):
        assert_close(o, t, rtol, atol, "forward")
    cot = np.random.default_rng(0).standard_normal(ours[0].shape)
    ours[0].backward(nt.tensor(cot))
    theirs[0].backward(torch.from_numpy(cot))
    assert_close(ours_in.grad, theirs_in.grad, rtol, atol, "grad")
    return ours_in.grad.array


def test_max_and_min_without_dim_split_ties_evenly(torch):
    grad = _compare(nt.max, torch.max, torch, TIES)
    assert np.count_nonzero(grad) == 3
    _compare(nt.min, torch.min, torch, TIES)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_with_dim_sends_gradient_to_first_tied_index(dim, torch):
    _compare(lambda x: x.max(dim), lambda x: x.max(dim), torch, TIES)
    _compare(lambda x: x.min(dim, keepdim=True), lambda x: x.min(dim, True), torch, TIES)


@pytest.mark.parametrize("dim", [(), 0, 1, (0, 1)])
def test_amax_amin_split_ties_evenly(dim, torch):
    _compare(lambda x: nt.amax(x, dim), lambda x: torch.amax(x, dim), torch, TIES)
    _compare(lambda x: nt.amin(x, dim, True), lambda x: torch.amin(x, dim, True), torch, TIES)


def test_max_returns_named_values_and_int64_indices():
    result = nt.tensor([[1.0, 4.0], [3.0, 2.0]]).max(dim=1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.tolist() == [4.0, 3.0] and indices.tolist() == [1, 0]
    assert indices.dtype == np.int64 and not indices.requires_grad


def test_max_with_a_tensor_is_maximum():
    assert nt.max(nt.tensor([1.0, 5.0]), nt.tensor([3.0, 2.0])).tolist() == [3.0, 5.0]


@pytest.mark.parametrize(
    "x",
    [
        [[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]],
        [[0.0, 0.0, 3.0], [0.0, 1.0, 2.0]],
        [[0.0, 0.0, 0.0], [4.0, 1.0, 2.0]],
    ],
)
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros(x, dim, torch):
    x = np.array(x)
    if dim is None:
        _compare(nt.prod, torch.prod, torch, x)
    else:
        _compare(lambda t: nt.prod(t, dim), lambda t: torch.prod(t, dim), torch, x)


def test_var_std_default_is_unbiased_unlike_numpy():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert nt.var(nt.tensor(x)).item() == pytest.approx(np.var(x, ddof=1))
    assert nt.std(nt.tensor(x), unbiased=False).item() == pytest.approx(np.std(x))
    assert nt.var(nt.tensor(x), False).item() == pytest.approx(np.var(x))
    assert nt.var(nt.tensor(x), correction=0).item() == pytest.approx(np.var(x))


def test_std_of_constant_has_zero_gradient_like_torch(torch):
    grad = _compare(nt.std, torch.std, torch, np.ones((3,)))
    assert grad.tolist() == [0.0, 0.0, 0.0]


def test_var_with_no_degrees_of_freedom_is_nan_like_torch(torch):
    with np.errstate(all="raise"):
        ours = nt.var(nt.ones(1)).item()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns "degrees of freedom is <= 0"
        theirs = torch.var(torch.ones(1)).item()
    assert np.isnan(ours) and np.isnan(theirs)


def test_var_argument_errors():
    with pytest.raises(ValueError, match="var: give either unbiased or correction, not both"):
        nt.var(nt.ones(3), unbiased=True, correction=1)


def test_logsumexp_of_infinite_rows(torch):
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0]])
    ours = nt.logsumexp(nt.tensor(x), 1)
    theirs = torch.logsumexp(torch.from_numpy(x), 1)
    assert_close(ours, theirs, 1e-12, 0, "logsumexp")


def test_logsumexp_large_float32_is_finite(torch):
    x = np.array([[1e4, 1e4 - 1.0], [-1e4, -1e4]], dtype=np.float32)
    _compare_f32 = nt.logsumexp(nt.tensor(x), -1)
    assert_close(_compare_f32, torch.logsumexp(torch.from_numpy(x), -1), 1e-6, 0, "lse")


def test_sum_dtypes():
    assert nt.sum(nt.tensor([True, False, True])).dtype == np.int64
    assert nt.tensor([1, 2], dtype="int32").sum().dtype == np.int64
    assert nt.ones(3).sum().dtype == np.float32
    assert nt.ones(3).sum(dtype="float64").dtype == np.float64
    assert nt.tensor([1, 2]).cumsum(0).dtype == np.int64


def test_keepdim_shapes():
    x = nt.ones(2, 3, 4)
    assert x.sum((0, 2), keepdim=True).shape == (1, 3, 1)
    assert x.mean(-1).shape == (2, 3)
    assert nt.argmax(x, keepdim=True).shape == (1, 1, 1)
    assert x.sum(dim=()).shape == ()


def test_reduction_errors():
    with pytest.raises(IndexError, match=r"sum: dimension 3 is out of range for a tensor with 2"):
        nt.ones(2, 3).sum(3)
    with pytest.raises(TypeError, match=r"mean\(\): could not infer output dtype"):
        nt.tensor([1, 2]).mean()
    with pytest.raises(ValueError, match="norm: p must be 'fro', 'nuc' or a number"):
        nt.norm(nt.ones(2, 2), "spectral")
    with pytest.raises(RuntimeError, match=r"max\(\): cannot reduce an empty tensor"):
        nt.max(nt.zeros(0))
    with pytest.raises(TypeError, match="max: dim must be an int"):
        nt.max(nt.ones(2, 2), (0, 1))
    with pytest.raises(ValueError, match="repeats an axis"):
        nt.ones(2, 2).sum((1, -1))


def test_norm_zero_vector_has_zero_gradient(torch):
    grad = _compare(nt.norm, torch.norm, torch, np.zeros(3))
    assert grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_inf_ties_split(torch):
    x = np.array([3.0, -3.0, 1.0])
    _compare(lambda t: nt.norm(t, float("inf")), lambda t: torch.norm(t, float("inf")), torch, x)


def test_all_any():
    x = nt.tensor([[True, False], [True, True]])
    assert x.all().item() is False and x.any(1).tolist() == [True, True]
    assert nt.all(x, 0).tolist() == [True, False]
