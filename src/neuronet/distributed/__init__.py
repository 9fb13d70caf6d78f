"""Data-parallel training over MPI: one process (rank) per core or machine, the same model on
each, each rank on its own share of the data, gradients averaged during backward.

    # train.py -- run with:  mpiexec -n 4 python train.py
    import neuronet.distributed as dist
    dist.init()
    model = dist.DistributedDataParallel(make_model())
    sampler = dist.DistributedSampler(train_set, seed=0)
    loader = DataLoader(train_set, batch_size=32, sampler=sampler)

The ``Trainer`` does all of this by itself when it runs under ``mpiexec``, and
``neuronet train --nproc N`` launches it. Layout: ``process_group.py`` (init, rank, world_size,
barrier, broadcast, all_reduce), ``ddp.py`` (DistributedDataParallel), ``buckets.py`` and
``reducer.py`` (gradient buckets overlapped with backward), ``watchdog.py`` (stall errors that
name the rank), ``sampler.py``, ``sync_batchnorm.py``, ``training.py`` (what the Trainer
asks), ``launch.py`` (``--nproc``). See docs/distributed.md.

Importing this package does not import mpi4py; ``init()`` does.
"""

from __future__ import annotations

from neuronet.distributed.ddp import DistributedDataParallel
from neuronet.distributed.errors import DistributedError, DistributedTimeoutError
from neuronet.distributed.process_group import (
    ReduceOp,
    all_reduce,
    barrier,
    broadcast,
    broadcast_parameters,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_initialized,
    is_main_process,
    launched_world_size,
    rank,
    world_size,
)
from neuronet.distributed.sampler import DistributedSampler
from neuronet.distributed.sync_batchnorm import SyncBatchNorm

__all__ = [
    "DistributedDataParallel",
    "DistributedError",
    "DistributedSampler",
    "DistributedTimeoutError",
    "ReduceOp",
    "SyncBatchNorm",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_parameters",
    "get_rank",
    "get_world_size",
    "init",
    "init_process_group",
    "is_initialized",
    "is_main_process",
    "launched_world_size",
    "rank",
    "world_size",
]
