"""DataLoader worker processes: ``DataLoader(num_workers=N)``, as PyTorch runs them.

Each worker is a process holding its own copy of the dataset. The loader sends batch ``b`` to
worker ``b % N`` (at most ``prefetch_factor`` batches ahead per worker), workers send back the
collated batch, and the loader hands batches out strictly in order. Inside a worker, batch ``b``
is fetched under ``batch_seed(epoch_seed, b)`` exactly as without workers, so random transforms
give the same batches whatever ``num_workers`` is, and exact resume works unchanged.

An ``IterableDataset`` is different: each worker iterates its own copy and batches what it
yields; the loader takes the workers' batches in turn (``_worker_streams.py``).

Seeding follows PyTorch: with ``base_seed`` the epoch's seed drawn from the loader's generator,
worker ``i`` seeds Python's ``random`` and neuronet's default generator with ``base_seed + i``
and NumPy's global ``np.random`` with PyTorch's ``_generate_state(base_seed, i)`` (NumPy's
SeedSequence mixing of ``[i, low 32 bits, high 32 bits, 0]``), then calls
``worker_init_fn(i)``; ``get_worker_info()`` tells dataset code which worker it runs in.

Start method: ``fork`` where it is safe (the platform default on Linux, as PyTorch), and
``forkserver`` when MPI is initialised in this process (a process forked after ``MPI_Init``
may hang or crash). ``multiprocessing_context=`` overrides it; ``forkserver`` and ``spawn``
pickle the dataset and ``collate_fn`` and re-import the main module, so scripts need
``if __name__ == "__main__":``, as in PyTorch.

Shutdown: at the end of an epoch (unless ``persistent_workers``), when the iterator is dropped
(``break``), on Ctrl-C in the main process (workers ignore SIGINT; the main process stops them),
and when a worker fails: its exception is re-raised in the main process with the worker's
traceback in the message. Workers also exit when the main process dies.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

from neuronet.data._fetch import StreamBatches
from neuronet.data._rng import batch_seed
from neuronet.data.collate import collate_for, make_fetch

__all__ = ["WorkerInfo", "get_worker_info"]

_POLL_SECONDS = 0.5
_INFO = None  # this process's WorkerInfo (set in worker processes only)


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``
    (this worker's ``base_seed + id``) and ``dataset`` (this worker's copy)."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker process, its ``WorkerInfo``; None in the main process."""
    return _INFO


def _generate_state(base_seed: int, worker_id: int) -> list:
    """PyTorch's seed for a worker's ``np.random``: four 32-bit words."""
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return [int(w) for w in np.random.SeedSequence(entropy).generate_state(4)]


def _seed_worker(base_seed: int, worker_id: int) -> int:
    from neuronet.random import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


class StreamEnd:
    """What a worker sends for a request past the end of its iterable dataset's stream."""


class _MapServer:
    """Serves a map-style dataset: task ``b`` is ``fetch(work)`` under batch ``b``'s seed."""

    def __init__(self, dataset, collate_fn, auto_collation: bool):
        self.fetch = make_fetch(dataset, collate_fn, auto_collation)

    def __call__(self, generation, b, work, epoch_seed):
        with batch_seed(epoch_seed, b):
            return b, self.fetch(work)


class _StreamServer:
    """Serves an ``IterableDataset``: request ``j`` of a generation (an epoch) is this
    worker's ``j``-th batch of its own pass over its copy of the dataset; ``work`` is the
    number of batches to skip when the pass starts (the resume point). Batch ``j`` of worker
    ``w`` is loaded under ``batch_seed(epoch_seed, j * num_workers + w)``; its key is that
    same number."""

    def __init__(self, dataset, collate_fn, batch_size, drop_last, worker_id, num_workers):
        self.args = (dataset, batch_size, drop_last, collate_for(collate_fn, batch_size))
        self.worker_id = worker_id
        self.num_workers = num_workers
        self.generation = None
        self.stream = None

    def key(self, j: int) -> int:
        return j * self.num_workers + self.worker_id

    def __call__(self, generation, j, skip, epoch_seed):
        if generation != self.generation:
            self.generation = generation
            stride, offset = self.num_workers, self.worker_id
            self.stream = StreamBatches(*self.args, epoch_seed, skip, stride, offset)
        try:
            _, batch = next(self.stream)
        except StopIteration:
            return self.key(j), StreamEnd()
        return self.key(j), batch


def _failure(worker_id: int, where: str, error: BaseException) -> dict:
    """An exception as data the main process can re-raise (its class only if picklable)."""
    try:
        kind = pickle.loads(pickle.dumps(type(error)))
    except Exception:
        kind = None
    return {
        "type": kind,
        "name": type(error).__name__,
        "where": f"in DataLoader worker process {worker_id} {where}",
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
    }


def _worker_loop(dataset, spec, worker_id, num_workers, base_seed, init_fn, tasks, results):
    """The body of one worker process: seed, init, then serve tasks until told to stop.

    ``spec`` is ``("map", collate_fn, auto_collation)`` or ``("stream", collate_fn,
    batch_size, drop_last)`` (an ``IterableDataset``). A task is ``(generation, index, work,
    epoch_seed)``; its result ``(generation, key, ok, batch or failure)``.
    """
    global _INFO
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    parent = os.getppid()
    seed = _seed_worker(base_seed, worker_id)
    _INFO = WorkerInfo(worker_id, num_workers, seed, dataset)
    if spec[0] == "map":
        serve = _MapServer(dataset, *spec[1:])
    else:
        serve = _StreamServer(dataset, *spec[1:], worker_id, num_workers)
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except BaseException as error:
        results.put(
            pickle.dumps((None, -1, False, _failure(worker_id, "in worker_init_fn", error)))
        )
        return
    while True:
        try:
            task = tasks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:  # the main process died
                return
            continue
        if task is None:
            return
        generation, index, work, epoch_seed = task
        try:
            key, batch = serve(generation, index, work, epoch_seed)
            payload = pickle.dumps((generation, key, True, batch), protocol=5)
        except Exception as error:
            if spec[0] == "map":
                key, where = index, f"while loading batch {index}"
            else:
                key, where = serve.key(index), f"while loading its batch {index} of the stream"
            payload = pickle.dumps((generation, key, False, _failure(worker_id, where, error)))
        results.put(payload)


def default_context():
    """``forkserver`` if MPI is initialised in this process, else the platform's default."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None:
        try:
            if mpi.Is_initialized() and not mpi.Is_finalized():
                return multiprocessing.get_context("forkserver")
        except Exception:
            pass
    return multiprocessing.get_context()


class WorkerPool:
    """``num_workers`` processes, their task queues and the shared result queue."""

    def __init__(self, loader, base_seed: int):
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = default_context()
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.num_workers = loader.num_workers
        self.results = ctx.Queue()
        self.tasks = []
        self.processes = []
        self.generation = 0
        for i in range(self.num_workers):
            tasks = ctx.Queue()
            args = (
                loader.dataset,
                loader._worker_spec(),
                i,
                self.num_workers,
                base_seed,
                loader.worker_init_fn,
                tasks,
                self.results,
            )
            process = ctx.Process(target=_worker_loop, args=args, daemon=True)
            try:
                process.start()
            except Exception as error:
                self.shutdown()
                raise RuntimeError(
                    f"DataLoader: could not start worker processes with the "
                    f"{ctx.get_start_method()!r} start method ({type(error).__name__}: {error}). "
                    "This method pickles the dataset and collate_fn: define them at module level "
                    "(no lambdas or local classes), or pass num_workers=0"
                ) from error
            self.tasks.append(tasks)
            self.processes.append(process)

    def send(self, b: int, indices, epoch_seed: int) -> None:
        self.tasks[b % self.num_workers].put((self.generation, b, indices, epoch_seed))

    def send_to(self, worker: int, index: int, work, epoch_seed: int) -> None:
        self.tasks[worker].put((self.generation, index, work, epoch_seed))

    def receive(self, timeout: float):
        """The next result ``(generation, batch, ok, item)``; raises when a worker died or
        ``timeout`` (seconds, 0 = none) passed."""
        start = time.monotonic()
        while True:
            wait = _POLL_SECONDS
            if timeout:
                wait = min(wait, max(timeout - (time.monotonic() - start), 0.001))
            try:
                return pickle.loads(self.results.get(timeout=wait))
            except queue.Empty:
                pass
            dead = [p for p in self.processes if p.exitcode not in (None, 0)]
            if dead:
                pids = ", ".join(str(p.pid) for p in dead)
                code = dead[0].exitcode
                signal_name = f" (signal {-code})" if code < 0 else ""
                raise RuntimeError(
                    f"DataLoader worker (pid(s) {pids}) exited unexpectedly with exit code "
                    f"{code}{signal_name}; it may have run out of memory or crashed in native "
                    "code. Try num_workers=0 to see the error in the main process"
                )
            if timeout and time.monotonic() - start >= timeout:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def alive(self) -> bool:
        return bool(self.processes) and all(p.is_alive() for p in self.processes)

    def shutdown(self) -> None:
        """Stop every worker (politely, then by force) and close the queues. Idempotent."""
        processes, self.processes = self.processes, []
        for tasks in self.tasks:
            try:
                tasks.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5.0
        for p in processes:
            p.join(timeout=max(deadline - time.monotonic(), 0.0))
        for p in processes:
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
        for q in self.tasks + [self.results]:
            q.cancel_join_thread()
            q.close()
        self.tasks = []


def reraise(failure: dict, epoch: int):
    """Raise a worker's exception in the main process, with the worker's traceback."""
    message = (
        f"Caught {failure['name']} {failure['where']} (epoch {epoch}).\n"
        f"Original {failure['traceback']}"
    )
    kind = failure["type"]
    if kind is not None and issubclass(kind, Exception):
        if issubclass(kind, KeyError):  # KeyError prints repr(message): keep the lines readable
            message = _PlainRepr(message)
        try:
            error = kind(message)
        except Exception:
            error = None
        if error is not None and error.args == (message,):
            raise error
    raise RuntimeError(message)


class _PlainRepr(str):
    def __repr__(self) -> str:
        return str(self)


class PoolIter:
    """What the iterators over a ``WorkerPool`` share (``MultiProcessIter`` here, and
    ``_worker_streams.StreamMultiProcessIter``): the loader, pool and epoch they serve, and how
    they stop the workers."""

    def __init__(self, loader, token, pool, epoch_seed, persistent: bool):
        self.loader = loader
        self.token = token
        self.pool = pool
        self.epoch_seed = epoch_seed
        self.epoch = loader._epoch
        self.persistent = persistent
        self.timeout = loader.timeout

    def close(self, error: bool = False) -> None:
        """Stop the workers, unless they persist (and nothing went wrong): a persistent pool
        serves the next epoch, which ignores what this one left in flight."""
        pool, self.pool = self.pool, None
        if pool is None or (self.persistent and not error):
            return
        pool.shutdown()
        if self.loader._pool is pool:
            self.loader._pool = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class MultiProcessIter(PoolIter):
    """One epoch's batches from a ``WorkerPool``, in order (see the module docstring)."""

    def __init__(self, loader, token, pool, slices, epoch_seed, start, persistent: bool):
        super().__init__(loader, token, pool, epoch_seed, persistent)
        self.slices = slices
        pool.generation += 1
        self.generation = pool.generation
        self.next_send = start
        self.next_yield = start
        self.ready = {}
        for _ in range(loader.prefetch_factor * pool.num_workers):
            self._send()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self.slices) - self.next_yield

    def _send(self) -> None:
        b = self.next_send
        if b < len(self.slices):
            self.pool.send(b, self.slices[b], self.epoch_seed)
            self.next_send += 1

    def __next__(self):
        if self.pool is None:
            raise StopIteration
        if self.next_yield >= len(self.slices):
            self.close()
            self.loader._finish(self.token)
            raise StopIteration
        try:
            while self.next_yield not in self.ready:
                generation, b, ok, item = self.pool.receive(self.timeout)
                if generation is None:  # worker_init_fn failed
                    reraise(item, self.epoch)
                if generation == self.generation:
                    self.ready[b] = (ok, item)
            ok, item = self.ready.pop(self.next_yield)
            if not ok:
                reraise(item, self.epoch)
        except BaseException:  # a worker error, Ctrl-C, a dead worker: stop them all
            self.close(error=True)
            raise
        self.next_yield += 1
        self._send()
        self.loader._advance(self.token, self.next_yield)
        return item
