"""Edge cases of ops/matmul.py: error messages, dtypes, big leading dims in linear."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from support.parity import assert_close, to_torch


def test_inner_dimension_mismatch_message():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                       r"multiplied \(3 != 4\); "):  # fmt: skip
        nt.ones(2, 3) @ nt.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4,\) cannot be multiplied"):
        nt.matmul(nt.ones(3), nt.ones(4))


def test_other_matmul_errors():
    with pytest.raises(ValueError, match="matmul: both arguments need at least 1 dim"):
        nt.matmul(nt.tensor(2.0), nt.ones(2))
    with pytest.raises(ValueError, match=r"matmul: batch dims \(2,\) and \(3,\)"):
        nt.matmul(nt.ones(2, 3, 4), nt.ones(3, 4, 5))
    with pytest.raises(ValueError, match=r"mm: expected 2-D tensors, got shapes \(3,\)"):
        nt.mm(nt.ones(3), nt.ones(3, 2))
    with pytest.raises(ValueError, match="bmm: batch sizes differ"):
        nt.bmm(nt.ones(2, 3, 4), nt.ones(3, 4, 5))
    with pytest.raises(ValueError, match="dot: expected two 1-D tensors of the same length"):
        nt.dot(nt.ones(3), nt.ones(4))
    with pytest.raises(TypeError, match="matmul: both operands must have the same dtype"):
        nt.ones(2, 2) @ nt.ones(2, 2, dtype="float64")


def test_linear_errors():
    with pytest.raises(ValueError, match=r"linear: input of shape \(3, 5\) has 5 features in its "
                       r"last dim but weight of shape \(8, 4\) expects 4"):  # fmt: skip
        F.linear(nt.ones(3, 5), nt.ones(8, 4))
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(8,\)"):
        F.linear(nt.ones(3, 4), nt.ones(8, 4), nt.ones(4))
    with pytest.raises(ValueError, match="linear: weight must be 2-D"):
        F.linear(nt.ones(3, 4), nt.ones(4))


def test_float32_stays_float32_and_integers_multiply():
    a = nt.ones(2, 3, requires_grad=True)
    y = a @ nt.ones(3, 4)
    y.sum().backward()
    assert y.dtype == np.float32 and a.grad.dtype == np.float32
    assert (nt.tensor([[1, 2]]) @ nt.tensor([[3], [4]])).tolist() == [[11]]


def test_linear_many_leading_dims_float32(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5, 16)).astype(np.float32)
    w = rng.standard_normal((8, 16)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    ours = [nt.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [to_torch(a, requires_grad=True) for a in (x, w, b)]
    out = F.linear(*ours)
    ref = torch.nn.functional.linear(*theirs)
    cot = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(nt.tensor(cot))
    ref.backward(torch.from_numpy(cot))
    assert_close(out, ref, 1e-5, 1e-5, "linear")
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad, 1e-4, 1e-4, "linear grad")


def test_rmatmul_with_a_non_tensor_is_a_clear_error():
    with pytest.raises(TypeError, match="matmul: expected Tensors"):
        np.ones((2, 2)) @ nt.ones(2, 2)


@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 7)])
def test_linear_without_a_graph_equals_linear_with_one(shape):
    """Inference multiplies 2-D inputs as (W x^T)^T (an F-ordered result): a chain linear ->
    relu -> linear gives the graph path's values and NumPy's."""
    rng = np.random.default_rng(0)
    x = nt.tensor(rng.standard_normal(shape).astype(np.float32))
    w1 = nt.tensor(rng.standard_normal((4, 7)).astype(np.float32), requires_grad=True)
    w2 = nt.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b = nt.tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)

    def chain():
        return F.linear(F.relu(F.linear(x, w1, b)), w2)

    with_graph = chain()
    with nt.no_grad():
        without = chain()
    assert without.shape == with_graph.shape and without.dtype == np.float32
    np.testing.assert_allclose(without.array, with_graph.array, rtol=1e-5, atol=1e-6)
    expected = np.maximum(x.array @ w1.array.T + b.array, 0) @ w2.array.T
    np.testing.assert_allclose(without.array, expected, rtol=1e-5, atol=1e-5)
