"""Worker processes for an ``IterableDataset``: every worker iterates its own copy, as in
PyTorch.

Worker ``w`` batches the samples of its own ``iter(dataset)`` (so the dataset shards itself
with ``get_worker_info()``, or every sample comes once per worker). The loader takes batches
from the workers in turn, worker 0, 1, ..., N-1, 0, ..., passing over a worker once its stream
has ended: the order PyTorch's loader gives. Each worker has at most ``prefetch_factor``
requests in flight.

The position within an epoch is how many batches each worker has handed out, which workers
have ended and whose turn is next (``DataLoader.state_dict()['worker_streams']``). Resuming
from it, each worker re-iterates its copy and pulls, without collating, the batches it had
handed out; so the resumed epoch continues exactly when the dataset's iteration is
deterministic (see ``neuronet.data._fetch.StreamBatches``).
"""

from __future__ import annotations

from neuronet.data._workers import PoolIter, StreamEnd, reraise


def start_position(num_workers: int) -> dict:
    """The position at the start of an epoch."""
    return {
        "num_workers": num_workers,
        "batches": [0] * num_workers,
        "done": [False] * num_workers,
        "next": 0,
    }


class StreamMultiProcessIter(PoolIter):
    """One epoch of an ``IterableDataset`` from a ``WorkerPool`` (see the module docstring)."""

    def __init__(self, loader, token, pool, epoch_seed, position, persistent: bool):
        super().__init__(loader, token, pool, epoch_seed, persistent)
        self.n = pool.num_workers
        position = position or start_position(self.n)
        self.counts = [int(c) for c in position["batches"]]
        self.done = [bool(d) for d in position["done"]]
        self.turn = int(position["next"])
        self.skip = list(self.counts)  # where each worker's pass resumes
        self.sent = list(self.counts)
        pool.generation += 1
        self.generation = pool.generation
        self.ready = {}
        for w in range(self.n):
            if not self.done[w]:
                for _ in range(loader.prefetch_factor):
                    self._send(w)

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self.loader) - sum(self.counts)

    def position(self) -> dict:
        return {
            "num_workers": self.n,
            "batches": list(self.counts),
            "done": list(self.done),
            "next": self.turn,
        }

    def _send(self, w: int) -> None:
        self.pool.send_to(w, self.sent[w], self.skip[w], self.epoch_seed)
        self.sent[w] += 1

    def _whose_turn(self):
        for k in range(self.n):
            w = (self.turn + k) % self.n
            if not self.done[w]:
                return w
        return None

    def _receive(self, w: int):
        key = self.counts[w] * self.n + w
        while key not in self.ready:
            generation, k, ok, item = self.pool.receive(self.timeout)
            if generation is None:  # worker_init_fn failed
                reraise(item, self.epoch)
            if generation == self.generation:
                self.ready[k] = (ok, item)
        ok, item = self.ready.pop(key)
        if not ok:
            reraise(item, self.epoch)
        return item

    def __next__(self):
        if self.pool is None:
            raise StopIteration
        try:
            while True:
                w = self._whose_turn()
                if w is None:
                    break
                item = self._receive(w)
                if not isinstance(item, StreamEnd):
                    break
                self.done[w] = True
                self.turn = (w + 1) % self.n
        except BaseException:  # a worker error, Ctrl-C, a dead worker: stop them all
            self.close(error=True)
            raise
        if w is None:
            self.close()
            self.loader._finish(self.token)
            raise StopIteration
        self.counts[w] += 1
        self.turn = (w + 1) % self.n
        self._send(w)
        self.loader._advance(self.token, sum(self.counts), self.position())
        return item
