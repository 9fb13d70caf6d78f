"""The reducer: from gradient hooks to averaged gradients, overlapping backward.

Each parameter's post-accumulate hook (run by the engine as soon as that gradient is complete)
writes gradient / world_size into its bucket (one pass; PyTorch's default hook also divides
first). When a bucket is full, it is started -- buckets strictly in index order, so every rank
issues the same sequence of all-reduces -- as a sum over the bucket's own communicator while
backward carries on with earlier layers. When the last bucket has started, the reducer waits for
all of them, checks the tags (``buckets.py``), and gives every ``param.grad`` its average (copied
back, or as a view of the bucket with ``gradient_as_bucket_view``): by the time
``loss.backward()`` returns, every rank holds the same averaged gradients, ready for
``optimizer.step()``.

MPI moves data only while something drives its progress engine. Two strategies:

``progress="test"``  each hook call tests the oldest in-flight all-reduce (``MPI_Test``), so the
                     transfer advances between the gradients of backward;
``progress="thread"`` a communication thread runs each bucket's all-reduce (a blocking call
                     that releases the GIL) as it is handed over, fully in parallel; the last
                     bucket, which nothing can overlap, is reduced by the main thread itself
                     once the thread is done (no hand-over on the critical path).

``benchmarks/distributed.py`` measures which hides more; the default is the winner there.
"""

from __future__ import annotations

import collections
import queue
import threading
import time

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.distributed.errors import DistributedError
from neuronet.distributed.watchdog import Activity, Watch

PROGRESS = ("test", "thread")


def _ignore(param) -> None:
    """What a copied parameter calls instead of the reducer's hook."""


class _GradHook:
    """The post-accumulate hook on every synchronised parameter. A deep copy (or pickle) of a
    parameter -- of a model copied after training -- gets ``_ignore`` instead: the copy is not
    part of this reducer's buckets."""

    __slots__ = ("reducer",)

    def __init__(self, reducer):
        self.reducer = reducer

    def __call__(self, param) -> None:
        self.reducer._on_grad(param)

    def __deepcopy__(self, memo):
        return _ignore

    def __reduce__(self):
        return (_ignored, ())


def _ignored():
    return _ignore


class Reducer:
    """Averages the gradients of ``buckets`` over ``comm`` (see the module docstring)."""

    def __init__(
        self, buckets: list, comm, group, progress: str, timeout: float, as_view: bool = False
    ):
        if progress not in PROGRESS:
            raise ValueError(
                f"DistributedDataParallel: progress must be one of {PROGRESS}, got {progress!r}"
            )
        self.buckets = buckets
        self.comm = comm
        self.group = group
        self.MPI = group.MPI
        self.progress = progress
        self.timeout = timeout
        self.world = comm.Get_size()
        self.rank = comm.Get_rank()
        self.scale = 1.0 / self.world  # exact for 2, 4, 8, ... ranks
        self.as_view = as_view  # param.grad becomes a view of its bucket (no copy back)
        self.where = {}
        for b in buckets:
            for i, p in enumerate(b.params):
                self.where[id(p)] = (b, i)
        self.sync = True  # False inside DistributedDataParallel.no_sync()
        self.arrived: set = set()
        self.next_launch = 0
        self.step = 0
        self.forwards = 0  # grad-recording forward passes through the wrapper (for the tags)
        self.inflight: collections.deque = collections.deque()
        self.exposed_wait = 0.0  # seconds the last step waited after its last bucket started
        self.done_in_backward = 0  # buckets of the last step averaged before backward ended
        self._early = 0
        self._finishing = False
        self._thread = None
        self._queue = None
        hook = _GradHook(self)
        self._handles = [
            p.register_post_accumulate_grad_hook(hook) for b in buckets for p in b.params
        ]

    # ---- the step, as backward drives it -----------------------------------------------
    @property
    def in_step(self) -> bool:
        """Some gradient of the current step has arrived but the step is not finished."""
        return bool(self.arrived)

    def _on_grad(self, param) -> None:
        if not self.sync:
            return
        bucket, i = self.where[id(param)]
        if id(param) in self.arrived:
            raise DistributedError(
                f"DistributedDataParallel: parameter {bucket.names[i]!r} received its gradient "
                f"twice in step {self.step} on rank {self.rank} (backward called twice "
                "per forward?); sum the losses and call backward once, or use no_sync() for "
                "all but the last backward"
            )
        self.arrived.add(id(param))
        np.multiply(param.grad.array, self.scale, out=bucket.view(i))
        if bucket.track_used:
            bucket.buffer[bucket.used_start + i] = 1
        self._arrive(bucket)

    def mark_unused(self, param) -> None:
        """A parameter this forward did not use (find_unused_parameters): ready now, carrying
        the gradient it already has (from no_sync steps) or zeros."""
        bucket, i = self.where[id(param)]
        if id(param) in self.arrived:
            return
        self.arrived.add(id(param))
        if param.grad is None:
            bucket.view(i)[...] = 0
        else:
            np.multiply(param.grad.array, self.scale, out=bucket.view(i))
            bucket.buffer[bucket.used_start + i] = 1
        self._arrive(bucket)

    def _arrive(self, bucket) -> None:
        bucket.pending -= 1
        if bucket.pending == 0:
            while (
                self.next_launch < len(self.buckets) and self.buckets[self.next_launch].pending == 0
            ):
                self._start(self.buckets[self.next_launch])
                self.next_launch += 1
        if self.progress == "test":
            self._poll()
        if self.next_launch == len(self.buckets):
            self._finish()

    def missing(self) -> list[str]:
        """Names of the parameters whose gradient has not arrived in the current step."""
        return [
            b.names[i]
            for b in self.buckets
            for i, p in enumerate(b.params)
            if id(p) not in self.arrived
        ]

    # ---- communication ---------------------------------------------------------------------
    def _activity(self, bucket) -> Activity:
        seq = self.step * len(self.buckets) + bucket.index + 1
        return Activity("gradient bucket", seq, self.step, bucket.index, bucket.describe())

    def _start(self, bucket) -> None:
        bucket.tag(self.rank, self.step, self.forwards)
        if self.progress == "test":
            bucket.request = self.comm.Iallreduce(self.MPI.IN_PLACE, bucket.buffer, op=self.MPI.SUM)
            self.inflight.append(bucket)
            return
        if bucket.index == len(self.buckets) - 1:
            return  # the last bucket: nothing left to overlap with; _finish reduces it directly
        if self._thread is None:
            self._start_thread()
        bucket.request = threading.Event()
        bucket.error = None
        self._queue.put((bucket, self.step))

    def _poll(self) -> None:
        while self.inflight and self.inflight[0].request.Test():
            self._complete(self.inflight.popleft(), self.step)

    def _complete(self, bucket, step: int) -> None:
        """The sum (of gradients already divided by the world size) has arrived: check the tags,
        and give every parameter its average -- as a view of the bucket, or copied back."""
        bucket.check_tags(self.rank, step, self.forwards)
        if not self._finishing:
            self._early += 1
        for i, p in enumerate(bucket.params):
            if bucket.track_used and bucket.buffer[bucket.used_start + i] == 0:
                continue  # unused on every rank: grad stays as it is (None), as in PyTorch
            average = bucket.view(i)
            g = p.grad
            if self.as_view:
                p.grad = Tensor(average)
            elif g is not None and g.array.shape == average.shape and g.array.flags.writeable:
                np.copyto(g.array, average)
            else:
                p.grad = Tensor(average.copy())

    def _finish(self) -> None:
        """Every bucket has started: wait for the rest, then reset for the next step."""
        start = time.perf_counter()
        self._finishing = True
        if self.progress == "test":
            while self.inflight:
                bucket = self.inflight[0]
                watch = Watch(self.group, self._activity(bucket), self.timeout)
                while not bucket.request.Test():
                    watch.tick()
                self._complete(self.inflight.popleft(), self.step)
        else:
            for bucket in self.buckets[:-1]:
                watch = Watch(self.group, self._activity(bucket), self.timeout)
                while not bucket.request.wait(0.002):
                    watch.tick()
                if bucket.error is not None:
                    raise bucket.error
            # The thread is done with the communicator: the last bucket, from here.
            last = self.buckets[-1]
            last.request = self.comm.Iallreduce(self.MPI.IN_PLACE, last.buffer, op=self.MPI.SUM)
            watch = Watch(self.group, self._activity(last), self.timeout)
            while not last.request.Test():
                watch.tick()
            self._complete(last, self.step)
        self.exposed_wait = time.perf_counter() - start
        self.done_in_backward = self._early
        self._early = 0
        self._finishing = False
        for bucket in self.buckets:
            bucket.reset()
        self.arrived.clear()
        self.next_launch = 0
        self.step += 1

    # ---- the communication thread -------------------------------------------------------------
    def _start_thread(self) -> None:
        MPI = self.MPI
        if MPI.Query_thread() < MPI.THREAD_MULTIPLE:
            raise DistributedError(
                "DistributedDataParallel(progress='thread') needs MPI_THREAD_MULTIPLE, but this "
                "MPI provides less; use progress='test'"
            )
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._communicate, name="neuronet-ddp-allreduce", daemon=True
        )
        self._thread.start()

    def _communicate(self) -> None:
        MPI = self.MPI
        while True:
            item = self._queue.get()
            if item is None:
                return
            bucket, step = item
            try:
                self.comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
                self._complete(bucket, step)
            except BaseException as error:  # re-raised by the main thread in _finish
                bucket.error = error
            bucket.request.set()

    def close(self) -> None:
        """Remove the hooks and stop the communication thread."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None
