"""Collation: turning a list of samples into one batch.

``default_collate`` follows ``torch.utils.data.default_collate``: it stacks Tensors and NumPy
arrays along a new first dimension, turns numbers into 1-d tensors, and recurses into tuples,
lists and dicts, keeping their structure. ``default_convert`` is what
``DataLoader(batch_size=None)`` applies to each sample instead: arrays become tensors, nothing
is stacked. ``fetch_batch`` is
how the ``DataLoader`` gets a batch: the dataset's own ``get_batch(indices)`` when it has one
(already collated, vectorised), else ``default_collate`` of the samples one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neuronet.autograd.tensor import Tensor

__all__ = ["default_collate", "default_convert", "fetch_batch"]


def _stack(arrays: list, where: str) -> Tensor:
    first = arrays[0].shape
    for a in arrays:
        if a.shape != first:
            raise RuntimeError(
                f"default_collate: samples have different shapes {first} and {a.shape}{where}; "
                "make every sample the same shape (crop or pad) or pass a collate_fn"
            )
    return Tensor(np.stack(arrays))


def default_collate(batch: list, _where: str = ""):
    """Collate a list of samples into a batch.

    Rules (PyTorch's, with the differences noted):
        Tensor / ndarray  -> stacked Tensor of shape (B, *sample_shape), dtype kept
        NumPy scalar      -> 1-d Tensor of that dtype
        bool / int        -> 1-d bool / int64 Tensor
        float             -> 1-d float32 Tensor (note: PyTorch makes float64; neuronet keeps
                             float32 so targets match float32 models)
        str / bytes       -> the list unchanged
        dict              -> dict of collated values, same keys
        tuple / list      -> tuple / list of collated fields (PyTorch returns a list for both)

    Example:
        >>> import numpy as np
        >>> x, y = default_collate([(np.zeros(3, np.float32), 1), (np.ones(3, np.float32), 0)])
        >>> x.shape, y.tolist()
        ((2, 3), [1, 0])
    """
    if not batch:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([_field(s, Tensor, _where).array for s in batch], _where)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(
                f"default_collate: cannot batch arrays of dtype {elem.dtype}{_where}; give numeric "
                "arrays or pass a collate_fn"
            )
        return _stack([np.asarray(_field(s, np.ndarray, _where)) for s in batch], _where)
    if isinstance(elem, np.generic):
        return Tensor(np.array(batch))
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        keys = list(elem.keys())
        for s in batch:
            if not isinstance(s, Mapping) or list(s.keys()) != keys:
                raise RuntimeError(
                    f"default_collate: every dict sample needs the keys {keys}{_where}"
                )
        return {k: default_collate([s[k] for s in batch], f"{_where} in key {k!r}") for k in keys}
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(not isinstance(s, Sequence) or len(s) != size for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [
            default_collate([s[i] for s in batch], f"{_where} in field {i}") for i in range(size)
        ]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: batch must contain Tensors, NumPy arrays, numbers, strings, dicts or "
        f"lists; found {type(elem).__name__}{_where}. Pass a collate_fn for other types"
    )


def _field(value, kind, where: str):
    if not isinstance(value, kind):
        raise TypeError(
            f"default_collate: mixed types in one field{where}: {kind.__name__} and "
            f"{type(value).__name__}"
        )
    return value


def fetch_batch(dataset, indices: np.ndarray):
    """The batch at ``indices``: ``dataset.get_batch`` if defined, else collated samples."""
    get_batch = getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return get_batch(indices)
    return default_collate([dataset[i] for i in np.asarray(indices).tolist()])


def default_convert(data):
    """Convert one sample without batching it: what ``DataLoader(batch_size=None)`` does.

    Rules (``torch.utils.data.default_convert``'s, with the difference noted):
        NumPy array (numbers)  -> Tensor sharing its memory (no batch dimension added)
        NumPy scalar           -> 0-d Tensor
        Tensor, Python number, string, array of strings/objects -> unchanged
        dict / namedtuple / list -> the same kind with converted values
        tuple                  -> tuple of converted values (PyTorch returns a list)

    Example:
        >>> import numpy as np
        >>> x, y = default_convert((np.zeros(3, np.float32), 1))
        >>> type(x).__name__, x.shape, y
        ('Tensor', (3,), 1)
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OUSV" else Tensor(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in "OUSV" else Tensor(np.asarray(data))
    if isinstance(data, Mapping):
        converted = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(converted)
        except TypeError:  # a Mapping whose constructor takes something else
            return converted
    if isinstance(data, tuple):
        fields = [default_convert(d) for d in data]
        return type(data)(*fields) if hasattr(data, "_fields") else tuple(fields)
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        fields = [default_convert(d) for d in data]
        try:
            return type(data)(fields)
        except TypeError:
            return fields
    return data


def make_fetch(dataset, collate_fn, auto_collation: bool = True):
    """How the loader turns one work item into what it hands out.

    With automatic batching the item is an index array: ``fetch_batch`` (the ``get_batch``
    fast path) unless a ``collate_fn`` is given, then ``collate_fn([dataset[i], ...])``.
    Without (``batch_size=None``) the item is one index: ``collate_fn(dataset[i])``, with
    ``default_convert`` as the default ``collate_fn``, as in PyTorch.
    """
    if not auto_collation:
        convert = default_convert if collate_fn is None else collate_fn
        return lambda index: convert(dataset[int(index)])
    if collate_fn is None:
        return lambda idx: fetch_batch(dataset, idx)
    return lambda idx: collate_fn([dataset[i] for i in np.asarray(idx).tolist()])


def collate_for(collate_fn, batch_size):
    """The function applied to the samples of an ``IterableDataset`` batch (a list of
    ``batch_size`` samples), or to each sample alone when ``batch_size`` is None: the given
    ``collate_fn``, else ``default_collate`` or ``default_convert``."""
    if collate_fn is not None:
        return collate_fn
    return default_convert if batch_size is None else default_collate
