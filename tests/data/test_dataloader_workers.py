"""DataLoader(num_workers=N): real worker processes, seeded as PyTorch seeds them, batches in
order and identical to num_workers=0, errors with the worker's traceback, clean shutdown on
errors, crashes and Ctrl-C, persistent workers, and exact resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import (
    DataLoader,
    Dataset,
    TensorDataset,
    TransformDataset,
    _workers,
    get_worker_info,
)
from neuronet.data.transforms import RandomHorizontalFlip


def _augmented(n=24):
    images = np.arange(n * 4, dtype=np.float32).reshape(n, 1, 2, 2)
    return TransformDataset(TensorDataset(images, np.arange(n)), RandomHorizontalFlip(0.5))


def _contents(loader) -> list:
    return [(x.array.copy(), y.array.copy()) for x, y in loader]


def _alive(pids) -> list:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split()[2] != "Z":  # a zombie has exited
                alive.append(pid)
    return alive


class _Seeds(Dataset):
    """Reports, per sample, the worker and what the global generators give there."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return np.array(
            [i, info.id, info.seed % 2**31, np.random.randint(2**31), random.randrange(2**31)],
            dtype=np.int64,
        )


class _Jittery(Dataset):
    """Samples that take different times, so workers finish out of order."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        time.sleep(0.03 if i % 4 == 0 else 0.0)
        return np.float32(i)


class _Broken(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 7:
            raise KeyError(f"sample {i} is missing")
        return np.float32(i)


class _Crashing(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            os._exit(7)
        return np.float32(i)


class _Pids(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.int64(os.getpid())


def test_workers_give_the_same_batches_as_the_main_process():
    def load(workers):
        loader = DataLoader(_augmented(), 5, True, generator=nt.Generator(3), num_workers=workers)
        return [_contents(loader) for _ in range(2)]

    reference = load(0)
    for workers in (1, 3):
        for epoch, want in zip(load(workers), reference):
            assert len(epoch) == len(want) == 5
            for (gx, gy), (wx, wy) in zip(epoch, want):
                np.testing.assert_array_equal(gx, wx)
                np.testing.assert_array_equal(gy, wy)


def test_batches_come_in_order_from_real_processes():
    loader = DataLoader(_Jittery(), batch_size=2, num_workers=3, prefetch_factor=2)
    assert [b.tolist() for b in loader] == [[2.0 * k, 2.0 * k + 1] for k in range(6)]
    pids = set(np.concatenate([b.array for b in DataLoader(_Pids(), 2, num_workers=2)]).tolist())
    assert len(pids) == 2 and os.getpid() not in pids


def test_workers_are_seeded_as_torch_seeds_them(torch):
    from torch.utils.data._utils.worker import _generate_state

    loader = DataLoader(_Seeds(), batch_size=2, num_workers=2, generator=nt.Generator(5))
    rows = np.concatenate([b.array for b in loader])
    seen = {int(r[1]): r for r in rows}
    base = int(rows[0][2])  # worker 0's seed is base_seed + 0 (mod 2**31 here)
    assert int(seen[1][2]) == (base + 1) % 2**31
    g = nt.Generator(5)
    base_seed = int(g.integers(0, 2**63 - 1, ()))  # the epoch seed, as the loader draws it
    assert base_seed % 2**31 == base
    for worker in (0, 1):
        first = rows[rows[:, 1] == worker][0]
        np.random.seed(_generate_state(base_seed, worker))  # PyTorch's NumPy seeding
        assert int(first[3]) == np.random.randint(2**31)
        assert int(first[4]) == random.Random(base_seed + worker).randrange(2**31)


def _init(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 2
    np.random.seed(1000 + worker_id)


def test_worker_init_fn_runs_in_each_worker_after_seeding():
    rows = np.concatenate(
        [b.array for b in DataLoader(_Seeds(), 2, num_workers=2, worker_init_fn=_init)]
    )
    for worker in (0, 1):
        first = rows[rows[:, 1] == worker][0]
        assert int(first[3]) == np.random.RandomState(1000 + worker).randint(2**31)
    assert get_worker_info() is None  # in the main process


def test_a_worker_error_is_reraised_with_its_traceback_and_workers_stop():
    loader = DataLoader(_Broken(), batch_size=2, num_workers=2)
    it = iter(loader)
    pids = [p.pid for p in loader._pool.processes]
    with pytest.raises(KeyError) as info:
        list(it)
    message = str(info.value)
    assert "Caught KeyError in DataLoader worker process 1 while loading batch 3" in message
    assert "Original Traceback (most recent call last)" in message
    assert "sample 7 is missing" in message and "in __getitem__" in message
    assert not _alive(pids)


def test_a_crashed_worker_is_reported():
    with pytest.raises(
        RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"
    ):
        list(DataLoader(_Crashing(), batch_size=2, num_workers=2))


def test_breaking_out_stops_the_workers_and_persistent_ones_survive_epochs():
    loader = DataLoader(_Pids(), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    pids = [p.pid for p in loader._pool.processes]
    del it
    assert not _alive(pids)
    loader = DataLoader(_Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    first = {int(v) for b in loader for v in b.tolist()}
    it = iter(loader)
    next(it)
    del it  # abandoned mid-epoch: the next epoch ignores what it left in flight
    second = {int(v) for b in loader for v in b.tolist()}
    assert first == second and len(first) == 2
    pool = loader._pool
    del loader
    assert not _alive([p.pid for p in pool.processes] or list(first))


def test_exact_resume_with_workers():
    def make(seed):
        return DataLoader(_augmented(), 5, True, generator=nt.Generator(seed), num_workers=2)

    reference = _contents(make(11))
    straight = make(11)
    it = iter(straight)
    partial = [next(it), next(it)]
    state = json.loads(json.dumps(straight.state_dict()))
    del it
    resumed = make(999)
    resumed.load_state_dict(state)
    got = [(x.array, y.array) for x, y in partial] + _contents(resumed)
    for (gx, gy), (wx, wy) in zip(got, reference, strict=True):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_forkserver_and_the_mpi_safe_default(monkeypatch):
    loader = DataLoader(_augmented(), 5, num_workers=2, multiprocessing_context="forkserver")
    assert [y.tolist() for _, y in loader][0] == [0, 1, 2, 3, 4]

    class FakeMPI:
        @staticmethod
        def Is_initialized():
            return True

        @staticmethod
        def Is_finalized():
            return False

    monkeypatch.setitem(sys.modules, "mpi4py.MPI", FakeMPI)
    assert _workers.default_context().get_start_method() == "forkserver"
    monkeypatch.delitem(sys.modules, "mpi4py.MPI")
    assert _workers.default_context().get_start_method() == "fork"


def test_ctrl_c_stops_the_workers(tmp_path):
    script = tmp_path / "interrupt.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            import numpy as np
            from neuronet.data import DataLoader, Dataset

            class Slow(Dataset):
                def __len__(self):
                    return 10_000
                def __getitem__(self, i):
                    time.sleep(0.01)
                    return np.float32(i)

            if __name__ == "__main__":
                loader = DataLoader(Slow(), batch_size=4, num_workers=2)
                it = iter(loader)
                next(it)
                try:
                    print(" ".join(str(p.pid) for p in loader._pool.processes), flush=True)
                    for _ in it:
                        pass
                except KeyboardInterrupt:
                    print("interrupted", flush=True)
                    sys.exit(130)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in out
    deadline = time.monotonic() + 5
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pids)


def test_worker_arguments_are_checked_in_torchs_words():
    ds = _augmented()
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="'threads' is not a start method"):
        DataLoader(ds, num_workers=2, multiprocessing_context="threads")
    with pytest.raises(TypeError, match="worker_init_fn must be callable"):
        DataLoader(ds, num_workers=2, worker_init_fn=3)
    loader = DataLoader(ds, 4, num_workers=1, pin_memory=True, timeout=5)
    assert loader.prefetch_factor == 2 and len(_contents(loader)) == 6
