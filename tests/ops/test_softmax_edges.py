"""softmax / log_softmax beyond the registry: errors, dtypes, extremes, Tensor methods."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt


def test_dim_is_required_with_a_suggestion():
    with pytest.raises(TypeError, match=r"softmax\(\) needs dim.*softmax\(x, dim=-1\)"):
        nt.softmax(nt.randn(2, 3))
    with pytest.raises(TypeError, match=r"log_softmax\(\) needs dim.*log_softmax\(x, dim=-1\)"):
        nt.log_softmax(nt.randn(2, 3))


def test_bad_inputs():
    with pytest.raises(IndexError, match="softmax: dimension 2 is out of range"):
        nt.softmax(nt.randn(2, 3), dim=2)
    with pytest.raises(TypeError, match="expected a floating-point tensor, got dtype int64"):
        nt.softmax(nt.tensor([1, 2]), dim=0)
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        nt.log_softmax([1.0, 2.0], dim=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_forward_and_backward(dtype):
    x = nt.randn(3, 4, dtype=dtype, requires_grad=True)
    for fn in (nt.softmax, nt.log_softmax):
        y = fn(x, dim=1)
        assert y.dtype == np.dtype(dtype)
        y.backward(nt.ones(3, 4, dtype=dtype))
        assert x.grad.dtype == np.dtype(dtype)
        x.grad = None


def test_dtype_argument_casts_first():
    y = nt.softmax(nt.tensor([1, 2, 3]), dim=0, dtype=nt.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.array.sum(), 1.0)


def test_extremes_are_exact_and_silent():
    x = nt.tensor(
        [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [300.0, -300.0, 300.0]], requires_grad=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = nt.softmax(x, dim=1)
        logp = nt.log_softmax(x, dim=1)
        p.backward(nt.ones(3, 3))
    np.testing.assert_allclose(p.array, [[1, 0, 0], [1 / 3] * 3, [0.5, 0, 0.5]], atol=1e-7)
    np.testing.assert_allclose(logp.array[0], [0.0, -2e4, -1e4])
    assert np.isfinite(x.grad.array).all()


def test_log_softmax_is_log_of_softmax_and_methods_are_bound(rng):
    x = nt.tensor(rng.standard_normal((4, 5)))
    np.testing.assert_allclose(
        np.exp(nt.log_softmax(x, dim=-1).array), nt.softmax(x, dim=-1).array, rtol=1e-12
    )
    np.testing.assert_array_equal(x.softmax(1).array, nt.softmax(x, dim=1).array)
    np.testing.assert_array_equal(x.log_softmax(dim=0).array, nt.log_softmax(x, 0).array)


def test_softmax_gradient_of_a_sum_is_zero():
    # sum_i softmax_i = 1 whatever x is, so its gradient vanishes
    x = nt.randn(3, 7, dtype="float64", requires_grad=True)
    nt.softmax(x, dim=1).backward(nt.ones(3, 7, dtype="float64"))
    np.testing.assert_allclose(x.grad.array, 0.0, atol=1e-15)
