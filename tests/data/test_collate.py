"""default_collate: the structures and dtypes PyTorch's collate handles."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import default_collate

Pair = namedtuple("Pair", ["x", "y"])


def test_arrays_tensors_and_numbers():
    batch = default_collate([np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)])
    assert isinstance(batch, nt.Tensor) and batch.shape == (2, 2, 3) and batch.dtype == np.float32
    t = default_collate([nt.tensor([1.0, 2.0]), nt.tensor([3.0, 4.0])])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    ints = default_collate([1, 2, 3])
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2, 3]
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == np.float32  # neuronet keeps float32 (PyTorch: float64)
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float64(1.0), np.float64(2.0)]).dtype == np.float64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_nested_structures():
    samples = [
        ({"img": np.full(2, i, np.float32), "id": i}, i % 2, Pair(i, float(i))) for i in range(3)
    ]
    feats, labels, pair = default_collate(samples)
    assert feats["img"].shape == (3, 2) and feats["id"].tolist() == [0, 1, 2]
    assert labels.tolist() == [0, 1, 0]
    assert isinstance(pair, Pair) and pair.y.tolist() == [0.0, 1.0, 2.0]
    as_list = default_collate([[1, 2.0], [3, 4.0]])
    assert isinstance(as_list, list) and as_list[0].tolist() == [1, 3]


def test_parity_with_torch_default_collate(torch):
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(0)
    samples = [(rng.standard_normal((2, 2)).astype(np.float32), int(i)) for i in range(4)]
    ours = default_collate(samples)
    theirs = torch_collate(samples)
    np.testing.assert_array_equal(ours[0].array, theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].array, theirs[1].numpy())
    assert str(theirs[1].dtype) == "torch.int64" and ours[1].dtype == np.int64


def test_errors():
    with pytest.raises(RuntimeError, match=r"different shapes \(3,\) and \(4,\) in field 0"):
        default_collate([(np.zeros(3), 1), (np.zeros(4), 2)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found object.*Pass a collate_fn"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="mixed types in one field"):
        default_collate([np.zeros(2), nt.zeros(2)])
    with pytest.raises(RuntimeError, match="every dict sample needs the keys"):
        default_collate([{"a": 1}, {"b": 2}])
    with pytest.raises(ValueError, match="the batch is empty"):
        default_collate([])
    with pytest.raises(TypeError, match="cannot batch arrays of dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
