"""Where random data transforms draw from: a per-batch generator inside a DataLoader.

A ``DataLoader`` draws one ``epoch_seed`` from its generator at the start of every epoch and,
while it loads batch ``b``, installs a generator seeded with ``(epoch_seed, b)`` for the thread
doing the loading. Random transforms given no ``generator=`` draw from it
(``batch_generator()``). So augmentation is a pure function of (loader seed, epoch, batch):
it is the same whether batches are prefetched in a background thread or not, it never races
with the model's own random ops (dropout) on the default generator, and an exact resume at
batch ``b`` needs no transform state. Outside a loader, ``batch_generator()`` is the default
generator.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from neuronet.random import Generator, default_generator

_LOCAL = threading.local()


class _LazyBatchGenerator:
    """Builds the per-batch Generator only when a transform asks for one."""

    __slots__ = ("seed", "generator")

    def __init__(self, seed: tuple[int, int]):
        self.seed = seed
        self.generator = None

    def get(self) -> Generator:
        if self.generator is None:
            self.generator = Generator(list(self.seed))
        return self.generator


@contextmanager
def batch_seed(epoch_seed: int, batch_index: int):
    """Within this block (and this thread) ``batch_generator()`` is seeded by the two ints."""
    previous = getattr(_LOCAL, "current", None)
    _LOCAL.current = _LazyBatchGenerator((int(epoch_seed), int(batch_index)))
    try:
        yield
    finally:
        _LOCAL.current = previous


def batch_generator() -> Generator:
    """The generator random data transforms use when given none.

    Inside a ``DataLoader`` fetch: a generator seeded by (epoch seed, batch index), private to the
    batch. Elsewhere: ``neuronet``'s default generator. Custom datasets that draw random numbers
    should use it too, to keep prefetching deterministic.
    """
    current = getattr(_LOCAL, "current", None)
    return default_generator if current is None else current.get()


def resolve_transform_generator(generator: Generator | None) -> Generator:
    """An explicit generator wins; otherwise the per-batch (or default) one."""
    return batch_generator() if generator is None else generator
