"""DataLoader: batching, seeded shuffling, prefetch thread, fast path, exact resume."""

from __future__ import annotations

import gc
import json
import threading
import time

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import DataLoader, Dataset, TensorDataset, TransformDataset
from neuronet.data.transforms import RandomHorizontalFlip


def _ds(n=10):
    return TensorDataset(np.arange(n, dtype=np.float32).reshape(n, 1), np.arange(n))


def _labels(loader) -> list:
    return [y.tolist() for _, y in loader]


def _prefetch_threads() -> list:
    return [t for t in threading.enumerate() if t.name == "neuronet-data-prefetch"]


@pytest.mark.parametrize("prefetch", [True, False])
def test_batches_in_order(prefetch):
    loader = DataLoader(_ds(10), batch_size=4, prefetch=prefetch)
    assert len(loader) == 3
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = next(iter(loader))
    assert x.shape == (4, 1) and x.dtype == np.float32 and y.dtype == np.int64
    dropped = DataLoader(_ds(10), batch_size=4, drop_last=True, prefetch=prefetch)
    assert len(dropped) == 2 and _labels(dropped) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(_ds(8), batch_size=4, drop_last=True)) == 2
    assert _labels(DataLoader(_ds(0), batch_size=4, prefetch=prefetch)) == []


def test_shuffle_is_seeded_and_covers_every_sample():
    a = DataLoader(_ds(23), batch_size=5, shuffle=True, generator=nt.Generator(7))
    b = DataLoader(_ds(23), batch_size=5, shuffle=True, generator=nt.Generator(7))
    c = DataLoader(_ds(23), batch_size=5, shuffle=True, generator=nt.Generator(8))
    epochs_a = [sum(_labels(a), []) for _ in range(3)]
    epochs_b = [sum(_labels(b), []) for _ in range(3)]
    assert epochs_a == epochs_b
    assert sum(_labels(c), []) != epochs_a[0]
    assert epochs_a[0] != epochs_a[1]  # a new order every epoch
    for order in epochs_a:
        assert sorted(order) == list(range(23))


def test_default_generator_follows_manual_seed():
    nt.manual_seed(3)
    first = sum(_labels(DataLoader(_ds(20), batch_size=6, shuffle=True)), [])
    nt.manual_seed(3)
    again = sum(_labels(DataLoader(_ds(20), batch_size=6, shuffle=True)), [])
    assert first == again and first != list(range(20))


def test_shuffle_false_matches_torch_dataloader(torch):
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchDataset

    x = np.random.default_rng(0).standard_normal((11, 3)).astype(np.float32)
    y = np.arange(11)
    ours = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=False)
    theirs = TorchLoader(TorchDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4)
    assert len(ours) == len(theirs)
    for (ox, oy), (tx, ty) in zip(ours, theirs):
        np.testing.assert_array_equal(ox.array, tx.numpy())
        np.testing.assert_array_equal(oy.array, ty.numpy())


class _Counting(TensorDataset):
    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.item_calls = 0
        self.batch_calls = 0

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


def test_fast_path_gathers_whole_batches():
    ds = _Counting(np.zeros((10, 2), np.float32), np.arange(10))
    list(DataLoader(ds, batch_size=4, shuffle=True, generator=nt.Generator(0)))
    assert ds.batch_calls == 3 and ds.item_calls == 0
    custom = DataLoader(ds, batch_size=4, collate_fn=lambda items: len(items))
    assert list(custom) == [4, 4, 2] and ds.item_calls == 10


def _augmented(n=12):
    images = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return TransformDataset(TensorDataset(images, np.arange(n)), RandomHorizontalFlip(0.5))


def _contents(loader) -> list:
    return [(x.array.copy(), y.array.copy()) for x, y in loader]


def test_prefetch_gives_the_same_batches_as_the_calling_thread():
    fast = _contents(DataLoader(_augmented(), 5, True, generator=nt.Generator(1)))
    slow = _contents(DataLoader(_augmented(), 5, True, generator=nt.Generator(1), prefetch=False))
    assert len(fast) == len(slow) == 3
    flipped = 0
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx, sx)
        np.testing.assert_array_equal(fy, sy)
        original = np.arange(48, dtype=np.float32).reshape(12, 1, 2, 2)[fy]
        flipped += int((fx != original).any(axis=(1, 2, 3)).sum())
    assert 0 < flipped < 12  # augmentation happened, per sample


class _Failing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 6:
            raise ValueError("sample 6 is broken")
        return np.float32(i)


@pytest.mark.parametrize("prefetch", [True, False])
def test_errors_in_loading_reach_the_caller(prefetch):
    loader = DataLoader(_Failing(), batch_size=3, prefetch=prefetch)
    seen = []
    with pytest.raises(ValueError, match="sample 6 is broken") as info:
        for batch in loader:
            seen.append(batch.tolist())
    assert seen == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    if prefetch and hasattr(info.value, "__notes__"):
        assert "prefetch thread while loading batch 2 of epoch 0" in info.value.__notes__[0]
    gc.collect()
    assert not _prefetch_threads()


class _Slow(Dataset):
    def __len__(self):
        return 100

    def __getitem__(self, i):
        time.sleep(0.002)
        return np.float32(i)


def test_abandoned_iteration_stops_the_thread():
    loader = DataLoader(_Slow(), batch_size=2)
    for _ in loader:
        break
    gc.collect()
    deadline = time.time() + 5
    while _prefetch_threads() and time.time() < deadline:
        time.sleep(0.01)
    assert not _prefetch_threads()
    it = iter(loader)
    next(it)
    it.close()
    assert not _prefetch_threads()


def test_position_counts_consumed_batches_not_prefetched_ones():
    loader = DataLoader(_ds(20), batch_size=2, shuffle=True, generator=nt.Generator(0))
    assert (loader.epoch, loader.batch_index) == (0, 0)
    it = iter(loader)
    next(it)
    next(it)
    time.sleep(0.05)  # let the thread run ahead
    state = loader.state_dict()
    assert (state["epoch"], state["batch"]) == (0, 2)
    assert state["epoch_generator_state"] is not None
    list(it)
    state = loader.state_dict()
    assert (state["epoch"], state["batch"], state["epoch_generator_state"]) == (1, 0, None)
    json.dumps(state)  # plain JSON, for checkpoint metadata


@pytest.mark.parametrize("prefetch", [True, False])
def test_exact_resume_mid_epoch_own_generator(prefetch):
    def make(seed):
        return DataLoader(_augmented(), 5, True, generator=nt.Generator(seed), prefetch=prefetch)

    loader = make(11)
    reference = [_contents(loader) for _ in range(3)]
    straight = make(11)
    epochs = [_contents(straight)]
    it = iter(straight)
    partial = [next(it), next(it)]
    state = json.loads(json.dumps(straight.state_dict()))
    del it
    resumed = make(999)  # the seed does not matter: the state replaces it
    resumed.load_state_dict(state)
    assert (resumed.epoch, resumed.batch_index) == (1, 2)
    rest = _contents(resumed)
    assert len(rest) == 1
    epoch1 = [(x.array, y.array) for x, y in partial] + rest
    epoch2 = _contents(resumed)
    for got, want in zip([epochs[0], epoch1, epoch2], reference):
        for (gx, gy), (wx, wy) in zip(got, want):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gy, wy)


def test_exact_resume_with_the_default_generator_shared_with_the_model():
    """The loader and the "model" (a stand-in for dropout) draw from the default generator."""

    def run(loader, epochs, stop_after=None):
        out = []
        for e in range(epochs):
            for b, (_, y) in enumerate(loader):
                out.append((y.tolist(), nt.randn(2).tolist()))
                if stop_after == (e, b):
                    return out, loader.state_dict()
        return out, None

    nt.manual_seed(0)
    reference, _ = run(DataLoader(_ds(10), 4, True), 3)
    nt.manual_seed(0)
    first, state = run(DataLoader(_ds(10), 4, True), 3, stop_after=(1, 0))
    nt.manual_seed(12345)  # whatever happened in between
    resumed = DataLoader(_ds(10), 4, True)
    resumed.load_state_dict(state)
    rest, _ = run(resumed, 2)
    assert first + rest == reference


def test_load_state_dict_between_epochs_and_errors():
    loader = DataLoader(_ds(10), 4, True, generator=nt.Generator(0))
    list(loader)
    list(loader)
    state = loader.state_dict()
    other = DataLoader(_ds(10), 4, True, generator=nt.Generator(5))
    other.load_state_dict(state)
    assert other.epoch == 2
    assert _labels(other) == _labels(loader)
    with pytest.raises(
        ValueError, match="saved with dataset_length=10 but this loader has dataset_length=12"
    ):
        DataLoader(_ds(12), 4, True).load_state_dict(state)
    with pytest.raises(ValueError, match="saved with batch_size=4 but this loader has"):
        DataLoader(_ds(10), 3, True).load_state_dict(state)
    with pytest.raises(KeyError, match="lacks keys"):
        loader.load_state_dict({"epoch": 1})


def test_argument_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        DataLoader(_ds(), batch_size=0)
    for bad in (2.5, "4", True):  # ValueError, as torch raises for each
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            DataLoader(_ds(), batch_size=bad)
    with pytest.raises(TypeError, match="shuffle should be a boolean value"):
        DataLoader(_ds(), shuffle="yes")
    with pytest.raises(TypeError, match="generator must be a neuronet.Generator"):
        DataLoader(_ds(), generator=np.random.default_rng(0))
    assert "batch_size=1" in repr(DataLoader(_ds()))


class _Exiting(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise SystemExit("dataset called exit")


def test_system_exit_in_the_thread_reaches_the_caller():
    with pytest.raises(SystemExit, match="dataset called exit"):
        list(DataLoader(_Exiting(), batch_size=2))
    assert not _prefetch_threads()


def test_a_thread_that_vanishes_is_reported(monkeypatch):
    from neuronet.data import _fetch

    monkeypatch.setattr(_fetch, "_worker", lambda *args: None)  # ends without a result
    with pytest.raises(RuntimeError, match="prefetch thread stopped without a batch or an error"):
        next(iter(DataLoader(_ds(4), batch_size=2)))
