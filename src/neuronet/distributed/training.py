"""What the Trainer asks when it runs under MPI, in one place, so ``train/trainer.py`` stays a
single-process loop with a handful of one-line calls.

``for_trainer()`` returns ``SINGLE`` (every answer is the single-process one) unless this
process is one of several ranks -- started by ``mpiexec -n N`` (MPI is then initialised here) or
after ``neuronet.distributed.init()``. Under MPI (``Ranks``):

- data: training Datasets are sharded with ``DistributedSampler`` (seeded with the trainer's
  seed; ``set_epoch`` every epoch), evaluation Datasets split without padding so every sample
  counts once; a DataLoader without a DistributedSampler trains every rank on all the data
  (correct, but N times the work: a warning says so);
- the model is wrapped once in ``DistributedDataParallel``; with gradient accumulation only the
  last micro-batch of a group communicates (``no_sync`` for the others);
- the epoch's loss and every metric are reduced across ranks (metric state -- counts, sums,
  confusion tables -- is summed), so logs, ``ReduceLROnPlateau`` and ``EarlyStopping`` see the
  same values on every rank and decide alike;
- stop requests (Ctrl-C, ``stop_training``) are agreed after every batch, so all ranks stop at
  the same batch;
- only rank 0 prints, draws progress bars, writes checkpoints and runs callbacks marked
  ``rank_zero_only``; checkpoints record the world size and a resume checks it.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from neuronet.distributed import process_group as pg
from neuronet.distributed.errors import DistributedError


class _Single:
    """Not distributed: the single-process answer to every question."""

    is_main = True
    world_size = 1

    def loader(self, data, batch_size, shuffle, generator, shard):
        return None

    def begin_epoch(self, loader, epoch: int) -> None:
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)

    def wrap(self, model):
        return model

    def sync(self, model, step_now: bool):
        return contextlib.nullcontext()

    def agree(self, *flags: bool) -> tuple:
        return tuple(bool(f) for f in flags)

    def reduce(self, loss_sum: float, count: int, metrics) -> tuple:
        return loss_sum, count

    def sync_buffers(self, model) -> None:
        pass

    def callbacks(self, callbacks: list) -> list:
        return list(callbacks)

    def checkpoint_state(self) -> dict:
        return {}

    def check_resume(self, path, state: dict) -> None:
        saved = state.get("world_size", 1)
        if saved != 1:
            _world_mismatch(path, saved, 1)


SINGLE = _Single()


def _world_mismatch(path, saved: int, now: int):
    raise DistributedError(
        f"{path} was written by a run of {saved} ranks; resume it with the same number "
        f"(neuronet train --nproc {saved}, or mpiexec -n {saved}); this run has {now}"
    )


def for_trainer():
    """``SINGLE`` or a ``Ranks`` for the current process (see the module docstring)."""
    if not pg.is_initialized():
        if pg.launched_world_size() <= 1:
            return SINGLE
        pg.init()
    if pg.GROUP.size <= 1:
        return SINGLE
    return _RANKS


class _EvalShard:
    """Rank r's samples r, r + N, r + 2N, ... -- no padding, so each sample counts once."""

    def __init__(self, n: int, rank: int, world: int):
        self.indices = list(range(rank, n, world))

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class Ranks(_Single):
    """Under MPI (see the module docstring)."""

    _warned = False

    @property
    def is_main(self) -> bool:
        return pg.GROUP.rank == 0

    @property
    def world_size(self) -> int:
        return pg.GROUP.size

    def loader(self, data, batch_size, shuffle, generator, shard):
        from neuronet.autograd.tensor import Tensor
        from neuronet.data import DataLoader, IterableDataset, TensorDataset
        from neuronet.distributed.sampler import DistributedSampler

        if isinstance(data, DataLoader):
            if shard == "train" and not isinstance(data.sampler, DistributedSampler):
                self._warn_unsharded()
            return None
        if not shard or isinstance(data, IterableDataset):
            return None  # a stream has no indices to shard: it yields each rank's part itself
        if isinstance(data, Tensor):
            data = TensorDataset(data)
        if shard == "train":
            seed = generator.initial_seed() or 0
            sampler = DistributedSampler(data, shuffle=shuffle, seed=seed)
        else:
            sampler = _EvalShard(len(data), pg.GROUP.rank, pg.GROUP.size)
        return DataLoader(data, batch_size=batch_size, generator=generator, sampler=sampler)

    def _warn_unsharded(self) -> None:
        if self.is_main and not Ranks._warned:
            Ranks._warned = True
            warnings.warn(
                f"Trainer.fit under MPI got a DataLoader without a DistributedSampler: each of "
                f"the {self.world_size} ranks trains on all the data (the same result as one "
                "process, for N times the work). Pass the Dataset instead, or "
                "DataLoader(..., sampler=DistributedSampler(dataset))",
                stacklevel=4,
            )

    def wrap(self, model):
        """The model's DistributedDataParallel wrapper, made once per model (its gradient
        hooks stay on the parameters, so a second fit reuses it)."""
        from neuronet.distributed.ddp import DistributedDataParallel

        if isinstance(model, DistributedDataParallel):
            return model
        attached = model.__dict__.get("_neuronet_ddp")
        if attached is None:
            attached = _Attached(DistributedDataParallel(model))
            object.__setattr__(model, "_neuronet_ddp", attached)
        return attached.ddp

    def sync(self, model, step_now: bool):
        if step_now:
            return contextlib.nullcontext()
        return self.wrap(model).no_sync()

    def agree(self, *flags: bool) -> tuple:
        """Each flag is True on every rank if it is True on any."""
        values = np.array([1 if f else 0 for f in flags], np.int64)
        pg.all_reduce(values, "max")
        return tuple(bool(v) for v in values)

    def reduce(self, loss_sum: float, count: int, metrics) -> tuple:
        """Sum the loss and sample count, and every metric's state, over the ranks."""
        totals = np.array([loss_sum, count], np.float64)
        pg.all_reduce(totals, "sum")
        for metric in metrics:
            reduce_metric(metric)
        return float(totals[0]), int(totals[1])

    def sync_buffers(self, model) -> None:
        """Rank 0's buffers (BatchNorm running statistics) everywhere, before evaluating."""
        buffers = [b for b in model.buffers() if b.array.size]
        if buffers:
            from neuronet.distributed.ddp import _broadcast_buffers

            _broadcast_buffers(buffers)

    def callbacks(self, callbacks: list) -> list:
        if self.is_main:
            return list(callbacks)
        return [cb for cb in callbacks if not getattr(cb, "rank_zero_only", False)]

    def checkpoint_state(self) -> dict:
        return {"world_size": self.world_size}

    def check_resume(self, path, state: dict) -> None:
        saved = state.get("world_size", 1)
        if saved != self.world_size:
            _world_mismatch(path, saved, self.world_size)


_RANKS = Ranks()


class _Attached:
    """Holds a model's wrapper on the model; a deep copy of the model gets none (its
    parameters are new, so it needs a wrapper of its own), and neither does a pickle."""

    __slots__ = ("ddp",)

    def __init__(self, ddp):
        self.ddp = ddp

    def __deepcopy__(self, memo):
        return None

    def __reduce__(self):
        return (type(None), ())


def _state_names(metric) -> list[str]:
    """A metric's accumulated state: the attributes its ``reset()`` assigns (config such as
    TopKAccuracy's ``k`` is set in ``__init__`` only), found by resetting a blank instance."""
    try:
        blank = object.__new__(type(metric))
        blank.reset()
        names = sorted(vars(blank))
    except Exception:  # a reset() that needs configuration: every numeric attribute
        names = sorted(vars(metric))
    kinds = (int, float, np.ndarray, type(None))
    values = {k: getattr(metric, k, None) for k in names}
    return [k for k, v in values.items() if isinstance(v, kinds) and not isinstance(v, bool)]


def reduce_metric(metric) -> None:
    """Sum a metric's state over the ranks, in place: the counts and sums its ``reset()``
    sets (``correct``/``total``, per-class ``tp``/``fp``/``fn``, ``sum_sq``, ...). Per-class
    arrays of different lengths are padded with zeros; ``None`` (no update on this rank) counts
    as zeros. ``compute()`` then gives the value over all ranks' samples."""
    names = _state_names(metric)
    scalars = [k for k in names if isinstance(getattr(metric, k), (int, float))]
    arrays = [k for k in names if k not in scalars]
    if scalars:
        values = np.array([float(getattr(metric, k)) for k in scalars], np.float64)
        pg.all_reduce(values, "sum")
        for k, v in zip(scalars, values):
            old = getattr(metric, k)
            setattr(metric, k, int(round(v)) if isinstance(old, int) else float(v))
    for k in arrays:
        mine = getattr(metric, k)
        length = np.array([0 if mine is None else mine.size], np.int64)
        pg.all_reduce(length, "max")
        if length[0] == 0:
            continue
        full = np.zeros(int(length[0]), np.float64)
        if mine is not None:
            full[: mine.size] = mine.reshape(-1)
        pg.all_reduce(full, "sum")
        kind = np.int64 if mine is None or mine.dtype.kind in "iub" else mine.dtype
        setattr(metric, k, full.astype(kind))
