"""The checks of ``DataLoader``'s arguments: PyTorch's, in its words where it has them, with
the likely fix added."""

from __future__ import annotations

import numpy as np


def check_batch_size(batch_size) -> None:
    if batch_size is None:
        return
    # ValueError for a wrong type too, as PyTorch raises (code that catches it works unchanged)
    is_int = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
    if not is_int or batch_size <= 0:
        raise ValueError(
            f"batch_size should be a positive integer value, but got batch_size={batch_size!r}"
            " (an int >= 1, or None for a dataset that yields whole batches)"
        )


def check_iterable_options(shuffle, sampler, batch_sampler) -> None:
    hint = "; an IterableDataset decides its own order (shuffle inside __iter__)"
    if shuffle not in (False, None):
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
            f"shuffle={shuffle}{hint}"
        )
    if sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified sampler option, but got "
            f"sampler={sampler}{hint}"
        )
    if batch_sampler is not None:
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
            f"got batch_sampler={batch_sampler}{hint}"
        )


def check_map_dataset(dataset) -> None:
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
        raise TypeError(
            f"DataLoader: dataset must have __len__ and __getitem__ (a Dataset or a "
            f"TensorDataset), got {type(dataset).__name__}; for a stream of samples subclass "
            "neuronet.data.IterableDataset"
        )


def check_sized(sampler, name: str) -> None:
    if sampler is not None and not hasattr(sampler, "__len__"):
        raise TypeError(
            f"DataLoader: the {name} ({type(sampler).__name__}) has no __len__. neuronet "
            f"iterates the {name} once at the start of each epoch (for deterministic loading "
            f"ahead and exact resume), so it must be finite with a __len__; for an endless "
            "stream of samples use an IterableDataset"
        )


def check_workers(num_workers, timeout, prefetch_factor, persistent_workers) -> None:
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


def check_context(context, worker_init_fn) -> None:
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
