"""DataLoader with sampler=, batch_sampler= and batch_size=None: PyTorch's batches, attributes
and errors, and exact resume when a sampler chooses the order."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    TransformDataset,
    WeightedRandomSampler,
    default_convert,
)
from neuronet.data.transforms import RandomHorizontalFlip


def _ds(n=10):
    return TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))


def _labels(loader) -> list:
    return [y.tolist() for _, y in loader]


def _augmented(n=23):
    images = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return TransformDataset(TensorDataset(images, np.arange(n)), RandomHorizontalFlip(0.5))


def _contents(loader) -> list:
    return [(x.array.copy(), y.array.copy()) for x, y in loader]


class _Uneven:
    """A batch sampler with batches of different sizes (sorted by a key, as people bucket)."""

    def __init__(self, sizes):
        self.sizes = sizes

    def __iter__(self):
        start = 0
        for size in self.sizes:
            yield list(range(start, start + size))
            start += size

    def __len__(self):
        return len(self.sizes)


def test_default_samplers_are_torchs(torch):
    from torch.utils.data import DataLoader as TorchLoader

    for kwargs in ({}, {"shuffle": True}, {"batch_size": 3, "drop_last": True}):
        ours, theirs = DataLoader(_ds(), **kwargs), TorchLoader(range(10), **kwargs)
        assert type(ours.sampler).__name__ == type(theirs.sampler).__name__
        assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__
        assert ours.batch_sampler.batch_size == theirs.batch_sampler.batch_size
        assert ours.batch_sampler.drop_last == theirs.batch_sampler.drop_last
        if not kwargs.get("shuffle"):
            assert list(ours.batch_sampler) == list(theirs.batch_sampler)
    loader = DataLoader(_ds(), batch_size=None)
    assert loader.batch_sampler is None and isinstance(loader.sampler, SequentialSampler)
    g = nt.Generator(4)
    loader = DataLoader(_ds(), shuffle=True, generator=g)
    assert isinstance(loader.sampler, RandomSampler) and loader.sampler.generator is g


def test_the_default_random_sampler_gives_the_loaders_order():
    loader = DataLoader(_ds(17), batch_size=17, shuffle=True, generator=nt.Generator(9))
    g = nt.Generator(9)
    g.integers(0, 2**63 - 1, ())  # the epoch seed the loader draws first
    assert _labels(loader)[0] == list(RandomSampler(range(17), generator=g))


@pytest.mark.parametrize("sizes", [[3, 3, 3, 1], [4, 1, 2, 3], [10]])
@pytest.mark.parametrize("prefetch", [True, False])
def test_batch_sampler_batches_match_torch(torch, sizes, prefetch):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    x = np.random.default_rng(0).standard_normal((10, 2)).astype(np.float32)
    y = np.arange(10)
    ours = DataLoader(TensorDataset(x, y), batch_sampler=_Uneven(sizes), prefetch=prefetch)
    theirs = TorchLoader(
        TorchDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_sampler=_Uneven(sizes)
    )
    assert len(ours) == len(theirs) == len(sizes)
    assert ours.batch_size is None and theirs.batch_size is None and ours.drop_last is False
    got, want = list(ours), list(theirs)
    assert len(got) == len(want)
    for (ox, oy), (tx, ty) in zip(got, want):
        np.testing.assert_array_equal(ox.array, tx.numpy())
        np.testing.assert_array_equal(oy.array, ty.numpy())


@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_and_batch_sampler_agree_with_torch_on_fixed_orders(torch, drop_last):
    from torch.utils.data import BatchSampler as TorchBatch
    from torch.utils.data import DataLoader as TorchLoader

    order = [9, 2, 4, 0, 7, 1, 8, 3, 6, 5]
    ours = DataLoader(_ds(), batch_size=3, sampler=order, drop_last=drop_last)
    theirs = TorchLoader(range(10), batch_size=3, sampler=order, drop_last=drop_last)
    assert _labels(ours) == [b.tolist() for b in theirs] and len(ours) == len(theirs)
    batches = BatchSampler(order, 4, drop_last)
    ours = DataLoader(_ds(), batch_sampler=batches)
    theirs = TorchLoader(range(10), batch_sampler=TorchBatch(order, 4, drop_last))
    assert _labels(ours) == [b.tolist() for b in theirs] and len(ours) == len(theirs)


def test_batch_sampler_with_workers_and_a_collate_fn():
    loader = DataLoader(_ds(), batch_sampler=_Uneven([4, 1, 5]), num_workers=2)
    assert _labels(loader) == [[0, 1, 2, 3], [4], [5, 6, 7, 8, 9]]
    sums = DataLoader(_ds(), batch_sampler=_Uneven([4, 6]), collate_fn=lambda s: len(s))
    assert list(sums) == [4, 6]


def test_samplers_with_the_loader():
    ds = _ds(20)
    weighted = WeightedRandomSampler([0.0] * 10 + [1.0] * 10, 30, generator=nt.Generator(0))
    seen = sum(_labels(DataLoader(ds, batch_size=7, sampler=weighted)), [])
    assert len(seen) == 30 and min(seen) >= 10
    subset = SubsetRandomSampler(range(5, 12), generator=nt.Generator(1))
    loader = DataLoader(ds, batch_size=3, sampler=subset)
    assert len(loader) == 3 and sorted(sum(_labels(loader), [])) == list(range(5, 12))
    many = RandomSampler(ds, replacement=True, num_samples=45, generator=nt.Generator(2))
    loader = DataLoader(ds, batch_size=10, sampler=many, drop_last=True)
    assert len(loader) == 4 and [len(b) for b in _labels(loader)] == [10] * 4


@pytest.mark.parametrize("workers", [0, 2])
def test_batch_size_none_gives_each_item_converted(torch, workers):
    from torch.utils.data import DataLoader as TorchLoader

    class Items(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": np.full((2, 3), i, np.float32), "y": np.int64(i), "name": f"s{i}"}

    items = list(DataLoader(Items(), batch_size=None, num_workers=workers))
    theirs = list(TorchLoader(Items(), batch_size=None))
    assert len(items) == len(theirs) == 4
    for i, (item, want) in enumerate(zip(items, theirs)):
        assert item["x"].shape == tuple(want["x"].shape) == (2, 3)
        np.testing.assert_array_equal(item["x"].array, want["x"].numpy())
        assert isinstance(item["y"], nt.Tensor) and item["y"].shape == () and item["y"].item() == i
        assert item["name"] == want["name"] == f"s{i}"
    ds = _ds(5)
    loader = DataLoader(ds, batch_size=None, shuffle=True, generator=nt.Generator(0))
    assert len(loader) == 5
    got = list(loader)
    assert sorted(int(y.item()) for _, y in got) == list(range(5))
    for x, y in got:
        want_x, want_y = ds[int(y.item())]
        np.testing.assert_array_equal(x.array, want_x.array)
        assert x.shape == (1,) and y.shape == ()
    assert [len(s) for s in DataLoader(ds, batch_size=None, collate_fn=lambda s: s)] == [2] * 5


def test_default_convert_matches_torch(torch):
    from torch.utils.data import default_convert as torch_convert

    sample = {"a": np.arange(3), "b": [np.float32(2.5), 3], "c": "text", "d": np.array(["u"])}
    ours, theirs = default_convert(sample), torch_convert(sample)
    np.testing.assert_array_equal(ours["a"].array, theirs["a"].numpy())
    assert ours["b"][0].item() == theirs["b"][0].item() and ours["b"][1] == theirs["b"][1] == 3
    assert ours["c"] == "text" and ours["d"] is sample["d"]
    x, y = default_convert((np.ones(2), 1))  # a tuple stays a tuple (PyTorch: a list)
    assert isinstance(x, nt.Tensor) and y == 1
    t = nt.ones(2)
    assert default_convert(t) is t


def _resume_check(make, stop_after, epochs=2):
    """Run ``epochs`` epochs straight; then break after ``stop_after`` batches, resume in a
    fresh loader (made with other seeds) and compare every remaining batch bit for bit."""
    straight = make(11)
    reference = [_contents(straight) for _ in range(epochs)]
    first = make(11)
    it = iter(first)
    partial = [next(it) for _ in range(stop_after)]
    state = first.state_dict()
    del it
    resumed = make(999)
    resumed.load_state_dict(state)
    assert (resumed.epoch, resumed.batch_index) == (0, stop_after)
    epoch0 = [(x.array, y.array) for x, y in partial] + _contents(resumed)
    assert len(epoch0) == len(reference[0])
    for (gx, gy), (wx, wy) in zip(epoch0, reference[0], strict=True):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)
    return state, resumed, reference


@pytest.mark.parametrize("workers, prefetch", [(0, True), (0, False), (2, True)])
def test_exact_resume_mid_epoch_with_a_random_sampler(workers, prefetch):
    def make(seed):
        sampler = RandomSampler(_augmented(), generator=nt.Generator(seed))
        return DataLoader(
            _augmented(),
            5,
            sampler=sampler,
            generator=nt.Generator(seed + 1),
            num_workers=workers,
            prefetch=prefetch,
        )

    state, _, _ = _resume_check(make, stop_after=2)
    assert state["epoch_batches"]["indices"].dtype == np.int64
    assert state["epoch_batches"]["sizes"].tolist() == [5, 5, 5, 5, 3]


@pytest.mark.parametrize("workers", [0, 2])
def test_exact_resume_mid_epoch_with_a_batch_sampler(workers):
    def make(seed):
        sampler = RandomSampler(range(23), generator=nt.Generator(seed))
        batches = BatchSampler(sampler, 4, drop_last=False)
        return DataLoader(
            _augmented(), batch_sampler=batches, generator=nt.Generator(seed), num_workers=workers
        )

    state, _, _ = _resume_check(make, stop_after=3)
    assert state["epoch_batches"]["sizes"].tolist() == [4, 4, 4, 4, 4, 3]


def test_resume_with_a_default_generator_sampler_continues_the_next_epochs_too():
    """RandomSampler without a generator draws its seed from the default generator, whose
    state the loader's (generator=None) state carries: every later epoch is exact too."""

    def run(loader, epochs, stop=None):
        out = []
        for e in range(epochs):
            for b, (_, y) in enumerate(loader):
                out.append(y.tolist())
                if (e, b) == stop:
                    return out, loader.state_dict()
        return out, None

    nt.manual_seed(0)
    reference, _ = run(DataLoader(_ds(), 3, sampler=RandomSampler(_ds())), 3)
    nt.manual_seed(0)
    first, state = run(DataLoader(_ds(), 3, sampler=RandomSampler(_ds())), 3, stop=(1, 1))
    nt.manual_seed(77)
    resumed = DataLoader(_ds(), 3, sampler=RandomSampler(_ds()))
    resumed.load_state_dict(state)
    rest, _ = run(resumed, 2)
    assert first + rest == reference


def test_resume_with_batch_size_none_and_a_sampler():
    def make(seed):
        sampler = RandomSampler(_ds(), generator=nt.Generator(seed))
        return DataLoader(_ds(), batch_size=None, sampler=sampler)

    first = make(3)
    it = iter(first)
    head = [int(y.item()) for _, y in (next(it), next(it), next(it))]
    state = first.state_dict()
    assert state["epoch_batches"]["sizes"] is None
    resumed = make(4)
    resumed.load_state_dict(state)
    rest = [int(y.item()) for _, y in resumed]
    assert head + rest == [int(y.item()) for _, y in make(3)]


def test_the_state_goes_through_a_checkpoint(tmp_path):
    from neuronet import io

    def make(seed):
        return DataLoader(_ds(), 3, sampler=RandomSampler(_ds(), generator=nt.Generator(seed)))

    loader = make(5)
    it = iter(loader)
    head = [next(it)[1].tolist()]
    model = nt.nn.Linear(1, 1)
    path = tmp_path / "ckpt.safetensors"
    io.save_checkpoint(path, model, data_loader=loader)
    resumed = make(6)
    io.load_checkpoint(path, nt.nn.Linear(1, 1), data_loader=resumed)
    assert head + _labels(resumed) == _labels(make(5))


def test_load_state_dict_refuses_a_mismatched_order_or_a_malformed_record():
    own = DataLoader(_ds(), 3, sampler=RandomSampler(_ds(), generator=nt.Generator(0)))
    it = iter(own)
    next(it)
    state = own.state_dict()
    with pytest.raises(ValueError, match="sampler or batch_sampler chose the batches, but this"):
        DataLoader(_ds(), 3).load_state_dict(state)
    broken = dict(state, epoch_batches={"indices": np.arange(10), "sizes": np.array([3, 3])})
    with pytest.raises(ValueError, match="epoch_batches is malformed"):
        DataLoader(_ds(), 3, sampler=range(10)).load_state_dict(broken)
    with pytest.raises(ValueError, match="epoch_batches is malformed"):
        DataLoader(_ds(), 3, sampler=range(10)).load_state_dict(dict(state, epoch_batches={}))


class _Unsized:
    def __iter__(self):
        return iter(range(3))


LOADER_ERRORS = [
    (
        dict(batch_sampler=_Uneven([5, 5]), batch_size=5),
        ValueError,
        "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
        "drop_last",
    ),
    (
        dict(batch_sampler=_Uneven([5, 5]), shuffle=True),
        ValueError,
        "batch_sampler option is mutually exclusive",
    ),
    (
        dict(batch_sampler=_Uneven([5, 5]), sampler=range(10)),
        ValueError,
        "batch_sampler option is mutually exclusive",
    ),
    (
        dict(batch_sampler=_Uneven([5, 5]), drop_last=True),
        ValueError,
        "batch_sampler option is mutually exclusive",
    ),
    (
        dict(sampler=range(10), shuffle=True),
        ValueError,
        "sampler option is mutually exclusive with shuffle",
    ),
    (
        dict(batch_size=None, drop_last=True),
        ValueError,
        "batch_size=None option disables auto-batching and is mutually exclusive with drop_last",
    ),
    (
        dict(batch_size=2, drop_last=1),
        ValueError,
        "BatchSampler: drop_last should be a boolean value, but got drop_last=1",
    ),
    (dict(sampler=_Unsized()), TypeError, r"DataLoader: the sampler \(_Unsized\) has no __len__"),
    (dict(batch_sampler=_Unsized()), TypeError, "the batch_sampler .* has no __len__"),
    (dict(shuffle=1), TypeError, "shuffle should be a boolean value, but got shuffle=1"),
]


@pytest.mark.parametrize("kwargs, kind, message", LOADER_ERRORS)
def test_loader_argument_errors(kwargs, kind, message):
    with pytest.raises(kind, match=message):
        DataLoader(_ds(), **kwargs)


def test_torch_refuses_the_same_combinations(torch):
    from torch.utils.data import DataLoader as TorchLoader

    for kwargs, _, _ in LOADER_ERRORS[:6]:
        with pytest.raises(ValueError) as want:
            TorchLoader(range(10), **kwargs)
        with pytest.raises(ValueError) as got:
            DataLoader(_ds(), **kwargs)
        assert str(want.value) in str(got.value)


def test_bad_sampler_output_and_frozen_attributes():
    with pytest.raises(TypeError, match=r"the sampler \(list\) must give int indices"):
        list(DataLoader(_ds(), 2, sampler=[0.5, 1.5]))
    with pytest.raises(TypeError, match="the batch_sampler's batch 1 must give int indices"):
        list(DataLoader(_ds(), batch_sampler=[[0, 1], ["a"]]))
    loader = DataLoader(_ds(), 2)
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after"):
            setattr(loader, name, None)
    loader.num_workers = 0  # the others may change, as in PyTorch
    assert len(DataLoader(_ds(), batch_size=None, sampler=range(7))) == 7
