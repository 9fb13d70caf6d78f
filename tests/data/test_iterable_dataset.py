"""IterableDataset and ChainDataset, and the DataLoader over them: batching as PyTorch batches
a stream, len() rules, worker replicas sharded with get_worker_info(), and resume by
re-iterating and skipping."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import (
    ChainDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    TensorDataset,
    batch_generator,
    get_worker_info,
)


class Stream(IterableDataset):
    """0..n-1 as (float32 feature row, int label); shards itself across workers when asked."""

    def __init__(self, n, shard=True, sized=False):
        self.n, self.shard, self.sized = n, shard, sized

    def __iter__(self):
        info = get_worker_info()
        start, step = 0, 1
        if self.shard and info is not None:
            start, step = info.id, info.num_workers
        for i in range(start, self.n, step):
            yield np.full(2, i, np.float32), i


class SizedStream(Stream):
    def __len__(self):
        return self.n


class Noisy(IterableDataset):
    """Draws from batch_generator() while streaming: deterministic per (epoch seed, batch)."""

    def __iter__(self):
        for i in range(13):
            yield np.float32(i) + batch_generator().uniform(()).astype(np.float32)


class Failing(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        for i in range(10):
            if i == 6 and (info is None or info.id == 1):
                raise KeyError(f"item {i} is broken")
            yield np.float32(i)


def _labels(loader) -> list:
    return [y.tolist() for _, y in loader]


def _values(loader) -> list:
    return [b.array.copy() for b in loader]


@pytest.mark.parametrize("prefetch", [True, False])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_consecutive_items_as_torch(torch, prefetch, drop_last):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import IterableDataset as TorchIterable

    class TorchStream(TorchIterable):
        def __iter__(self):
            return Stream(10, shard=False).__iter__()

    ours = DataLoader(Stream(10), batch_size=4, drop_last=drop_last, prefetch=prefetch)
    theirs = TorchLoader(TorchStream(), batch_size=4, drop_last=drop_last)
    got, want = list(ours), list(theirs)
    assert len(got) == len(want) == (2 if drop_last else 3)
    for (ox, oy), (tx, ty) in zip(got, want):
        np.testing.assert_array_equal(ox.array, tx.numpy())
        np.testing.assert_array_equal(oy.array, ty.numpy())
    assert _labels(ours) == [y.tolist() for _, y in theirs]  # a new pass every epoch


def test_batch_size_none_and_collate_fn():
    items = list(DataLoader(Stream(3), batch_size=None))
    assert len(items) == 3
    for i, (x, y) in enumerate(items):
        assert isinstance(x, nt.Tensor) and x.shape == (2,) and x.array[0] == i and y == i
    sizes = list(DataLoader(Stream(7), batch_size=3, collate_fn=len))
    assert sizes == [3, 3, 1]
    assert list(DataLoader(Stream(0), batch_size=3)) == []


def test_len_follows_the_dataset(torch):
    with pytest.raises(TypeError, match="object of type 'Stream' has no len()"):
        len(DataLoader(Stream(10), batch_size=4))
    with pytest.raises(TypeError, match="has no len()"):
        len(iter(DataLoader(Stream(10), batch_size=4)))
    with pytest.raises(TypeError, match="has no len()"):
        len(iter(DataLoader(Stream(10), batch_size=4, prefetch=False)))
    from torch.utils.data import DataLoader as TorchLoader

    for batch_size, drop_last in ((4, False), (4, True), (5, True), (None, False)):
        ours = DataLoader(SizedStream(10), batch_size=batch_size, drop_last=drop_last)
        theirs = TorchLoader(range(10), batch_size=batch_size, drop_last=drop_last)
        assert len(ours) == len(theirs) == len(list(ours))
    it = iter(DataLoader(SizedStream(10), batch_size=4))
    next(it)
    assert len(it) == 2
    assert "batches" not in repr(DataLoader(Stream(10))) and "batches=3" in repr(
        DataLoader(SizedStream(10), batch_size=4)
    )


def test_options_an_iterable_dataset_refuses_as_torch(torch):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import IterableDataset as TorchIterable

    class TorchStream(TorchIterable):
        def __iter__(self):
            return iter(range(3))

    sampler = RandomSampler(range(3))
    for kwargs, words in (
        ({"shuffle": True}, "expected unspecified shuffle option, but got shuffle=True"),
        ({"sampler": sampler}, "expected unspecified sampler option"),
        ({"batch_sampler": [[0, 1]]}, "expected unspecified batch_sampler option"),
    ):
        with pytest.raises(ValueError, match=words):
            TorchLoader(TorchStream(), **kwargs)
        with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: {words}"):
            DataLoader(Stream(3), **kwargs)
    assert len(list(DataLoader(Stream(3), shuffle=False))) == 3


def test_chain_and_concat():
    chained = Stream(3) + SizedStream(2)
    assert isinstance(chained, ChainDataset)
    assert [int(y) for _, y in chained] == [0, 1, 2, 0, 1]
    with pytest.raises(TypeError, match="object of type 'Stream' has no len()"):
        len(chained)
    assert len(ChainDataset([SizedStream(2), SizedStream(5)])) == 7
    assert _labels(DataLoader(chained, batch_size=2)) == [[0, 1], [2, 0], [1]]
    with pytest.raises(TypeError, match=r"supports IterableDataset: datasets\[1\]"):
        ChainDataset([Stream(2), TensorDataset(np.zeros(3))])
    with pytest.raises(TypeError, match="ConcatDataset does not support IterableDataset"):
        TensorDataset(np.zeros(3)) + Stream(2)
    with pytest.raises(NotImplementedError, match="must implement __iter__"):
        iter(IterableDataset())
    assert isinstance(Stream(1), Dataset)


def test_a_dataset_with_only_iter_is_told_to_subclass():
    class Bare:
        def __iter__(self):
            return iter(range(3))

    with pytest.raises(TypeError, match="subclass neuronet.data.IterableDataset"):
        DataLoader(Bare())


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_shard_with_get_worker_info_each_item_exactly_once(workers):
    loader = DataLoader(Stream(23), batch_size=4, num_workers=workers)
    seen = sum(_labels(loader), [])
    assert sorted(seen) == list(range(23))
    assert sorted(sum(_labels(loader), [])) == list(range(23))  # and again next epoch


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_workers_take_turns_as_torchs_loader(torch):
    """Worker w's stream is w, w+N, ...: PyTorch hands out worker 0's first batch, worker 1's,
    ..., then the second ones, leaving out workers whose stream has ended."""
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import IterableDataset as TorchIterable
    from torch.utils.data import get_worker_info as torch_worker_info

    class TorchStream(TorchIterable):
        def __iter__(self):
            info = torch_worker_info()
            return iter(range(info.id, 11, info.num_workers))

    class Ours(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            return iter(range(info.id, 11, info.num_workers))

    for workers in (2, 3):
        theirs = [b.tolist() for b in TorchLoader(TorchStream(), batch_size=2, num_workers=workers)]
        ours = [b.tolist() for b in DataLoader(Ours(), batch_size=2, num_workers=workers)]
        assert ours == theirs


def test_unsharded_workers_each_give_the_whole_stream():
    loader = DataLoader(Stream(5, shard=False), batch_size=5, num_workers=2)
    assert _labels(loader) == [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]


def test_worker_replicas_have_their_own_info_and_seed():
    class Info(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            yield np.array([info.id, info.num_workers, info.seed % 1000, id(info.dataset) > 0])

    rows = [b.array[0].tolist() for b in DataLoader(Info(), batch_size=1, num_workers=2)]
    assert [r[:2] for r in rows] == [[0, 2], [1, 2]]
    assert (rows[1][2] - rows[0][2]) % 1000 == 1  # seeds are base_seed + worker id


def test_random_draws_in_the_stream_are_deterministic():
    def run(**kwargs):
        loader = DataLoader(Noisy(), batch_size=4, generator=nt.Generator(8), **kwargs)
        return [_values(loader) for _ in range(2)]

    reference = run()
    for kwargs in ({"prefetch": False}, {"num_workers": 1}):
        for got_epoch, want_epoch in zip(run(**kwargs), reference, strict=True):
            for got, want in zip(got_epoch, want_epoch, strict=True):
                np.testing.assert_array_equal(got, want)
    assert not np.array_equal(reference[0][0], reference[1][0])  # a new draw every epoch


@pytest.mark.parametrize("workers", [0, 2])
def test_errors_in_the_stream_reach_the_caller(workers):
    loader = DataLoader(Failing(), batch_size=2, num_workers=workers)
    with pytest.raises(KeyError, match="item 6 is broken"):
        list(loader)
    if workers:
        with pytest.raises(KeyError, match="in DataLoader worker process 1 while loading its"):
            list(DataLoader(Failing(), batch_size=2, num_workers=workers))


@pytest.mark.parametrize("workers, prefetch", [(0, True), (0, False), (2, True), (3, True)])
def test_exact_resume_mid_epoch_re_iterates_and_skips(workers, prefetch):
    def make(seed):
        return DataLoader(
            Noisy(),
            batch_size=2,
            generator=nt.Generator(seed),
            num_workers=workers,
            prefetch=prefetch,
        )

    straight = make(4)
    reference = [_values(straight) for _ in range(2)]
    first = make(4)
    it = iter(first)
    head = [next(it).array.copy() for _ in range(3)]
    state = first.state_dict()
    del it
    resumed = make(1234)
    resumed.load_state_dict(state)
    assert (resumed.epoch, resumed.batch_index) == (0, 3)
    epochs = [head + _values(resumed), _values(resumed)]
    for got_epoch, want_epoch in zip(epochs, reference, strict=True):
        assert len(got_epoch) == len(want_epoch)
        for got, want in zip(got_epoch, want_epoch, strict=True):
            np.testing.assert_array_equal(got, want)
    if workers:
        streams = state["worker_streams"]
        assert streams["num_workers"] == workers and sum(streams["batches"]) == 3


def test_resume_after_a_worker_stream_ended():
    """Worker 1 of 2 ends first (5 items: worker 0 has 0,2,4; worker 1 has 1,3)."""

    def make():
        return DataLoader(Stream(5), batch_size=1, num_workers=2)

    reference = _labels(make())
    assert reference == [[0], [1], [2], [3], [4]]
    first = make()
    it = iter(first)
    head = [next(it)[1].tolist() for _ in range(4)]
    state = first.state_dict()
    del it
    resumed = make()
    resumed.load_state_dict(state)
    assert head + _labels(resumed) == reference


def test_resume_needs_the_same_number_of_workers():
    loader = DataLoader(Stream(10), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    del it
    with pytest.raises(ValueError, match="saved with num_workers=2 but this loader has num_work"):
        DataLoader(Stream(10), batch_size=2).load_state_dict(state)
    plain = DataLoader(Stream(10), batch_size=2)
    it = iter(plain)
    next(it)
    with pytest.raises(ValueError, match="saved with num_workers=0 but this loader has num_work"):
        DataLoader(Stream(10), batch_size=2, num_workers=3).load_state_dict(plain.state_dict())
    assert plain.state_dict()["dataset_length"] is None


def test_persistent_workers_restart_their_stream_every_epoch():
    loader = DataLoader(Stream(9), batch_size=2, num_workers=2, persistent_workers=True)
    first = _labels(loader)
    assert sorted(sum(first, [])) == list(range(9)) and _labels(loader) == first
