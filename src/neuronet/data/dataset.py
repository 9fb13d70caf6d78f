"""Datasets: collections of samples, as ``torch.utils.data`` defines them.

A map-style dataset is anything with ``__getitem__(i)`` and ``__len__()``; an iterable-style
one (``IterableDataset``) is a stream of samples with ``__iter__``. A sample is usually a tuple
``(input, target)`` of Tensors or arrays. A dataset may also define ``get_batch(indices)``, which
returns a whole *collated* batch at once; ``DataLoader`` uses it instead of gathering samples one
by one and stacking them (``TensorDataset`` does one fancy-index per tensor this way;
``Subset`` and ``TransformDataset`` pass it through).

Classes:
    Dataset            base class (``a + b`` concatenates)
    IterableDataset    base class of streams (``a + b`` chains)
    ChainDataset       several iterable datasets one after the other
    TensorDataset      samples are rows of equally long tensors/arrays
    Subset             a dataset restricted to given indices
    ConcatDataset      several datasets one after the other
    TransformDataset   applies a transform to each sample's input (and/or target)
    random_split       random non-overlapping Subsets of given lengths or fractions
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.data.collate import default_collate, fetch_batch
from neuronet.random import Generator, resolve

__all__ = [
    "Dataset",
    "IterableDataset",
    "ChainDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "TransformDataset",
    "random_split",
]


class Dataset:
    """Base class: subclasses define ``__getitem__(index)`` and ``__len__()``.

    Optionally ``get_batch(indices)`` returning a collated batch (see module docstring).
    ``dataset_a + dataset_b`` is ``ConcatDataset([dataset_a, dataset_b])``. As in PyTorch the
    base class has no ``__len__`` (an ``IterableDataset`` may have none).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (and ``__len__`` if they know it).

    ``DataLoader`` batches consecutive samples of one ``iter(dataset)`` per epoch. With
    ``num_workers > 0`` every worker iterates its own copy, so without sharding each sample
    comes once per worker; shard with ``get_worker_info()`` as in PyTorch:

        class Range(IterableDataset):
            def __init__(self, n):
                self.n = n
            def __iter__(self):
                info = get_worker_info()          # None in the main process
                if info is None:
                    return iter(range(self.n))
                return iter(range(info.id, self.n, info.num_workers))

    Random draws inside ``__iter__`` should use ``neuronet.data.batch_generator()`` (seeded
    per batch by the loader) to keep prefetching and exact resume deterministic.
    ``a + b`` is ``ChainDataset([a, b])``.

    Example:
        >>> class Squares(IterableDataset):
        ...     def __iter__(self):
        ...         return (i * i for i in range(4))
        >>> list(Squares() + Squares())
        [0, 1, 4, 9, 0, 1, 4, 9]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets, one after the other (lazily: each is iterated when reached).

    ``len()`` is the sum of the datasets' lengths (a ``TypeError`` if one has none).

    Args:
        datasets: the ``IterableDataset``s to chain.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for i, d in enumerate(self.datasets):
            if not isinstance(d, IterableDataset):
                raise TypeError(
                    f"ChainDataset only supports IterableDataset: datasets[{i}] is a "
                    f"{type(d).__name__}; use ConcatDataset for map-style datasets"
                )

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _as_array(value, position: int) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"TensorDataset: argument {position} is an array of {value.dtype}, not numbers; "
                "encode strings or objects as numbers first (e.g. class indices)"
            )
        return value
    raise TypeError(
        f"TensorDataset: argument {position} is a {type(value).__name__}; give neuronet Tensors or "
        "NumPy arrays (convert lists with neuronet.tensor(...))"
    )


def _index_error(index, length: int, name: str) -> IndexError:
    return IndexError(f"{name}: index {index} is out of range for a dataset of {length} samples")


def _check_index(index, length: int, name: str) -> int:
    if isinstance(index, Tensor):
        index = index.item()
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(
            f"{name}: index must be an int, got {type(index).__name__}; for many samples at once "
            "use a DataLoader or get_batch(indices)"
        )
    index = int(index)
    if index < -length or index >= length:
        raise _index_error(index, length, name)
    return index + length if index < 0 else index


def _check_indices(indices, length: int, name: str) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        if idx.size == 0:
            return idx.astype(np.int64)
        raise TypeError(f"{name}: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = idx[(idx < -length) | (idx >= length)][0]
        raise _index_error(int(bad), length, name)
    return idx


class TensorDataset(Dataset):
    """Samples are the rows of equally long tensors: sample ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors: neuronet Tensors or NumPy arrays with the same first dimension. Arrays are
            used as they are (no copy); items and batches are copies.

    Example:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((4, 3), np.float32), np.arange(4))
        >>> len(ds), ds[1][0].shape, int(ds[1][1])
        (4, (3,), 1)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        arrays = [_as_array(t, i) for i, t in enumerate(tensors)]
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) "
                    "dimension"
                )
        lengths = [a.shape[0] for a in arrays]
        if len(set(lengths)) != 1:
            raise ValueError(
                "Size mismatch between tensors: first dimensions are "
                f"{lengths}; every tensor needs one row per sample"
            )
        self.arrays = tuple(arrays)

    @property
    def tensors(self) -> tuple:
        """The stored data as Tensors (sharing memory)."""
        return tuple(Tensor(a) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "TensorDataset")
        return tuple(Tensor(a[i].copy()) for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        """The batch for ``indices`` as a tuple of Tensors: one fancy-index per tensor."""
        idx = _check_indices(indices, len(self), "TensorDataset")
        if idx.ndim == 1 and idx.size > 1 and _is_range(idx):
            start = int(idx[0])
            stop = start + idx.size
            return tuple(Tensor(a[start:stop].copy()) for a in self.arrays)
        return tuple(Tensor(a[idx]) for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({shapes})"


def _is_range(idx: np.ndarray) -> bool:
    """True when idx is start, start+1, ... (a plain slice suffices)."""
    first = idx[0]
    return first >= 0 and idx[-1] - first == idx.size - 1 and bool((np.diff(idx) == 1).all())


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: any dataset.
        indices: a sequence of ints (may repeat, may be negative as in Python).
    """

    def __init__(self, dataset, indices):
        idx = np.asarray(indices, dtype=np.int64) if len(indices) else np.zeros(0, np.int64)
        if idx.ndim != 1:
            raise ValueError(f"Subset: indices must be one-dimensional, got shape {idx.shape}")
        self.dataset = dataset
        self.indices = _check_indices(idx, len(dataset), "Subset")

    def __len__(self) -> int:
        return self.indices.shape[0]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "Subset")
        return self.dataset[int(self.indices[i])]

    def get_batch(self, indices):
        """The collated batch: the base dataset's ``get_batch`` when it has one."""
        idx = _check_indices(indices, len(self), "Subset")
        return fetch_batch(self.dataset, self.indices[idx])


class ConcatDataset(Dataset):
    """Several datasets one after the other: indices ``0..len(a)-1`` are ``a``'s, then ``b``'s.

    Attributes:
        cumulative_sizes: running totals of the datasets' lengths (as in PyTorch).
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(
                    f"ConcatDataset does not support IterableDataset (datasets[{i}] is a "
                    f"{type(d).__name__}); chain streams with ChainDataset or a + b"
                )
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        i = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, i)
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][i - start]


class TransformDataset(Dataset):
    """``dataset`` with ``transform`` applied to each sample's input and ``target_transform``
    to its target (a sample is ``(input, target, ...)``).

    When the base dataset has ``get_batch``, the transform is applied to the whole batch at
    once (neuronet's image transforms accept ``(C, H, W)`` images and ``(N, C, H, W)`` batches,
    drawing independently for each sample).
    """

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset = dataset
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.dataset)

    def _apply(self, sample):
        if not isinstance(sample, (tuple, list)):
            return self.transform(sample) if self.transform is not None else sample
        out = list(sample)
        if self.transform is not None:
            out[0] = self.transform(out[0])
        if self.target_transform is not None and len(out) > 1:
            out[1] = self.target_transform(out[1])
        return tuple(out)

    def __getitem__(self, index):
        return self._apply(self.dataset[index])

    def get_batch(self, indices):
        """The collated batch, transformed as a whole when the base has ``get_batch``, else
        sample by sample and then collated."""
        if not hasattr(self.dataset, "get_batch"):
            return default_collate([self[int(i)] for i in np.asarray(indices).reshape(-1)])
        return self._apply(self.dataset.get_batch(indices))


def _lengths_from_fractions(fractions, total: int) -> list:
    """PyTorch's rule: floor each share, then hand the remainder out one by one, round-robin."""
    lengths = [math.floor(total * f) for f in fractions]
    remainder = total - sum(lengths)
    for i in range(remainder):
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(dataset, lengths, generator: Generator | None = None) -> list:
    """Split ``dataset`` into non-overlapping random ``Subset``s.

    Args:
        dataset: the dataset to split.
        lengths: the subsets' lengths (ints summing to ``len(dataset)``) or fractions summing to
            1 (each gets ``floor(n * fraction)``, the remainder dealt round-robin, as PyTorch).
        generator: a ``neuronet.Generator`` for the permutation (default: the default generator).

    Example:
        >>> import numpy as np
        >>> from neuronet.random import Generator
        >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], Generator(0))
        >>> len(train), len(val)
        (8, 2)
    """
    lengths = list(lengths)
    total = len(dataset)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        if any(x < 0 or x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        lengths = _lengths_from_fractions(lengths, total)
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative ints or fractions summing to 1, "
            f"got {lengths}"
        )
    if sum(lengths) != total:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({total})"
        )
    order = resolve(generator).permutation(total)
    subsets = []
    start = 0
    for n in lengths:
        subsets.append(Subset(dataset, order[start : start + n]))
        start += n
    return subsets
