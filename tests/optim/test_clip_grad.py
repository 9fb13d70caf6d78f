"""neuronet.nn.utils: gradient clipping against torch.nn.utils, and parameter/vector helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from neuronet.nn import Parameter
from neuronet.nn import utils as U


def _params_with_grads(dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(5, 4), (4,), (3, 2, 2), (6,)]
    params = [Parameter(rng.standard_normal(s).astype(dtype)) for s in shapes]
    for p in params[:3]:  # the last one has no gradient and is skipped
        p.grad = nt.Tensor((scale * rng.standard_normal(p.shape)).astype(dtype))
    return params


def _torch_twins(torch, params):
    twins = []
    for p in params:
        t = torch.tensor(p.array.copy(), requires_grad=True)
        if p.grad is not None:
            t.grad = torch.from_numpy(p.grad.array.copy())
        twins.append(t)
    return twins


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype, torch):
    params = _params_with_grads(dtype)
    twins = _torch_twins(torch, params)
    total = U.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type=norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    assert isinstance(total, nt.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.array, ttotal.numpy(), rtol=rtol)
    for p, t in zip(params, twins):
        if p.grad is None:
            assert t.grad is None
            continue
        assert p.grad.array.dtype == dtype
        np.testing.assert_allclose(p.grad.array, t.grad.numpy(), rtol=rtol, atol=1e-12)


def test_clipped_norm_is_max_norm():
    params = _params_with_grads(np.float64, scale=10.0)
    before = float(U.get_total_norm([p.grad for p in params if p.grad is not None]))
    total = U.clip_grad_norm_(params, 1.0)
    assert float(total) == pytest.approx(before)
    after = math.sqrt(sum(float((p.grad.array**2).sum()) for p in params if p.grad is not None))
    assert after == pytest.approx(1.0, rel=1e-5)


def test_nonfinite_norm(torch):
    params = _params_with_grads(np.float32)
    params[1].grad.array[0] = np.inf
    with pytest.raises(
        RuntimeError,
        match="The total norm of order 2.0 for gradients from `parameters` is non-finite",
    ):
        U.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    params[1].grad.array[0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
        U.clip_grad_norm_(params, 1.0, norm_type="inf", error_if_nonfinite=True)
    twins = _torch_twins(torch, params)
    total = U.clip_grad_norm_(params, 1.0)  # as torch: no error, the gradients become nan
    ttotal = torch.nn.utils.clip_grad_norm_(twins, 1.0)
    assert np.isnan(total.array) and torch.isnan(ttotal)
    assert np.isnan(params[0].grad.array).all() and torch.isnan(twins[0].grad).all()


def test_edge_cases():
    assert float(U.clip_grad_norm_([], 1.0)) == 0.0
    w = Parameter(np.zeros(3, np.float32))
    w.grad = nt.Tensor(np.broadcast_to(np.float32(4.0), (3,)))  # a read-only gradient array
    total = U.clip_grad_norm_(w, 1.0)  # a single tensor is accepted
    assert float(total) == pytest.approx(math.sqrt(48.0))
    assert np.linalg.norm(w.grad.array) == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value_matches_torch(torch):
    params = _params_with_grads(np.float32, scale=3.0)
    twins = _torch_twins(torch, params)
    U.clip_grad_value_(params, 1.5)
    torch.nn.utils.clip_grad_value_(twins, 1.5)
    for p, t in zip(params[:3], twins[:3]):
        np.testing.assert_array_equal(p.grad.array, t.grad.numpy())
    assert np.abs(params[0].grad.array).max() == np.float32(1.5)
    with pytest.raises(ValueError, match="clip_value must be >= 0, got -1.0"):
        U.clip_grad_value_(params, -1.0)


def test_parameters_to_vector_and_back(torch):
    params = _params_with_grads(np.float32)
    vec = U.parameters_to_vector(params)
    tvec = torch.nn.utils.parameters_to_vector([torch.from_numpy(p.array) for p in params])
    np.testing.assert_array_equal(vec.array, tvec.numpy())
    arrays = [p.array for p in params]
    U.vector_to_parameters(nt.Tensor(vec.array * 2), params)
    for p, a in zip(params, arrays):
        assert p.array is a  # copied in place: optimizers' references stay valid
    np.testing.assert_array_equal(U.parameters_to_vector(params).array, vec.array * 2)


def test_parameters_to_vector_is_differentiable():
    params = [Parameter(np.ones((2, 3))), Parameter(np.ones(4))]
    vec = U.parameters_to_vector(params)
    assert vec.requires_grad
    cot = np.arange(10.0)
    nt.autograd.run_backward([vec], [nt.Tensor(cot)])
    np.testing.assert_array_equal(params[0].grad.array, cot[:6].reshape(2, 3))
    np.testing.assert_array_equal(params[1].grad.array, cot[6:])


def test_vector_helpers_errors():
    params = [Parameter(np.zeros((2, 2)))]
    with pytest.raises(
        ValueError,
        match=r"vec has shape \(3,\) but the parameters hold 4 "
        r"values",
    ):
        U.vector_to_parameters(nt.Tensor(np.zeros(3)), params)
    with pytest.raises(TypeError, match="expected Tensor, but got: ndarray"):
        U.vector_to_parameters(np.zeros(4), params)
    with pytest.raises(ValueError, match="got no parameters"):
        U.parameters_to_vector([])
