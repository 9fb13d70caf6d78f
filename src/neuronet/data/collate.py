"""Collation: turning a list of samples into one batch.

``default_collate`` follows ``torch.utils.data.default_collate``: it stacks Tensors and NumPy
arrays along a new first dimension, turns numbers into 1-d tensors, and recurses into tuples,
lists and dicts, keeping their structure. ``fetch_batch`` is how the ``DataLoader`` gets a batch:
the dataset's own ``get_batch(indices)`` when it has one (already collated, vectorised), else
``default_collate`` of the samples one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neuronet.autograd.tensor import Tensor

__all__ = ["default_collate", "fetch_batch"]


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
