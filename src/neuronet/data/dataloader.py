"""DataLoader: batches from a dataset, shuffled by a seeded generator, loaded ahead of use.

The arguments are PyTorch's, in its order, with its rules: a ``sampler`` (default
``SequentialSampler``, or ``RandomSampler`` with ``shuffle=True``) chooses the indices, a
``batch_sampler`` (default ``BatchSampler(sampler, batch_size, drop_last)``) groups them into
batches, ``batch_size=None`` turns automatic batching off (each sample is loaded alone and
converted with ``default_convert``), and an ``IterableDataset`` is batched as it streams.

Each ``iter(loader)`` is one epoch. At its start the loader draws, from its generator, an
``epoch_seed`` (as PyTorch draws a base seed) and then the epoch's batches of indices: a
permutation from the same generator when shuffling, else the whole order of the ``sampler``
or ``batch_sampler``, iterated once, in this thread. Batch ``b`` is fetched with
``dataset.get_batch`` when the dataset has one (one fancy-index per tensor for
``TensorDataset``) or by collating samples. While batch ``b`` is fetched, random transforms
draw from a generator seeded by ``(epoch_seed, b)`` (see ``neuronet.data.batch_generator``),
so augmentation does not depend on threads, worker processes or timing. Batches are loaded
ahead by a background thread (``_fetch.py``), or by ``num_workers`` worker processes
(``_workers.py``; ``_worker_streams.py`` for iterable datasets), and handed out in order.

Exact resume: ``state_dict()`` records the position (epoch, batches consumed), the generator's
state at the start of the epoch and, when a ``sampler`` or ``batch_sampler`` chose the order,
the epoch's batches themselves (their randomness need not come from the loader's generator).
``load_state_dict`` replays the epoch's draws on a scratch generator, and the next ``iter()``
continues at the recorded batch with the same batches. An ``IterableDataset`` is resumed by
iterating it again and skipping the batches already consumed.
"""

from __future__ import annotations

import copy
import weakref

import numpy as np

from neuronet.data._fetch import MapBatches, PrefetchIter, StreamBatches, SyncIter
from neuronet.data._loader_checks import (
    check_batch_size,
    check_context,
    check_iterable_options,
    check_map_dataset,
    check_sized,
    check_workers,
)
from neuronet.data._worker_streams import StreamMultiProcessIter
from neuronet.data._workers import MultiProcessIter, WorkerPool, get_worker_info
from neuronet.data.collate import collate_for, make_fetch
from neuronet.data.dataset import IterableDataset
from neuronet.data.samplers import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    _InfiniteConstantSampler,
)
from neuronet.random import Generator, resolve

__all__ = ["DataLoader", "get_worker_info"]

_STATE_KEYS = ("epoch", "batch", "epoch_generator_state", "generator_state", "dataset_length")
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style dataset (``__getitem__`` + ``__len__``; ``get_batch`` is used when
            present) or an ``IterableDataset`` (batched as it streams).
        batch_size: samples per batch; None turns automatic batching off: every sample is
            loaded alone and passed to ``collate_fn`` (default ``default_convert``: arrays
            become Tensors, no batch dimension is added).
        shuffle: draw a new order every epoch from ``generator`` (builds
            ``RandomSampler(dataset, generator=generator)``).
        sampler: where the indices come from instead (a ``Sampler``, e.g.
            ``WeightedRandomSampler`` or ``neuronet.distributed.DistributedSampler``, or any
            iterable of ints with ``__len__``); mutually exclusive with ``shuffle``.
        batch_sampler: where whole batches of indices come from (lists of ints, with
            ``__len__``); mutually exclusive with ``batch_size``, ``shuffle``, ``sampler`` and
            ``drop_last``. A sampler or batch sampler is iterated once per epoch, at its start.
        num_workers: load batches in this many worker processes (0: in this process). Each
            worker is seeded as PyTorch seeds its workers; for a map-style dataset batches
            still come in order and are the same for any ``num_workers`` (see
            ``neuronet.data._workers``); each worker iterates its own copy of an
            ``IterableDataset`` (shard it with ``get_worker_info()``).
        collate_fn: turns a list of samples into a batch (default ``default_collate``; giving
            one disables the ``get_batch`` fast path).
        pin_memory: accepted for PyTorch compatibility; does nothing (there is no GPU to
            copy to). ``pin_memory_device`` likewise.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding,
            before it loads anything (``get_worker_info()`` works inside it).
        multiprocessing_context: a start method name (``'fork'``, ``'forkserver'``,
            ``'spawn'``) or context; default: the platform's, or ``'forkserver'`` when MPI is
            initialised in this process (forking after ``MPI_Init`` is unsafe).
        generator: a ``neuronet.Generator`` for the order and the per-epoch seed (default: the
            default generator, which ``neuronet.manual_seed`` resets).
        prefetch_factor: batches loaded ahead per worker (default 2; only with workers).
        persistent_workers: keep the worker processes between epochs (only with workers).
        in_order: accepted for PyTorch compatibility; batches always come in order.
        prefetch: neuronet's: with ``num_workers=0``, load the next batches in a background
            thread (a queue of two) while the caller computes. Errors in the thread are
            re-raised in the caller; abandoning the iteration (``break``) stops the thread.

    Attributes ``sampler`` and ``batch_sampler`` are what PyTorch's loader holds (the default
    ``RandomSampler``/``SequentialSampler`` and ``BatchSampler``; ``batch_sampler`` is None
    when ``batch_size`` is None). For the default samplers the loader draws the permutation
    from ``generator`` itself, so that exact resume can replay it. These attributes, with
    ``batch_size``, ``drop_last``, ``dataset`` and ``persistent_workers``, cannot be set
    after construction (as in PyTorch).

    Example:
        >>> import numpy as np
        >>> from neuronet.data import TensorDataset
        >>> ds = TensorDataset(np.arange(10, dtype=np.float32), np.arange(10))
        >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=Generator(0))
        >>> [len(y) for x, y in loader]
        [4, 4, 2]
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        prefetch: bool = True,
    ):
        check_batch_size(batch_size)
        if shuffle is not None and not isinstance(shuffle, bool):
            raise TypeError(f"shuffle should be a boolean value, but got shuffle={shuffle!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"DataLoader: generator must be a neuronet.Generator, got "
                f"{type(generator).__name__}"
            )
        check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        check_context(multiprocessing_context, worker_init_fn)
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            check_iterable_options(shuffle, sampler, batch_sampler)
        else:
            check_map_dataset(dataset)
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last (leave them at their defaults: the batch sampler "
                    "decides the batches)"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        check_sized(sampler, "sampler")
        check_sized(batch_sampler, "batch_sampler")
        self._iterable = iterable
        self._own_order = sampler is not None or batch_sampler is not None
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.generator = generator
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.in_order = in_order
        self.prefetch = prefetch
        self._pool = None
        self._next_epoch = 0  # the epoch the next iter() starts
        self._epoch = 0  # the epoch in progress (valid while _in_epoch)
        self._batch = 0  # batches handed to the caller in the epoch in progress
        self._in_epoch = False
        self._epoch_start_state = None
        self._epoch_work = None  # the epoch's batches, when a sampler chose them
        self._streams = None  # per-worker position in an iterable dataset's epoch
        self._resume = None
        self._active = None
        self._initialized = True

    def __setattr__(self, name, value):
        if name in _FROZEN and self.__dict__.get("_initialized", False):
            raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
        object.__setattr__(self, name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if not self._iterable:
            return len(self._index_sampler)
        length = len(self.dataset)  # a TypeError when the IterableDataset has no __len__
        if self.batch_size is None:
            return length
        if self.drop_last:
            return length // self.batch_size
        return -(-length // self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch in progress, or the one the next ``iter()`` starts (or resumes)."""
        if self._resume is not None:
            return self._resume["epoch"]
        return self._epoch if self._in_epoch else self._next_epoch

    @property
    def batch_index(self) -> int:
        """Batches handed out so far in the epoch in progress (0 between epochs; the resume
        point after ``load_state_dict``)."""
        if self._resume is not None:
            return self._resume["batch"]
        return self._batch if self._in_epoch else 0

    # ---- one epoch ------------------------------------------------------------------------
    def _plan(self, start_state: dict | None, recorded: dict | None = None):
        """Draw the epoch's seed and batches (the "work": index arrays, or single indices
        without automatic batching; None for an iterable dataset). From ``start_state`` on a
        scratch generator, with the ``recorded`` batches of a sampler when given."""
        live = resolve(self.generator)
        if start_state is None:
            g = live
        else:
            g = Generator()
            g.set_state(copy.deepcopy(start_state))
        state = copy.deepcopy(g.get_state())
        epoch_seed = int(g.integers(0, 2**63 - 1, ()))
        if self._iterable:
            return state, epoch_seed, None
        if recorded is not None:
            return state, epoch_seed, _decode_work(recorded, len(self.dataset))
        if self.batch_size is None and self.batch_sampler is not None:  # the user's batches
            return state, epoch_seed, [_index_array(b, i) for i, b in enumerate(self.batch_sampler)]
        if self._own_order:
            order = _sampler_order(self.sampler)
        else:
            n = len(self.dataset)
            order = g.permutation(n) if self.shuffle else np.arange(n)
        return state, epoch_seed, self._batches_of(order)

    def _batches_of(self, order: np.ndarray) -> list:
        if self.batch_size is None:
            return order.tolist()
        size = self.batch_size
        work = [order[i : i + size] for i in range(0, len(order), size)]
        if self.drop_last and len(order) % size:
            work.pop()
        return work

    def __iter__(self):
        resume, self._resume = self._resume, None
        if resume is not None:
            epoch, skip = resume["epoch"], resume["batch"]
            recorded = resume.get("epoch_batches")
            state, epoch_seed, work = self._plan(resume["epoch_generator_state"], recorded)
            streams = resume.get("worker_streams")
        else:
            epoch, skip, streams = self._next_epoch, 0, None
            state, epoch_seed, work = self._plan(None)
        self._epoch = epoch
        self._next_epoch = epoch + 1
        self._batch = skip
        self._in_epoch = True
        self._epoch_start_state = state
        self._epoch_work = work if self._own_order else None
        self._streams = streams
        token = object()
        self._active = token
        if self._iterable:
            return self._stream_iter(token, epoch_seed, skip, streams)
        if self.num_workers:
            pool = self._workers(epoch_seed)
            persistent = self.persistent_workers
            return MultiProcessIter(self, token, pool, work, epoch_seed, skip, persistent)
        fetch = make_fetch(self.dataset, self.collate_fn, self._auto_collation)
        source = MapBatches(fetch, work, epoch_seed, skip)
        return PrefetchIter(self, token, source) if self.prefetch else SyncIter(self, token, source)

    def _stream_iter(self, token, epoch_seed: int, skip: int, streams):
        if self.num_workers:
            pool = self._workers(epoch_seed)
            persistent = self.persistent_workers
            return StreamMultiProcessIter(self, token, pool, epoch_seed, streams, persistent)
        collate = collate_for(self.collate_fn, self.batch_size)
        try:
            total = len(self)
        except TypeError:
            total = None
        source = StreamBatches(
            self.dataset, self.batch_size, self.drop_last, collate, epoch_seed, skip, total=total
        )
        return PrefetchIter(self, token, source) if self.prefetch else SyncIter(self, token, source)

    def _worker_spec(self) -> tuple:
        """What a worker process needs to know to load (see ``_workers._worker_loop``)."""
        if self._iterable:
            return ("stream", self.collate_fn, self.batch_size, self.drop_last)
        return ("map", self.collate_fn, self._auto_collation)

    def _workers(self, epoch_seed: int) -> WorkerPool:
        """A fresh pool seeded with this epoch's seed, or the persistent one still running."""
        if self._pool is not None and self.persistent_workers and self._pool.alive():
            return self._pool
        if self._pool is not None:
            self._pool.shutdown()
        self._pool = WorkerPool(self, base_seed=epoch_seed)
        weakref.finalize(self, self._pool.shutdown)
        return self._pool

    # ---- position bookkeeping, called by the iterators ------------------------------------
    def _advance(self, token, batches_done: int, streams: dict | None = None) -> None:
        if token is self._active:
            self._batch = batches_done
            self._streams = streams

    def _finish(self, token) -> None:
        if token is self._active:
            self._in_epoch = False
            self._batch = 0

    # ---- exact resume --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The loader's position.

        Keys: ``epoch`` (the epoch in progress, or the next one between epochs), ``batch``
        (batches already handed out in it), ``epoch_generator_state`` (the generator's state
        when that epoch began; None between epochs), ``generator_state`` (its state now),
        ``epoch_batches`` (with a ``sampler`` or ``batch_sampler``, mid-epoch: the epoch's
        batches as ``{"indices": int64 array, "sizes": int64 array or None}``; else None),
        ``worker_streams`` (an ``IterableDataset`` loaded by workers, mid-epoch: each
        worker's batches handed out, which have ended, whose turn is next; else None),
        ``dataset_length`` (None for an unsized iterable dataset), ``batch_size``,
        ``shuffle``, ``drop_last``.

        Everything is plain JSON except ``epoch_batches``' arrays, which
        ``neuronet.io.save_checkpoint`` and ``neuronet.save`` store as tensors.
        """
        live = resolve(self.generator)
        if self._resume is not None:
            position = copy.deepcopy(self._resume)
        elif self._in_epoch:
            position = {
                "epoch": self._epoch,
                "batch": self._batch,
                "epoch_generator_state": copy.deepcopy(self._epoch_start_state),
                "epoch_batches": _encode_work(self._epoch_work, self.batch_size),
                "worker_streams": copy.deepcopy(self._streams),
            }
        else:
            position = {"epoch": self._next_epoch, "batch": 0, "epoch_generator_state": None}
        position.setdefault("epoch_batches", None)
        position.setdefault("worker_streams", None)
        position.update(
            generator_state=copy.deepcopy(live.get_state()),
            dataset_length=self._dataset_length(),
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            drop_last=self.drop_last,
        )
        return position

    def _dataset_length(self):
        try:
            return len(self.dataset)
        except TypeError:
            return None

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state`` (from ``state_dict``): the next ``iter()`` resumes that epoch
        at that batch, with the same batches. The generator is set to its saved current state.

        A ``sampler``'s or ``batch_sampler``'s batches for the interrupted epoch come from the
        state; the sampler's own generator, if it has one, is yours to restore for the epochs
        after it (as in PyTorch). An ``IterableDataset`` is iterated again from its start and
        the consumed batches are skipped (pulled, not collated): exact when iterating it is
        deterministic. With workers it needs the same ``num_workers``.
        """
        missing = [k for k in _STATE_KEYS if k not in state]
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: the state lacks keys {missing}")
        for key, mine in (
            ("dataset_length", self._dataset_length()),
            ("batch_size", self.batch_size),
            ("shuffle", self.shuffle),
            ("drop_last", self.drop_last),
        ):
            if key in state and state[key] != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: the state was saved with {key}={state[key]!r} "
                    f"but this loader has {key}={mine!r}; resume with the same data and settings"
                )
        mid_epoch = state["epoch_generator_state"] is not None
        recorded = state.get("epoch_batches") if mid_epoch else None
        streams = state.get("worker_streams") if mid_epoch else None
        if recorded is not None:
            if not self._own_order:
                raise ValueError(
                    "DataLoader.load_state_dict: the state was saved by a loader whose sampler "
                    "or batch_sampler chose the batches, but this loader draws its own order; "
                    "resume with the same sampler arguments"
                )
            _decode_work(recorded, len(self.dataset))  # refuse a malformed state now
        if mid_epoch and self._iterable:
            streams = self._check_streams(streams, int(state["batch"]))
        resolve(self.generator).set_state(copy.deepcopy(state["generator_state"]))
        self._in_epoch = False
        self._active = None
        if not mid_epoch:
            self._resume = None
            self._next_epoch = int(state["epoch"])
        else:
            self._resume = {
                "epoch": int(state["epoch"]),
                "batch": int(state["batch"]),
                "epoch_generator_state": copy.deepcopy(state["epoch_generator_state"]),
                "epoch_batches": copy.deepcopy(recorded),
                "worker_streams": copy.deepcopy(streams),
            }

    def _check_streams(self, streams, batch: int):
        """The saved per-worker position, if this loader can use it (None: start afresh)."""
        if batch == 0:
            return None
        saved = 0 if streams is None else int(streams["num_workers"])
        if saved != self.num_workers:
            raise ValueError(
                f"DataLoader.load_state_dict: the state was saved with num_workers={saved} "
                f"but this loader has num_workers={self.num_workers}; an IterableDataset "
                "resumes mid-epoch only with the same number of workers (each worker iterates "
                "its own copy)"
            )
        return streams

    def __repr__(self) -> str:
        try:
            batches = f", batches={len(self)}"
        except TypeError:
            batches = ""
        return (
            f"DataLoader(batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, "
            f"prefetch={self.prefetch}{batches})"
        )


# ---- a sampler's epoch, and its record in the state --------------------------------------
def _int_array(values: list, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, np.int64)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        shown = values[:5] if isinstance(values, list) else values
        raise TypeError(
            f"DataLoader: {what} must give int indices, got {shown!r}; neuronet's loader loads "
            "datasets by integer index"
        )
    return array.astype(np.int64, copy=False)


def _sampler_order(sampler) -> np.ndarray:
    """The sampler's indices for one epoch (it is iterated once, here)."""
    return _int_array(list(sampler), f"the sampler ({type(sampler).__name__})")


def _index_array(batch, b: int) -> np.ndarray:
    values = batch.tolist() if hasattr(batch, "tolist") else list(batch)
    return _int_array(values, f"the batch_sampler's batch {b}")


def _encode_work(work, batch_size) -> dict | None:
    """A sampler's epoch as two int64 arrays (None for the loader's own order)."""
    if work is None:
        return None
    if batch_size is None and (not work or not isinstance(work[0], np.ndarray)):
        return {"indices": np.asarray(work, dtype=np.int64), "sizes": None}
    sizes = np.array([len(w) for w in work], dtype=np.int64)
    indices = np.concatenate(work).astype(np.int64) if work else np.zeros(0, np.int64)
    return {"indices": indices, "sizes": sizes}


def _decode_work(recorded: dict, length: int) -> list:
    try:
        indices = np.asarray(recorded["indices"])
        sizes = recorded["sizes"]
        sizes = None if sizes is None else np.asarray(sizes)
        ok = indices.ndim == 1 and (indices.size == 0 or indices.dtype.kind in "iu")
        ok = ok and (sizes is None or (sizes.ndim == 1 and int(sizes.sum()) == indices.size))
    except (KeyError, TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise ValueError(
            "DataLoader.load_state_dict: the state's epoch_batches is malformed (it needs "
            "'indices', a 1-D int array, and 'sizes' summing to its length, or None)"
        )
    indices = indices.astype(np.int64, copy=False)
    if sizes is None:
        return indices.tolist()
    return np.split(indices, np.cumsum(sizes)[:-1]) if sizes.size else []
