"""DataLoader: batches from a dataset, shuffled by a seeded generator, loaded ahead of use.

Each ``iter(loader)`` is one epoch. At its start the loader draws, from its generator, an
``epoch_seed`` (as PyTorch draws a base seed) and, when shuffling, a permutation of the dataset.
Batch ``b`` is the permutation's ``b``-th slice, fetched with ``dataset.get_batch`` when the
dataset has one (one fancy-index per tensor for ``TensorDataset``) or by collating samples.
While batch ``b`` is fetched, random transforms draw from a generator seeded by
``(epoch_seed, b)`` (see ``neuronet.data.batch_generator``), so augmentation does not depend on
threads, worker processes or timing. Batches are loaded ahead by a background thread, or by
``num_workers`` worker processes (``_workers.py``), and handed out in order either way.

Exact resume: ``state_dict()`` records the position (epoch, batches consumed) and the
generator's state at the start of the epoch; ``load_state_dict`` replays that epoch's draws on a
scratch generator and the next ``iter()`` continues at the recorded batch with the same order.
"""

from __future__ import annotations

import copy
import queue
import threading
import weakref

import numpy as np

from neuronet.data._rng import batch_seed
from neuronet.data._workers import MultiProcessIter, WorkerPool, get_worker_info
from neuronet.data.collate import fetch_batch
from neuronet.random import Generator, resolve

__all__ = ["DataLoader", "get_worker_info"]

_STATE_KEYS = ("epoch", "batch", "epoch_generator_state", "generator_state", "dataset_length")
_QUEUE_SIZE = 2  # batches ready ahead of the consumer


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a dataset (``__getitem__`` + ``__len__``; ``get_batch`` is used when present).
        batch_size: samples per batch.
        shuffle: draw a new order every epoch from ``generator``.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        collate_fn: turns a list of samples into a batch (default ``default_collate``; giving
            one disables the ``get_batch`` fast path).
        generator: a ``neuronet.Generator`` for the order and the per-epoch seed (default: the
            default generator, which ``neuronet.manual_seed`` resets).
        sampler: where the indices come from instead (anything with ``__iter__`` over ints and
            ``__len__``, e.g. ``neuronet.distributed.DistributedSampler``); mutually exclusive
            with ``shuffle``. It is iterated once per epoch, at the epoch's start.
        prefetch: with ``num_workers=0``, load the next batches in a background thread (a
            queue of two) while the caller computes. Errors in the thread are re-raised in the
            caller; abandoning the iteration (``break``) stops the thread.
        num_workers: load batches in this many worker processes (0: in this process). Each
            worker is seeded as PyTorch seeds its workers; batches still come in order and are
            the same for any ``num_workers`` (see ``neuronet.data._workers``).
        pin_memory: accepted for PyTorch compatibility; does nothing (there is no GPU to
            copy to). ``pin_memory_device`` likewise.
        timeout: seconds to wait for a batch from the workers before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding,
            before it loads anything (``get_worker_info()`` works inside it).
        multiprocessing_context: a start method name (``'fork'``, ``'forkserver'``,
            ``'spawn'``) or context; default: the platform's, or ``'forkserver'`` when MPI is
            initialised in this process (forking after ``MPI_Init`` is unsafe).
        prefetch_factor: batches loaded ahead per worker (default 2; only with workers).
        persistent_workers: keep the worker processes between epochs (only with workers).

    Note:
        Arguments after ``shuffle`` are keyword-only. PyTorch's ``batch_sampler`` has no
        counterpart; ``prefetch`` is neuronet's.

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
        batch_size: int = 1,
        shuffle: bool = False,
        *,
        drop_last: bool = False,
        collate_fn=None,
        generator: Generator | None = None,
        prefetch: bool = True,
        num_workers: int = 0,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        sampler=None,
    ):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
            raise TypeError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size!r}"
            )
        if batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle should be a boolean value, but got shuffle={shuffle!r}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must have __len__ and __getitem__ (a Dataset or a "
                f"TensorDataset), got {type(dataset).__name__}"
            )
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"DataLoader: generator must be a neuronet.Generator, got "
                f"{type(generator).__name__}"
            )
        _check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        _check_context(multiprocessing_context, worker_init_fn)
        self.num_workers = int(num_workers)
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers else prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self._pool = None
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        self.sampler = sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.generator = generator
        self.prefetch = prefetch
        self._next_epoch = 0  # the epoch the next iter() starts
        self._epoch = 0  # the epoch in progress (valid while _in_epoch)
        self._batch = 0  # batches handed to the caller in the epoch in progress
        self._in_epoch = False
        self._epoch_start_state = None
        self._resume = None
        self._active = None

    def __len__(self) -> int:
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

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

    def _plan(self, start_state: dict | None):
        """Draw the epoch's seed and order; from ``start_state`` on a scratch generator."""
        live = resolve(self.generator)
        if start_state is None:
            g = live
        else:
            g = Generator()
            g.set_state(copy.deepcopy(start_state))
        state = copy.deepcopy(g.get_state())
        epoch_seed = int(g.integers(0, 2**63 - 1, ()))
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
        else:
            order = g.permutation(n) if self.shuffle else np.arange(n)
        return state, epoch_seed, order

    def __iter__(self):
        if self._resume is not None:
            epoch = self._resume["epoch"]
            skip = self._resume["batch"]
            state, epoch_seed, order = self._plan(self._resume["epoch_generator_state"])
            self._resume = None
        else:
            epoch = self._next_epoch
            skip = 0
            state, epoch_seed, order = self._plan(None)
        self._epoch = epoch
        self._next_epoch = epoch + 1
        self._batch = skip
        self._in_epoch = True
        self._epoch_start_state = state
        token = object()
        self._active = token
        n = len(order)
        slices = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
        if self.drop_last and n % self.batch_size:
            slices.pop()
        if self.num_workers:
            pool = self._workers(epoch_seed)
            persistent = self.persistent_workers
            return MultiProcessIter(self, token, pool, slices, epoch_seed, skip, persistent)
        fetch = _make_fetch(self.dataset, self.collate_fn)
        if self.prefetch:
            return _PrefetchIter(self, token, fetch, slices, epoch_seed, skip)
        return _SyncIter(self, token, fetch, slices, epoch_seed, skip)

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
    def _advance(self, token, batches_done: int) -> None:
        if token is self._active:
            self._batch = batches_done

    def _finish(self, token) -> None:
        if token is self._active:
            self._in_epoch = False
            self._batch = 0

    # ---- exact resume --------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The loader's position, JSON-serialisable.

        Keys: ``epoch`` (the epoch in progress, or the next one between epochs), ``batch``
        (batches already handed out in it), ``epoch_generator_state`` (the generator's state
        when that epoch began; None between epochs), ``generator_state`` (its state now),
        ``dataset_length``, ``batch_size``, ``shuffle``, ``drop_last``.
        """
        live = resolve(self.generator)
        if self._resume is not None:
            position = dict(self._resume)
        elif self._in_epoch:
            position = {
                "epoch": self._epoch,
                "batch": self._batch,
                "epoch_generator_state": copy.deepcopy(self._epoch_start_state),
            }
        else:
            position = {"epoch": self._next_epoch, "batch": 0, "epoch_generator_state": None}
        position.update(
            generator_state=copy.deepcopy(live.get_state()),
            dataset_length=len(self.dataset),
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            drop_last=self.drop_last,
        )
        return position

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state`` (from ``state_dict``): the next ``iter()`` resumes that epoch
        at that batch, in the same order. The generator is set to its saved current state."""
        missing = [k for k in _STATE_KEYS if k not in state]
        if missing:
            raise KeyError(f"DataLoader.load_state_dict: the state lacks keys {missing}")
        for key, mine in (
            ("dataset_length", len(self.dataset)),
            ("batch_size", self.batch_size),
            ("shuffle", self.shuffle),
            ("drop_last", self.drop_last),
        ):
            if key in state and state[key] != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: the state was saved with {key}={state[key]!r} "
                    f"but this loader has {key}={mine!r}; resume with the same data and settings"
                )
        resolve(self.generator).set_state(copy.deepcopy(state["generator_state"]))
        self._in_epoch = False
        self._active = None
        if state["epoch_generator_state"] is None:
            self._resume = None
            self._next_epoch = int(state["epoch"])
        else:
            self._resume = {
                "epoch": int(state["epoch"]),
                "batch": int(state["batch"]),
                "epoch_generator_state": copy.deepcopy(state["epoch_generator_state"]),
            }

    def __repr__(self) -> str:
        return (
            f"DataLoader(batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, num_workers={self.num_workers}, "
            f"prefetch={self.prefetch}, batches={len(self)})"
        )


def _check_workers(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
    """PyTorch's checks of the worker arguments, in its words."""
    if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            f"multiprocessing (got {num_workers!r})"
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing. let "
            "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and prefetch_factor < 1:
        raise ValueError(f"prefetch_factor option should be a positive int, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")


def _check_context(context, worker_init_fn) -> None:
    import multiprocessing

    if isinstance(context, str) and context not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"DataLoader: multiprocessing_context={context!r} is not a start method on this "
            f"platform; use one of {multiprocessing.get_all_start_methods()}"
        )
    if worker_init_fn is not None and not callable(worker_init_fn):
        raise TypeError(
            f"DataLoader: worker_init_fn must be callable as worker_init_fn(worker_id), got "
            f"{type(worker_init_fn).__name__}"
        )


def _make_fetch(dataset, collate_fn):
    if collate_fn is None:
        return lambda idx: fetch_batch(dataset, idx)
    return lambda idx: collate_fn([dataset[i] for i in idx.tolist()])


class _SyncIter:
    """Fetches each batch when asked, in the caller's thread."""

    def __init__(self, loader, token, fetch, slices, epoch_seed, start):
        self.loader = loader
        self.token = token
        self.fetch = fetch
        self.slices = slices
        self.epoch_seed = epoch_seed
        self.pos = start

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self.slices) - self.pos

    def __next__(self):
        if self.pos >= len(self.slices):
            self.loader._finish(self.token)
            raise StopIteration
        with batch_seed(self.epoch_seed, self.pos):
            batch = self.fetch(self.slices[self.pos])
        self.pos += 1
        self.loader._advance(self.token, self.pos)
        return batch


class _Failure:
    def __init__(self, error: BaseException, index: int):
        self.error = error
        self.index = index


_END = object()


def _worker(fetch, slices, epoch_seed, start, out: queue.Queue, stop: threading.Event):
    """Fetch batches start.. in order into ``out``; stop early when ``stop`` is set."""
    for b in range(start, len(slices)):
        if stop.is_set():
            return
        try:
            with batch_seed(epoch_seed, b):
                item = (b, fetch(slices[b]))
        except BaseException as error:  # re-raised in the consumer (SystemExit included)
            item = _Failure(error, b)
        if not _put(out, item, stop) or isinstance(item, _Failure):
            return
    _put(out, _END, stop)


def _put(out: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class _PrefetchIter:
    """Consumes batches that a background thread fetches ahead (bounded queue)."""

    def __init__(self, loader, token, fetch, slices, epoch_seed, start):
        self.loader = loader
        self.token = token
        self.remaining = len(slices) - start
        self.epoch = loader._epoch
        self.queue = queue.Queue(maxsize=_QUEUE_SIZE)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=_worker,
            args=(fetch, slices, epoch_seed, start, self.queue, self.stop),
            name="neuronet-data-prefetch",
            daemon=True,
        )
        self.thread.start()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return self.remaining

    def __next__(self):
        if self.thread is None:
            raise StopIteration
        item = self._get()
        if item is _END:
            self.close()
            self.loader._finish(self.token)
            raise StopIteration
        if isinstance(item, _Failure):
            self.close()
            error = item.error
            if hasattr(error, "add_note"):
                error.add_note(
                    f"(raised in the DataLoader prefetch thread while loading batch {item.index} "
                    f"of epoch {self.epoch}; pass prefetch=False to load in the calling thread)"
                )
            raise error
        index, batch = item
        self.remaining -= 1
        self.loader._advance(self.token, index + 1)
        return batch

    def _get(self):
        while True:
            try:
                return self.queue.get(timeout=0.5)
            except queue.Empty:
                if not self.thread.is_alive() and self.queue.empty():
                    self.thread = None
                    raise RuntimeError(
                        "the DataLoader prefetch thread stopped without a batch or an error; "
                        "use prefetch=False to load in the calling thread"
                    ) from None

    def close(self) -> None:
        """Stop the background thread and drop batches it prepared."""
        if self.thread is None:
            return
        self.stop.set()
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.thread.join(timeout=10)
        self.thread = None

    def __del__(self):
        self.close()
