"""What the doctor is given, in one shape: the data as rows it can sample, the loss as a callable
with a known kind, and the task (classification, binary, regression) they imply.

``data`` may be a Dataset (``get_batch`` is used when it has one), a DataLoader (its dataset and
batch size), or a pair ``(inputs, targets)`` of arrays or tensors. Batches are drawn with the
doctor's own ``Generator(seed)``, never the global one.

Data that cannot be indexed by row is read as a stream, up to ``MAX_STREAM_ROWS`` rows, into
arrays: an ``IterableDataset`` (alone or in a DataLoader, batched as the loader batches it) and
a DataLoader with ``batch_size=None`` whose dataset returns whole batches. The stream is read
through a loader of the doctor's own, with the global RNG state saved and restored around it,
so the user's loader and random state are left as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.random import Generator

LOSS_NAMES = {
    "cross_entropy": "cross_entropy",
    "ce": "cross_entropy",
    "nll": "nll",
    "nll_loss": "nll",
    "mse": "regression",
    "l2": "regression",
    "mse_loss": "regression",
    "l1": "regression",
    "mae": "regression",
    "l1_loss": "regression",
    "huber": "regression",
    "huber_loss": "regression",
    "smooth_l1": "regression",
    "smooth_l1_loss": "regression",
    "bce": "bce",
    "binary_cross_entropy": "bce",
    "bce_with_logits": "bce_logits",
    "binary_cross_entropy_with_logits": "bce_logits",
    "sequence_loss": "cross_entropy",
}
_MODULE_KINDS = {
    "CrossEntropyLoss": "cross_entropy",
    "NLLLoss": "nll",
    "MSELoss": "regression",
    "L1Loss": "regression",
    "HuberLoss": "regression",
    "SmoothL1Loss": "regression",
    "BCELoss": "bce",
    "BCEWithLogitsLoss": "bce_logits",
}


@dataclass
class Loss:
    """A loss callable ``fn(output, target)`` and its kind: 'cross_entropy', 'nll', 'bce',
    'bce_logits', 'regression' or 'custom'."""

    fn: object
    kind: str
    name: str


def check_model_and_optimizer(owner: str, model, optimizer) -> None:
    """TypeError unless ``model`` is an ``nn.Module`` and ``optimizer`` an optimizer or None."""
    from neuronet.nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"{owner}: model must be an nn.Module, got {type(model).__name__}")
    if optimizer is not None and not hasattr(optimizer, "param_groups"):
        raise TypeError(
            f"{owner}: optimizer must be a neuronet.optim optimizer (or None), got "
            f"{type(optimizer).__name__}"
        )


def resolve_loss(loss) -> Loss:
    """The user's loss (a name, a module or a function) as a ``Loss``."""
    from neuronet.train.losses import resolve_loss as by_name

    if isinstance(loss, str):
        fn = by_name(loss)
        return Loss(fn, LOSS_NAMES.get(loss, LOSS_NAMES.get(fn.__name__, "custom")), loss)
    if not callable(loss):
        raise TypeError(
            f"doctor: loss must be a name ('cross_entropy', 'mse', ...), a loss module or a "
            f"function loss(output, target); got {type(loss).__name__}"
        )
    type_name = type(loss).__name__
    if type_name in _MODULE_KINDS:
        return Loss(loss, _MODULE_KINDS[type_name], type_name)
    name = getattr(loss, "__name__", type_name)
    return Loss(loss, LOSS_NAMES.get(name, "custom"), name)


def _array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _split(batch) -> tuple:
    """(tuple of input arrays, target array or None) from a batch or sample."""
    if isinstance(batch, dict) and "input" in batch:
        return (_array(batch["input"]),), (
            _array(batch["target"]) if batch.get("target") is not None else None
        )
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return (_array(batch[0]),), None
        return tuple(_array(b) for b in batch[:-1]), _array(batch[-1])
    return (_array(batch),), None


MAX_STREAM_ROWS = 20_000  # rows read from a stream that cannot be indexed


def _is_stream(data) -> bool:
    from neuronet.data import DataLoader, IterableDataset

    if isinstance(data, IterableDataset):
        return True
    if isinstance(data, DataLoader):
        return isinstance(data.dataset, IterableDataset) or (
            data.batch_size is None and data.batch_sampler is None
        )
    return False


def _read_stream(data, batch_size: int, what: str) -> tuple:
    """(inputs tuple, targets) arrays of the first ``MAX_STREAM_ROWS`` rows of a stream."""
    from neuronet.data import DataLoader, IterableDataset
    from neuronet.random import get_rng_state, set_rng_state

    if isinstance(data, DataLoader):
        dataset, collate, size = data.dataset, data.collate_fn, data.batch_size
    else:
        dataset, collate, size = data, None, batch_size
    if not isinstance(dataset, IterableDataset):
        size = None  # a map-style dataset whose items are whole batches (batch_size=None)
    loader = DataLoader(dataset, batch_size=size, collate_fn=collate, generator=Generator(0))
    state = get_rng_state()
    xs_parts, y_parts, n = [], [], 0
    try:
        for batch in loader:
            xs, y = _split(batch)
            if y is not None and y.ndim == 0:  # items are single samples, not batches
                xs, y = tuple(x[None] for x in xs), y[None]
            xs_parts.append(xs)
            y_parts.append(y)
            n += len(xs[0])
            if n >= MAX_STREAM_ROWS:
                break
    finally:
        set_rng_state(state)
    if n == 0:
        raise ValueError(f"doctor: {what} is empty (its stream yielded no rows)")
    xs = tuple(np.concatenate([part[i] for part in xs_parts]) for i in range(len(xs_parts[0])))
    if any(y is None for y in y_parts):
        raise ValueError(
            f"doctor: {what} yields inputs without targets; give batches or samples as "
            "(inputs, targets)"
        )
    return xs, np.concatenate(y_parts)


class Rows:
    """The user's data as indexable rows: ``get(indices) -> (inputs tuple, target)`` arrays.

    Attributes:
        n: the number of samples.
        batch_size: the batch size to use (the DataLoader's, or its batch sampler's, when one
            was given).
        streamed: True when the rows were read from a stream (module docstring); "its first"
            when the stream was longer than ``MAX_STREAM_ROWS``.
    """

    def __init__(self, data, batch_size: int, what: str = "data"):
        from neuronet.data import DataLoader

        self.what = what
        self.batch_size = int(batch_size)
        self._dataset = None
        self._arrays = None
        self.streamed = False
        if _is_stream(data):
            size = data.batch_size if isinstance(data, DataLoader) else None
            xs, y = _read_stream(data, size or self.batch_size, what)
            self.streamed = "its first" if len(y) >= MAX_STREAM_ROWS else True
            self.batch_size = size or self.batch_size
            data = (*xs, y)
        elif isinstance(data, DataLoader):
            sampler = data.batch_sampler
            self.batch_size = data.batch_size or getattr(sampler, "batch_size", self.batch_size)
            data = data.dataset
        if isinstance(data, (tuple, list)) and len(data) == 2 and not hasattr(data, "__getitem__"):
            data = tuple(data)
        if (
            isinstance(data, tuple)
            and len(data) >= 2
            and all(isinstance(d, (np.ndarray, Tensor)) or hasattr(d, "__array__") for d in data)
        ):
            arrays = [_array(d) for d in data]
            n = len(arrays[0])
            for a in arrays[1:]:
                if len(a) != n:
                    raise ValueError(
                        f"doctor: {what} inputs have {n} rows but targets have {len(a)}; give "
                        "(inputs, targets) with one target per input row"
                    )
            self._arrays = (tuple(arrays[:-1]), arrays[-1])
            self.n = n
        elif hasattr(data, "__getitem__") and hasattr(data, "__len__"):
            self._dataset = data
            self.n = len(data)
        else:
            raise TypeError(
                f"doctor: {what} must be a Dataset, a DataLoader or a pair (inputs, targets) "
                f"of arrays or tensors; got {type(data).__name__}"
            )
        if self.n == 0:
            raise ValueError(f"doctor: {what} is empty")

    def get(self, indices) -> tuple:
        """(tuple of input arrays, target array or None) for the given row indices."""
        indices = np.asarray(indices, dtype=np.int64)
        if self._arrays is not None:
            xs, y = self._arrays
            return tuple(x[indices] for x in xs), y[indices]
        ds = self._dataset
        if hasattr(ds, "get_batch"):
            return _split(ds.get_batch(indices))
        from neuronet.data import default_collate

        return _split(default_collate([ds[int(i)] for i in indices]))

    def sample(self, count: int, generator: Generator) -> tuple:
        """``count`` rows drawn without replacement (all rows, in a random order, if fewer)."""
        order = generator.permutation(self.n)[: min(count, self.n)]
        return self.get(np.sort(order))

    def batches(self, generator: Generator, batch_size: int | None = None, indices=None):
        """Endless shuffled batches as ``(inputs tuple of Tensors, target Tensor)``."""
        size = batch_size or self.batch_size
        pool = np.arange(self.n) if indices is None else np.asarray(indices)
        size = max(1, min(size, len(pool)))
        while True:
            order = pool[generator.permutation(len(pool))]
            for start in range(0, len(order) - size + 1, size):
                yield as_tensors(self.get(order[start : start + size]))


def as_tensors(batch) -> tuple:
    xs, y = batch
    return tuple(Tensor(x) for x in xs), (None if y is None else Tensor(y))


@dataclass
class Task:
    """What the outputs and targets mean: kind ('classification', 'binary', 'regression' or
    'unknown'), the number of classes, and the class axis of the output."""

    kind: str
    num_classes: int | None = None
    class_axis: int = 1


def infer_task(loss: Loss, output: np.ndarray, target: np.ndarray | None) -> Task:
    """The task implied by the loss, the model's output and the targets."""
    if target is None:
        return Task("unknown")
    integer = target.dtype.kind in "iub"
    if loss.kind in ("cross_entropy", "nll") or (
        loss.kind == "custom" and integer and output.ndim == target.ndim + 1
    ):
        if output.ndim == target.ndim + 1:
            # (N, C) with (N,), (N, C, d1..) with (N, d1..), or (N, T, V) with (N, T)
            if output.shape[:1] + output.shape[2:] == target.shape:
                return Task("classification", int(output.shape[1]), 1)
            if output.shape[:-1] == target.shape:
                return Task("classification", int(output.shape[-1]), output.ndim - 1)
        if output.ndim >= 2:
            return Task("classification", int(output.shape[1]), 1)
        return Task("classification", None, 1)
    if loss.kind in ("bce", "bce_logits"):
        return Task("binary", 2)
    if loss.kind == "regression":
        return Task("regression")
    if not integer and output.shape == target.shape:
        return Task("regression")
    return Task("unknown")
