"""Edge cases of ops/indexing.py: index errors, repeated indices, masks, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F


def test_out_of_range_int_names_index_dim_and_size():
    x = nt.ones(3, 4)
    with pytest.raises(IndexError, match=r"index 5 is out of range for dim 0 with size 3 \(tensor "
                       r"of shape \(3, 4\)\); valid indices are -3..2"):  # fmt: skip
        x[5]
    with pytest.raises(IndexError, match="index -5 is out of range for dim 1 with size 4"):
        x[:, -5]
    with pytest.raises(IndexError, match="index 9 is out of range for dim 1 with size 4"):
        x[None, ..., nt.tensor([0, 9])]


def test_too_many_indices_and_bad_masks():
    x = nt.ones(3, 4)
    with pytest.raises(IndexError, match=r"too many indices for a tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"the shape of the mask \(2,\) does not match"):
        x[nt.tensor([True, False])]
    with pytest.raises(IndexError, match="tensors used as indices must be integer"):
        x[nt.tensor([0.0, 1.0])]


def test_repeated_indices_accumulate_gradients():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = nt.ones(2, 3, requires_grad=True)
    y[nt.tensor([1, 1]), nt.tensor([2, 2])].sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 2.0]]


def test_basic_and_mask_indexing_gradients():
    x = nt.arange(12.0).reshape(3, 4).detach().requires_grad_()
    x[1:, ::2].sum().backward()
    assert x.grad.tolist() == [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]]
    z = nt.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (z[z > 0] * 2.0).sum().backward()
    assert z.grad.tolist() == [2.0, 0.0, 2.0]


def test_iterating_a_tensor_stops_at_the_end():
    rows = list(nt.ones(3, 2))
    assert len(rows) == 3 and rows[0].shape == (2,)


def test_gather_errors():
    x = nt.ones(2, 3)
    with pytest.raises(IndexError, match=r"gather: index 3 is out of bounds for dim 1 with size 3"):
        nt.gather(x, 1, nt.tensor([[0, 3]]))
    with pytest.raises(IndexError, match=r"gather: index -1 is out of bounds"):
        nt.gather(x, 1, nt.tensor([[0, -1]]))
    with pytest.raises(ValueError, match="gather: index must have the same number of dims"):
        nt.gather(x, 1, nt.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"must not be larger than input shape \(2, 3\)"):
        nt.gather(x, 1, nt.tensor([[0], [1], [1]]))
    with pytest.raises(TypeError, match="gather: index must be an integer"):
        nt.gather(x, 1, nt.tensor([[0.0]]))


def test_scatter_add_accumulates_and_checks():
    out = nt.scatter_add(nt.zeros(3), 0, nt.tensor([0, 0, 2]), nt.tensor([1.0, 2.0, 3.0]))
    assert out.tolist() == [3.0, 0.0, 3.0]
    with pytest.raises(IndexError, match="scatter_add: index 3 is out of bounds"):
        nt.scatter_add(nt.zeros(3), 0, nt.tensor([3]), nt.tensor([1.0]))


def test_scatter_add_with_larger_src_uses_the_index_region():
    src = nt.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    out = nt.scatter_add(nt.zeros(1, 4), 1, nt.tensor([[3, 3]]), src)
    assert out.tolist() == [[0.0, 0.0, 0.0, 3.0]]
    out.sum().backward()
    assert src.grad.tolist() == [[1.0, 1.0, 0.0]]


def test_index_select_errors_and_scalar_index():
    x = nt.ones(2, 3)
    with pytest.raises(IndexError, match="index_select: index 3 is out of bounds for dim 1"):
        x.index_select(1, nt.tensor([3]))
    with pytest.raises(ValueError, match="index_select: index must be 0-D or 1-D"):
        x.index_select(1, nt.tensor([[0]]))
    assert x.index_select(1, nt.tensor(1)).shape == (2, 1)


def test_masked_fill_checks():
    x = nt.ones(2, 3)
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(nt.ones(2, 3), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) and input of shape \(2, 3\)"):
        x.masked_fill(nt.ones(3, 3).bool(), 0.0)
    with pytest.raises(ValueError, match="only a 0-dimension value tensor is supported"):
        x.masked_fill(nt.ones(3).bool(), nt.ones(2))
    y = x.masked_fill(nt.tensor([True, False, True]), float("-inf"))
    assert y.dtype == np.float32 and y.tolist()[0] == [float("-inf"), 1.0, float("-inf")]


def test_where_forms():
    cond = nt.tensor([True, False])
    assert nt.where(cond, 1.0, 0.0).dtype == np.float32
    assert nt.where(cond, 1, 0).dtype == np.int64
    assert nt.where(cond, nt.ones(2, dtype="float64"), 0.0).dtype == np.float64
    assert [t.tolist() for t in nt.where(nt.tensor([[0, 1], [1, 0]]) > 0)] == [[0, 1], [1, 0]]
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        nt.where(nt.ones(2), nt.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"where: shapes \(2,\) and \(3,\) cannot be broadcast"):
        nt.where(cond, nt.ones(2), nt.ones(3))


def test_one_hot():
    y = F.one_hot(nt.tensor([[0, 2]]))
    assert y.dtype == np.int64 and y.tolist() == [[[1, 0, 0], [0, 0, 1]]]
    assert F.one_hot(nt.tensor([1]), 4).shape == (1, 4)
    with pytest.raises(ValueError, match="one_hot: class values must be non-negative"):
        F.one_hot(nt.tensor([-1]))
    with pytest.raises(ValueError, match=r"smaller than num_classes \(2\), got 3"):
        F.one_hot(nt.tensor([3]), 2)
    with pytest.raises(TypeError, match="one_hot: index must be an integer"):
        F.one_hot(nt.tensor([1.0]))
