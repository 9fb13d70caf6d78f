"""Samplers: which dataset indices a ``DataLoader`` loads, in which order, as
``torch.utils.data`` defines them.

A sampler is anything with ``__iter__`` over indices (and ``__len__``); a batch sampler
iterates over *lists* of indices, one list per batch. ``DataLoader(dataset, shuffle=True)``
builds ``RandomSampler(dataset, generator=generator)`` and wraps it in
``BatchSampler(sampler, batch_size, drop_last)``, exactly as PyTorch does; pass your own with
``sampler=`` or ``batch_sampler=``.

Classes:
    Sampler                base class (subclasses define ``__iter__``, usually ``__len__``)
    SequentialSampler      0, 1, ..., len(data_source) - 1
    RandomSampler          a permutation per pass (or draws with replacement)
    SubsetRandomSampler    the given indices in a random order
    WeightedRandomSampler  index i drawn with probability weights[i] / sum(weights)
    BatchSampler           groups another sampler's indices into lists of ``batch_size``

Randomness comes from a ``neuronet.Generator``: the one given, else the default generator
(which ``neuronet.manual_seed`` resets). The orders are neuronet's (NumPy's PCG64), not
``torch.randperm``'s; the rules (what is drawn, how many, with or without replacement) are
PyTorch's.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.random import Generator, resolve

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]

_CHUNK = 32  # draws with replacement are made 32 at a time, as PyTorch makes them


class Sampler:
    """Base class for samplers: subclasses define ``__iter__`` (over indices, or over lists of
    indices for a batch sampler) and, so that ``len(loader)`` works, ``__len__``.

    Example:
        >>> class EvenFirst(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(list(range(0, self.n, 2)) + list(range(1, self.n, 2)))
        ...     def __len__(self):
        ...         return self.n
        >>> list(EvenFirst(5))
        [0, 2, 4, 1, 3]
    """

    def __init__(self, data_source=None) -> None:
        """``data_source`` is accepted (and ignored) for subclasses that pass it, as in
        PyTorch."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _check_generator(generator, owner: str) -> None:
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(
            f"{owner}: generator must be a neuronet.Generator or None, got "
            f"{type(generator).__name__}"
        )


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class SequentialSampler(Sampler):
    """The indices ``0, 1, ..., len(data_source) - 1``, always in that order.

    Args:
        data_source: anything with ``__len__`` (a dataset).

    Example:
        >>> list(SequentialSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source) -> None:
        if not hasattr(data_source, "__len__"):
            raise TypeError(
                f"SequentialSampler: data_source must have __len__, got "
                f"{type(data_source).__name__}"
            )
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices of ``data_source``: a new permutation on every pass, or, with
    ``replacement=True``, independent uniform draws.

    Without replacement, ``num_samples`` larger than the dataset chains permutations (each
    index appears ``num_samples // n`` or one more times); smaller takes a permutation's head.

    Args:
        data_source: anything with ``__len__`` (a dataset).
        replacement: draw each index independently (an index may repeat).
        num_samples: how many indices a pass yields (default ``len(data_source)``).
        generator: a ``neuronet.Generator``. Without one, every pass draws a seed from the
            default generator and uses a private generator seeded with it, as PyTorch does, so
            other draws interleaved with the iteration cannot change the order.

    Note:
        An empty ``data_source`` with ``num_samples=None`` yields nothing (PyTorch raises
        "num_samples should be a positive integer value, but got num_samples=0"), so that
        ``DataLoader(empty, shuffle=True)`` is an empty loader.

    Example:
        >>> from neuronet.random import Generator
        >>> sorted(RandomSampler(range(5), generator=Generator(0)))
        [0, 1, 2, 3, 4]
        >>> len(RandomSampler(range(5), replacement=True, num_samples=12))
        12
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None) -> None:
        if not hasattr(data_source, "__len__"):
            raise TypeError(
                f"RandomSampler: data_source must have __len__, got {type(data_source).__name__}"
            )
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement}"
            )
        if num_samples is not None and (not _is_int(num_samples) or num_samples <= 0):
            raise ValueError(
                f"RandomSampler: num_samples should be a positive integer value, but got "
                f"num_samples={num_samples}"
            )
        if num_samples is not None and len(data_source) == 0:
            raise ValueError(
                f"RandomSampler: cannot draw num_samples={num_samples} indices from an empty "
                "data_source"
            )
        _check_generator(generator, "RandomSampler")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else int(num_samples)
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """Indices per pass: the given ``num_samples``, else ``len(data_source)``."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def _generator(self) -> Generator:
        if self.generator is not None:
            return self.generator
        return Generator(int(resolve(None).integers(0, 2**63 - 1, ())))

    def __iter__(self):
        n = len(self.data_source)
        total = self.num_samples
        if n == 0 or total == 0:
            return
        g = self._generator()
        if self.replacement:
            for _ in range(total // _CHUNK):
                yield from g.integers(0, n, (_CHUNK,)).tolist()
            if total % _CHUNK:
                yield from g.integers(0, n, (total % _CHUNK,)).tolist()
            return
        for _ in range(total // n):
            yield from g.permutation(n).tolist()
        if total % n:
            yield from g.permutation(n)[: total % n].tolist()

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return f"RandomSampler(replacement={self.replacement}, num_samples={self.num_samples})"


def _as_index_array(indices, owner: str) -> np.ndarray:
    values = indices.array if isinstance(indices, Tensor) else indices
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{owner}: indices must be a sequence of ints ({error})") from None
    if array.size == 0:
        return np.zeros(0, np.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise TypeError(
            f"{owner}: indices must be a 1-D sequence of ints, got an array of shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    return array.astype(np.int64, copy=False)


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order on every pass (no replacement): e.g. a
    train/validation split of one dataset.

    Args:
        indices: a sequence of ints (a list, a range, a 1-D integer array or Tensor).
        generator: a ``neuronet.Generator`` (default: the default generator).

    Example:
        >>> from neuronet.random import Generator
        >>> sorted(SubsetRandomSampler([7, 3, 5], generator=Generator(0)))
        [3, 5, 7]
    """

    def __init__(self, indices, generator=None) -> None:
        self._array = _as_index_array(indices, "SubsetRandomSampler")
        _check_generator(generator, "SubsetRandomSampler")
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        order = resolve(self.generator).permutation(len(self._array))
        yield from self._array[order].tolist()

    def __len__(self) -> int:
        return len(self._array)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``[0, len(weights))``, index ``i`` with probability
    ``p_i = weights[i] / sum(weights)``.

    With replacement every draw is independent. Without, each draw excludes the indices
    already drawn (successive sampling, as ``torch.multinomial`` does): the order is that of
    the keys ``E_i / weights[i]`` with ``E_i ~ Exponential(1)``, ascending
    (Efraimidis and Spirakis, 2006).

    Args:
        weights: a 1-D sequence of non-negative finite numbers with a positive sum (they need
            not sum to one).
        num_samples: how many indices a pass yields (a positive int).
        replacement: draw with replacement (default True).
        generator: a ``neuronet.Generator`` (default: the default generator).

    Example:
        >>> from neuronet.random import Generator
        >>> s = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 6, generator=Generator(0))
        >>> sorted(set(s)), len(s)
        ([1, 3], 6)
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None) -> None:
        if not _is_int(num_samples) or num_samples <= 0:
            raise ValueError(
                f"WeightedRandomSampler: num_samples should be a positive integer value, but "
                f"got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement}"
            )
        w = _as_weights(weights)
        positive = int((w > 0).sum())
        if not replacement and num_samples > positive:
            raise ValueError(
                f"WeightedRandomSampler: cannot draw num_samples={num_samples} indices without "
                f"replacement from {positive} positive weights; use replacement=True or draw "
                f"at most {positive}"
            )
        _check_generator(generator, "WeightedRandomSampler")
        self.weights = Tensor(w)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        g = resolve(self.generator)
        w = self.weights.array
        if self.replacement:
            cumulative = np.cumsum(w)
            u = g.uniform((self.num_samples,), dtype=np.float64) * cumulative[-1]
            drawn = np.minimum(np.searchsorted(cumulative, u, side="right"), len(w) - 1)
        else:
            with np.errstate(divide="ignore"):
                keys = g.rng.exponential(size=len(w)) / w  # zero weight: key inf, never drawn
            drawn = np.argsort(keys, kind="stable")[: self.num_samples]
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


def _as_weights(weights) -> np.ndarray:
    values = weights.array if isinstance(weights, Tensor) else weights
    try:
        w = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"WeightedRandomSampler: weights must be numbers ({error})") from None
    if w.ndim != 1:
        raise ValueError(
            f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
            f"shape {tuple(w.shape)}"
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"WeightedRandomSampler: weights must be non-negative and finite, but "
            f"weights[{i}]={w[i]}"
        )
    if not w.sum() > 0:
        raise ValueError(
            f"WeightedRandomSampler: weights must have a positive sum (got {len(w)} weights "
            "summing to 0)"
        )
    return w


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``: the batches a
    ``DataLoader`` loads.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size: indices per batch (a positive int).
        drop_last: drop the last batch when it has fewer than ``batch_size`` indices.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler, batch_size, drop_last) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer value, but got "
                f"batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the sampler a ``DataLoader`` over an ``IterableDataset`` reports (as
    PyTorch's), since the dataset itself decides what comes next."""

    def __iter__(self):
        while True:
            yield None
