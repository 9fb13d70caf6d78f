"""DistributedSampler: each rank's share of a dataset, a new shuffle every epoch."""

from __future__ import annotations

import math

import numpy as np

from neuronet.data.samplers import Sampler
from neuronet.random import Generator


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that this rank loads, for ``DataLoader(sampler=...)``.

    Every epoch all ranks draw the same order (a permutation seeded by ``seed + epoch`` when
    ``shuffle``), pad it by repeating its start until it divides evenly (or, with
    ``drop_last``, cut the tail), and rank r takes every ``num_replicas``-th index starting at r.
    So the ranks see disjoint shares of equal length -- equal numbers of batches, which
    data-parallel training needs -- and together one pass over the data.

    Args:
        dataset: anything with ``__len__``.
        num_replicas: the number of ranks (default ``distributed.world_size()``).
        rank: this rank (default ``distributed.rank()``).
        shuffle: draw a new order every epoch (default True).
        seed: the shuffle's seed; must be the same on every rank (default 0).
        drop_last: drop the tail instead of padding (default False).

    Call ``set_epoch(epoch)`` at the start of every epoch, before iterating the loader: without
    it every epoch repeats the same order (the Trainer does this for you).

    Note:
        The partition rule and padding are PyTorch's; the shuffled order itself comes from
        neuronet's generator, so it differs from ``torch.randperm``'s.

    Example:
        >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
        >>> list(s), len(s)
        ([1, 4, 7, 0], 4)
    """

    def __init__(
        self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False
    ):
        from neuronet.distributed import process_group as pg

        if num_replicas is None:
            num_replicas = pg.world_size()
        if rank is None:
            rank = pg.rank()
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(
                f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}"
            )
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        if self.num_samples == 0:
            raise ValueError(
                f"DistributedSampler: a dataset of {n} samples leaves rank {rank} nothing with "
                f"{num_replicas} ranks and drop_last=True; use fewer ranks or drop_last=False"
            )

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = Generator(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if self.drop_last:
            indices = indices[: self.total_size]
        elif self.total_size > n:
            repeats = math.ceil(self.total_size / n)
            indices = np.concatenate([indices] * repeats)[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch``'s order from now on (call at the start of every epoch)."""
        self.epoch = int(epoch)

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(num_replicas={self.num_replicas}, rank={self.rank}, "
            f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last})"
        )
