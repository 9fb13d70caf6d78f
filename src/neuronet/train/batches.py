"""Where the training loop gets its batches, and how it splits them into inputs and target.

``make_loader`` turns what the user passed into a ``DataLoader``: a Dataset gets one whose
shuffling is driven by the trainer's seeded generator; a DataLoader is used as it is; an
``IterableDataset`` is batched in the order it yields. ``batch_count`` is None for a stream
without ``__len__``. The loader's ``state_dict`` (epoch, batches consumed, generator states) is
what a checkpoint stores, so a resumed run sees exactly the batches the interrupted one had
left (a stream is iterated again and the consumed batches skipped).
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor


def make_loader(data, batch_size: int, shuffle: bool, generator):
    from neuronet.data import DataLoader, IterableDataset, TensorDataset

    if isinstance(data, DataLoader):
        loader = data
    elif isinstance(data, IterableDataset):  # a stream keeps its own order: no shuffling
        loader = DataLoader(data, batch_size=batch_size)
    elif isinstance(data, Tensor) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        if isinstance(data, Tensor):
            data = TensorDataset(data)
        loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
    else:
        raise TypeError(
            f"expected a Dataset, a DataLoader or a Tensor of inputs, got {type(data).__name__}; "
            "wrap arrays with neuronet.data.TensorDataset(x, y)"
        )
    return loader


def batch_count(loader):
    """The batches ``loader`` yields per epoch, or None for a stream of unknown length (an
    ``IterableDataset`` without ``__len__``: its epoch ends when the stream does)."""
    try:
        return len(loader)
    except TypeError:
        return None


def split_batch(batch, need_target: bool = True):
    """``(inputs, target)`` from a batch: ``(x, y)``, ``(x1, x2, ..., y)`` or ``x`` alone."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return batch[0], None
        if len(batch) == 2:
            return batch[0], batch[1]
        return tuple(batch[:-1]), batch[-1]
    if isinstance(batch, dict) and "input" in batch:
        return batch["input"], batch.get("target")
    if need_target:
        raise ValueError(
            "a training batch must be (inputs, target); got a single "
            f"{type(batch).__name__}. Use TensorDataset(x, y) so each item is a pair"
        )
    return batch, None
