"""Samplers: PyTorch's index sequences where they are deterministic, the laws of the random
ones (permutations, replacement, weights, seeding), and every argument error."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


def test_sequential_sampler_matches_torch(torch):
    from torch.utils.data import SequentialSampler as TorchSequential

    for n in (0, 1, 7):
        ours, theirs = SequentialSampler(range(n)), TorchSequential(range(n))
        assert list(ours) == list(theirs) and len(ours) == len(theirs) == n
    ds = TensorDataset(np.zeros((5, 2), np.float32))
    assert list(SequentialSampler(ds)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("n", [0, 1, 9, 10, 12])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 12, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(torch, n, batch_size, drop_last):
    from torch.utils.data import BatchSampler as TorchBatch
    from torch.utils.data import SequentialSampler as TorchSequential

    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = TorchBatch(TorchSequential(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs) == len(list(ours))
    # any iterable of indices, in its own order
    order = [5, 3, 8, 1, 0, 2, 9]
    assert list(BatchSampler(order, batch_size, drop_last)) == list(
        TorchBatch(order, batch_size, drop_last)
    )


def test_random_sampler_is_a_seeded_permutation():
    n = 50
    a = list(RandomSampler(range(n), generator=nt.Generator(3)))
    b = list(RandomSampler(range(n), generator=nt.Generator(3)))
    c = list(RandomSampler(range(n), generator=nt.Generator(4)))
    assert a == b != c
    assert sorted(a) == list(range(n)) and a != list(range(n))
    g = nt.Generator(3)
    sampler = RandomSampler(range(n), generator=g)
    first, second = list(sampler), list(sampler)
    assert first == a and second != first and sorted(second) == list(range(n))
    assert all(type(i) is int for i in first)


def test_random_sampler_num_samples_chains_permutations():
    s = RandomSampler(range(4), num_samples=10, generator=nt.Generator(0))
    drawn = list(s)
    assert len(s) == len(drawn) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]
    assert len(set(drawn[8:])) == 2  # the head of a third permutation, no repeat
    short = list(RandomSampler(range(10), num_samples=3, generator=nt.Generator(0)))
    assert len(short) == len(set(short)) == 3


def test_random_sampler_with_replacement_is_uniform():
    n, draws = 5, 20000
    s = RandomSampler(range(n), replacement=True, num_samples=draws, generator=nt.Generator(1))
    drawn = np.array(list(s))
    assert len(s) == drawn.size == draws and drawn.min() >= 0 and drawn.max() < n
    counts = np.bincount(drawn, minlength=n)
    # each count ~ Binomial(20000, 0.2): sd 57; 6 sd bounds
    assert np.all(np.abs(counts - draws / n) < 6 * np.sqrt(draws * 0.2 * 0.8))
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=33))) == 33


def test_random_sampler_without_generator_follows_manual_seed_and_ignores_interleaving():
    nt.manual_seed(5)
    a = list(RandomSampler(range(30)))
    nt.manual_seed(5)
    it = iter(RandomSampler(range(30)))
    b = [next(it)]
    for i in it:  # draws from the default generator between items change nothing
        nt.randn(3)
        b.append(i)
    assert a == b and sorted(a) == list(range(30))


def test_random_sampler_over_nothing_is_empty():
    assert list(RandomSampler(range(0))) == [] and len(RandomSampler(range(0))) == 0


def test_subset_random_sampler_permutes_the_given_indices():
    idx = [10, 3, 7, 42, 5]
    a = list(SubsetRandomSampler(idx, generator=nt.Generator(2)))
    assert sorted(a) == sorted(idx) and len(SubsetRandomSampler(idx)) == 5
    assert a == list(SubsetRandomSampler(np.array(idx), generator=nt.Generator(2)))
    assert a == list(SubsetRandomSampler(nt.tensor(idx), generator=nt.Generator(2)))
    orders = {tuple(SubsetRandomSampler(idx, generator=nt.Generator(s))) for s in range(30)}
    assert len(orders) > 10
    assert list(SubsetRandomSampler([])) == []


def test_weighted_sampler_with_replacement_follows_the_weights():
    weights = [0.0, 1.0, 2.0, 0.0, 5.0]
    s = WeightedRandomSampler(weights, 40000, generator=nt.Generator(0))
    drawn = np.array(list(s))
    assert len(s) == drawn.size == 40000
    counts = np.bincount(drawn, minlength=5)
    assert counts[0] == counts[3] == 0
    p = np.array(weights) / 8
    sd = np.sqrt(40000 * p * (1 - p))
    assert np.all(np.abs(counts - 40000 * p) <= 6 * sd + 1e-9)
    assert list(s) != list(drawn)  # a new draw every pass
    again = WeightedRandomSampler(np.array(weights), 40000, generator=nt.Generator(0))
    assert list(again) == drawn.tolist()


def test_weighted_sampler_without_replacement_is_successive_sampling():
    weights = [1.0, 2.0, 0.0, 7.0]
    firsts, seconds = np.zeros(4), np.zeros(4)
    g = nt.Generator(0)
    trials = 20000
    for _ in range(trials):
        a, b, c = WeightedRandomSampler(weights, 3, replacement=False, generator=g)
        assert len({a, b, c}) == 3 and 2 not in (a, b, c)
        firsts[a] += 1
        seconds[b] += 1
    p_first = np.array(weights) / 10
    assert np.all(np.abs(firsts / trials - p_first) < 0.015)
    # P(second = 1) = P(0 first) * 2/9 + P(3 first) * 2/3 = 0.1*2/9 + 0.7*2/3
    assert abs(seconds[1] / trials - (0.1 * 2 / 9 + 0.7 * 2 / 3)) < 0.015
    every = list(WeightedRandomSampler([1.0, 1.0, 3.0], 3, replacement=False))
    assert sorted(every) == [0, 1, 2]


def test_sampler_base_class():
    class Evens(Sampler):
        def __init__(self, data_source):
            super().__init__(data_source)
            self.n = len(data_source)

        def __iter__(self):
            return iter(range(0, self.n, 2))

    assert list(Evens(range(7))) == [0, 2, 4, 6]
    with pytest.raises(NotImplementedError, match="Sampler must implement __iter__"):
        iter(Sampler())
    with pytest.raises(TypeError):
        len(Sampler())


SAMPLER_ERRORS = [
    (lambda: SequentialSampler(3), TypeError, "SequentialSampler: data_source must have __len__"),
    (
        lambda: RandomSampler(range(3), replacement=1),
        TypeError,
        "RandomSampler: replacement should be a boolean value, but got replacement=1",
    ),
    (
        lambda: RandomSampler(range(3), num_samples=0),
        ValueError,
        "RandomSampler: num_samples should be a positive integer value, but got num_samples=0",
    ),
    (
        lambda: RandomSampler(range(3), num_samples=2.0),
        ValueError,
        "num_samples should be a positive integer value, but got num_samples=2.0",
    ),
    (lambda: RandomSampler(range(3), num_samples=True), ValueError, "num_samples=True"),
    (
        lambda: RandomSampler(range(0), num_samples=4),
        ValueError,
        "RandomSampler: cannot draw num_samples=4 indices from an empty data_source",
    ),
    (
        lambda: RandomSampler(range(3), generator=np.random.default_rng(0)),
        TypeError,
        "RandomSampler: generator must be a neuronet.Generator or None, got Generator",
    ),
    (lambda: RandomSampler(5), TypeError, "RandomSampler: data_source must have __len__"),
    (
        lambda: SubsetRandomSampler([[1, 2], [3, 4]]),
        TypeError,
        r"SubsetRandomSampler: indices must be a 1-D sequence of ints, got an array of shape "
        r"\(2, 2\)",
    ),
    (lambda: SubsetRandomSampler([0.5, 1.5]), TypeError, "dtype float64"),
    (
        lambda: SubsetRandomSampler([1], generator=3),
        TypeError,
        "SubsetRandomSampler: generator must be a neuronet.Generator",
    ),
    (
        lambda: WeightedRandomSampler([1.0, 2.0], 0),
        ValueError,
        "WeightedRandomSampler: num_samples should be a positive integer value, but got "
        "num_samples=0",
    ),
    (lambda: WeightedRandomSampler([1.0, 2.0], 2.5), ValueError, "num_samples=2.5"),
    (
        lambda: WeightedRandomSampler([1.0, 2.0], 2, replacement="no"),
        ValueError,
        "WeightedRandomSampler: replacement should be a boolean value, but got replacement=no",
    ),
    (
        lambda: WeightedRandomSampler([[1.0, 2.0]], 2),
        ValueError,
        r"WeightedRandomSampler: weights should be a 1d sequence but given weights have shape "
        r"\(1, 2\)",
    ),
    (
        lambda: WeightedRandomSampler([1.0, -0.5], 2),
        ValueError,
        r"weights must be non-negative and finite, but weights\[1\]=-0.5",
    ),
    (lambda: WeightedRandomSampler([1.0, float("nan")], 2), ValueError, r"weights\[1\]=nan"),
    (lambda: WeightedRandomSampler([np.inf, 1.0], 2), ValueError, r"weights\[0\]=inf"),
    (
        lambda: WeightedRandomSampler([0.0, 0.0], 2),
        ValueError,
        "WeightedRandomSampler: weights must have a positive sum",
    ),
    (
        lambda: WeightedRandomSampler(["a", "b"], 2),
        TypeError,
        "WeightedRandomSampler: weights must be numbers",
    ),
    (
        lambda: WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False),
        ValueError,
        "cannot draw num_samples=3 indices without replacement from 2 positive weights",
    ),
    (
        lambda: WeightedRandomSampler([1.0], 1, generator="seed"),
        TypeError,
        "WeightedRandomSampler: generator must be a neuronet.Generator",
    ),
    (
        lambda: BatchSampler(range(4), 0, False),
        ValueError,
        "BatchSampler: batch_size should be a positive integer value, but got batch_size=0",
    ),
    (lambda: BatchSampler(range(4), 2.0, False), ValueError, "batch_size=2.0"),
    (lambda: BatchSampler(range(4), True, False), ValueError, "batch_size=True"),
    (
        lambda: BatchSampler(range(4), 2, 0),
        ValueError,
        "BatchSampler: drop_last should be a boolean value, but got drop_last=0",
    ),
]


@pytest.mark.parametrize("make, kind, message", SAMPLER_ERRORS)
def test_sampler_argument_errors(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


def test_torch_raises_the_same_kind_of_error(torch):
    """Where PyTorch checks an argument, its error type and words are ours."""
    from torch.utils.data import BatchSampler as TB
    from torch.utils.data import RandomSampler as TR
    from torch.utils.data import WeightedRandomSampler as TW

    cases = [
        (lambda m: m(range(3), num_samples=0), TR, RandomSampler),
        (lambda m: m(range(3), replacement=1), TR, RandomSampler),
        (lambda m: m([1.0, 2.0], 0), TW, WeightedRandomSampler),
        (lambda m: m([1.0, 2.0], 2, replacement="no"), TW, WeightedRandomSampler),
        (lambda m: m([[1.0, 2.0]], 2), TW, WeightedRandomSampler),
        (lambda m: m(range(4), 0, False), TB, BatchSampler),
        (lambda m: m(range(4), 2, 0), TB, BatchSampler),
    ]
    for call, theirs, ours in cases:
        with pytest.raises(Exception) as want:
            call(theirs)
        with pytest.raises(type(want.value)) as got:
            call(ours)
        assert str(want.value) in str(got.value)


def test_the_torch_import_path_has_the_new_names():
    import neuronet.utils.data as alias

    names = [
        "Sampler",
        "SequentialSampler",
        "RandomSampler",
        "SubsetRandomSampler",
        "WeightedRandomSampler",
        "BatchSampler",
        "IterableDataset",
        "ChainDataset",
        "default_convert",
        "get_worker_info",
    ]
    for name in names:
        assert getattr(alias, name) is getattr(nt.data, name)
