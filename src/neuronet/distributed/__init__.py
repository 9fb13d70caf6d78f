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

import importlib

# Public name -> the module that defines it. Loaded on first use, so that the Trainer's
# ``from neuronet.distributed import training`` costs only what it needs.
_HOME = {
    "DistributedDataParallel": "ddp",
    "DistributedError": "errors",
    "DistributedTimeoutError": "errors",
    "DistributedSampler": "sampler",
    "SyncBatchNorm": "sync_batchnorm",
    **{
        name: "process_group"
        for name in (
            "ReduceOp",
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
        )
    },
}


def __getattr__(name):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'neuronet.distributed' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neuronet.distributed.{home}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_HOME))


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
