"""Dataset, TensorDataset, Subset, ConcatDataset, TransformDataset, random_split."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    TransformDataset,
    random_split,
)


def _ds(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(x, np.arange(n))


def test_tensor_dataset_items_and_batches():
    ds = _ds()
    assert len(ds) == 10
    x, y = ds[2]
    assert isinstance(x, nt.Tensor) and x.tolist() == [6.0, 7.0, 8.0] and y.item() == 2
    assert ds[-1][1].item() == 9
    bx, by = ds.get_batch(np.array([3, 0, 3]))
    assert bx.shape == (3, 3) and by.tolist() == [3, 0, 3]
    cx, cy = ds.get_batch(np.arange(4, 8))  # a contiguous range takes the slice path
    assert cy.tolist() == [4, 5, 6, 7] and cx.dtype == np.float32
    cx.array[:] = -1  # batches are copies: the dataset is untouched
    assert ds[4][0].tolist() == [12.0, 13.0, 14.0]
    t = nt.tensor([[1.0], [2.0]])
    assert TensorDataset(t)[1][0].tolist() == [2.0]
    assert [a.shape for a in ds.tensors] == [(10, 3), (10,)]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a list"):
        TensorDataset(np.zeros(3), [1, 2, 3])
    with pytest.raises(ValueError, match="tensor 0 is 0-d"):
        TensorDataset(np.ones(()))
    ds = _ds()
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of 10"):
        ds[10]
    with pytest.raises(IndexError, match="index -11 is out of range"):
        ds.get_batch([0, -11])
    with pytest.raises(TypeError, match="index must be an int, got str"):
        ds["a"]


def test_subset_and_fast_path():
    base = _ds()
    sub = Subset(base, [9, 1, -2])
    assert len(sub) == 3
    assert sub[0][1].item() == 9 and sub[2][1].item() == 8
    assert sub.get_batch([2, 0])[1].tolist() == [8, 9]
    with pytest.raises(IndexError, match="Subset: index 3 is out of range"):
        sub[3]
    with pytest.raises(IndexError, match="Subset: index 10 is out of range"):
        Subset(base, [10])


class _Squares(Dataset):
    """A map-style dataset without get_batch."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        if not 0 <= i < 5:
            raise IndexError(i)
        return np.array([i * i], np.float32), i


def test_subset_of_plain_dataset_collates():
    x, y = Subset(_Squares(), [4, 2]).get_batch(np.array([0, 1]))
    assert x.tolist() == [[16.0], [4.0]] and y.tolist() == [4, 2]


def test_concat_dataset():
    a = _ds(3)
    b = _Squares()
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 8
    assert both.cumulative_sizes == [3, 8]
    assert both[2][1].item() == 2 and both[3][1] == 0 and both[-1][1] == 4
    with pytest.raises(IndexError, match="ConcatDataset: index 8"):
        both[8]
    with pytest.raises(ValueError, match="should not be an empty iterable"):
        ConcatDataset([])


def test_transform_dataset_item_and_batch():
    ds = TransformDataset(_ds(), transform=lambda x: x * 2, target_transform=lambda y: y + 100)
    x, y = ds[1]
    assert x.tolist() == [6.0, 8.0, 10.0] and y.item() == 101
    bx, by = ds.get_batch(np.array([1, 2]))
    assert bx.tolist()[1] == [12.0, 14.0, 16.0] and by.tolist() == [101, 102]
    plain = TransformDataset(_Squares(), transform=lambda x: x + 1)
    px, _ = plain.get_batch([3])
    assert px.tolist() == [[10.0]]


def test_random_split_lengths_and_determinism():
    ds = _ds(10)
    a, b = random_split(ds, [7, 3], generator=nt.Generator(1))
    assert len(a) == 7 and len(b) == 3
    together = np.concatenate([a.indices, b.indices])
    assert sorted(together.tolist()) == list(range(10))
    a2, _ = random_split(ds, [7, 3], generator=nt.Generator(1))
    assert a.indices.tolist() == a2.indices.tolist()
    a3, _ = random_split(ds, [7, 3], generator=nt.Generator(2))
    assert a.indices.tolist() != a3.indices.tolist()
    # PyTorch's rule for fractions: floor, then the remainder round-robin.
    parts = random_split(_ds(10), [0.33, 0.33, 0.34], generator=nt.Generator(0))
    assert [len(p) for p in parts] == [4, 3, 3]


def test_random_split_fraction_parity_with_torch(torch):
    from torch.utils.data import random_split as torch_split

    for n, fractions in [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1])]:
        ours = [len(p) for p in random_split(_ds(n), fractions, nt.Generator(0))]
        theirs = [len(p) for p in torch_split(range(n), fractions)]
        assert ours == theirs


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal"):
        random_split(_ds(10), [5, 4])
    with pytest.raises(ValueError, match="non-negative ints or fractions"):
        random_split(_ds(10), [11, -1])
