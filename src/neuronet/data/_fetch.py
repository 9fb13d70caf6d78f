"""Loading one epoch in this process: where the batches come from, and the two iterators that
hand them out (in the calling thread, or loaded ahead by a background thread).

A *source* yields ``(b, batch)`` for the epoch's batches ``start, start+1, ...`` and knows the
index ``next_index`` of the batch it would load next:

- ``MapBatches``: batch ``b`` of a map-style dataset is ``fetch(work[b])`` (an index array,
  or one index without automatic batching), loaded under ``batch_seed(epoch_seed, b)``.
- ``StreamBatches``: consecutive samples of one ``iter(dataset)`` of an ``IterableDataset``,
  ``batch_size`` at a time (or one by one), the samples of batch ``j`` pulled under
  ``batch_seed(epoch_seed, j * stride + offset)``. Resuming at batch ``start`` re-iterates the
  dataset and pulls (but does not collate) the samples of the batches before it.

So random transforms and datasets that draw from ``batch_generator()`` give the same batches
whether they are loaded here, in a background thread or in a worker process.
"""

from __future__ import annotations

import itertools
import queue
import threading

from neuronet.data._rng import batch_seed

_QUEUE_SIZE = 2  # batches ready ahead of the consumer
_STREAM_END = object()


class MapBatches:
    """Batches ``start..`` of a map-style epoch; a failed batch is retried by the next call."""

    def __init__(self, fetch, work: list, epoch_seed: int, start: int):
        self.fetch = fetch
        self.work = work
        self.epoch_seed = epoch_seed
        self.next_index = start

    def __iter__(self):
        return self

    def __next__(self):
        b = self.next_index
        if b >= len(self.work):
            raise StopIteration
        with batch_seed(self.epoch_seed, b):
            batch = self.fetch(self.work[b])
        self.next_index = b + 1
        return b, batch

    def remaining(self) -> int:
        return len(self.work) - self.next_index


class StreamBatches:
    """Batches ``start..`` of one pass over an iterable dataset (see the module docstring).

    Args:
        dataset: the ``IterableDataset`` (``iter()`` is called once, under batch 0's seed).
        batch_size: samples per batch, or None for one converted sample per "batch".
        drop_last: drop a last batch shorter than ``batch_size``.
        collate: applied to the list of samples (or to the one sample when ``batch_size`` is
            None).
        total: the number of batches when known (for ``len``), else None.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        drop_last,
        collate,
        epoch_seed,
        start=0,
        stride=1,
        offset=0,
        total=None,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.collate = collate
        self.epoch_seed = epoch_seed
        self.stride = stride
        self.offset = offset
        self.total = total
        self.skip = start
        self.next_index = 0
        self.samples = None
        self.ended = False

    def __iter__(self):
        return self

    def _pull(self):
        """The samples of the next batch (one sample if ``batch_size`` is None), or
        ``_STREAM_END``."""
        if self.samples is None:
            self.samples = iter(self.dataset)
        if self.batch_size is None:
            return next(self.samples, _STREAM_END)
        items = list(itertools.islice(self.samples, self.batch_size))
        if not items or (self.drop_last and len(items) < self.batch_size):
            return _STREAM_END
        return items

    def __next__(self):
        while not self.ended:
            j = self.next_index
            with batch_seed(self.epoch_seed, j * self.stride + self.offset):
                try:
                    items = self._pull()
                except BaseException:
                    self.ended = True  # the dataset's iterator is finished after an error
                    raise
                if items is _STREAM_END:
                    self.ended = True
                    break
                self.next_index = j + 1
                if j < self.skip:
                    continue  # consumed before the resume: pulled, not collated
                return j, self.collate(items)
        raise StopIteration

    def remaining(self) -> int:
        if self.total is None:
            raise TypeError(
                f"object of type '{type(self.dataset).__name__}' has no len(); the DataLoader "
                "over this IterableDataset cannot count its batches"
            )
        return max(self.total - max(self.next_index, self.skip), 0)


class SyncIter:
    """Loads each batch when asked, in the caller's thread."""

    def __init__(self, loader, token, source):
        self.loader = loader
        self.token = token
        self.source = source

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return self.source.remaining()

    def __next__(self):
        try:
            b, batch = next(self.source)
        except StopIteration:
            self.loader._finish(self.token)
            raise
        self.loader._advance(self.token, b + 1)
        return batch


class _Failure:
    def __init__(self, error: BaseException, index: int):
        self.error = error
        self.index = index


_END = object()


def _worker(source, out: queue.Queue, stop: threading.Event):
    """Put the source's batches in order into ``out``; stop early when ``stop`` is set."""
    while not stop.is_set():
        try:
            item = next(source)
        except StopIteration:
            break
        except BaseException as error:  # re-raised in the consumer (SystemExit included)
            item = _Failure(error, source.next_index)
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


class PrefetchIter:
    """Consumes batches that a background thread loads ahead (a bounded queue)."""

    def __init__(self, loader, token, source):
        self.loader = loader
        self.token = token
        try:
            self.remaining = source.remaining()
        except TypeError:
            self.remaining = None
        self.dataset_name = type(loader.dataset).__name__
        self.epoch = loader._epoch
        self.queue = queue.Queue(maxsize=_QUEUE_SIZE)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=_worker,
            args=(source, self.queue, self.stop),
            name="neuronet-data-prefetch",
            daemon=True,
        )
        self.thread.start()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        if self.remaining is None:
            raise TypeError(f"object of type '{self.dataset_name}' has no len()")
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
        if self.remaining is not None:
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
