"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Each finds its indices with NumPy and reads the values with ``gather``, so the gradient of a
value goes to the element it came from (PyTorch's rule for value-selecting reductions), and
the indices are int64 with no gradient. Ties keep the original order (a stable sort), NaN sorts
as the largest value, as PyTorch. Exceptions, also PyTorch's:
- ``median(input)`` without dim returns the lower of the two middle values and splits its
  gradient evenly among the elements equal to it;
- ``mode`` returns the smallest of the most frequent values and the last index where it occurs.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.indexing import gather
from neuronet.ops.reduction import Amax
from neuronet.ops.shape import reshape, squeeze

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def _order(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable sorting indices along ``axis``; NaN counts as the largest value."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flipped = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - flipped, axis)  # reversed: descending, ties in original order


def _select(input: Tensor, axis: int, index: np.ndarray) -> tuple:
    index = index.astype(np.int64)
    return gather(input, axis, index), Tensor(index)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along ``dim``; ties keep their order (always stable)."""
    _check(input, "sort")
    if input.ndim == 0:
        normalize_dims(dim, 0, "sort")
        value = reshape(gather(reshape(input, 1), 0, np.zeros(1, np.int64)), ())
        return sort_result(value, Tensor(np.zeros((), np.int64)))
    (axis,) = normalize_dims(dim, input.ndim, "sort")
    return sort_result(*_select(input, axis, _order(input.array, axis, descending)))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (int64)."""
    return sort(input, dim, descending, stable).indices


def msort(input: Tensor) -> Tensor:
    """input sorted along dim 0."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """(values, indices) of the k largest (or smallest) elements along ``dim``."""
    _check(input, "topk")
    x = input.array if input.ndim else input.array.reshape(1)
    (axis,) = normalize_dims(dim, x.ndim, "topk") if input.ndim else (0,)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"topk: k ({k}) must be in [0, {x.shape[axis]}] (the size of dim {dim})")
    index = np.take(_order(x, axis, largest), np.arange(k), axis=axis)
    source = input if input.ndim else reshape(input, 1)
    values, indices = _select(source, axis, index)
    if input.ndim == 0:
        return topk_result(reshape(values, ()), Tensor(indices.array.reshape(())))
    return topk_result(values, indices)


def _pick(input: Tensor, dim, keepdim: bool, op: str, choose) -> tuple:
    """(values, indices) of the element ``choose(sorted order, x, axis)`` picks in each slice."""
    _check(input, op)
    if input.ndim == 0:
        normalize_dims(dim, 0, op)
        values, _ = _select(reshape(input, 1), 0, np.zeros(1, np.int64))
        return reshape(values, ()), Tensor(np.zeros((), np.int64))
    (axis,) = normalize_dims(dim, input.ndim, op)
    x = input.array
    if x.shape[axis] == 0:
        raise IndexError(f"{op}(): cannot pick from an empty dim {dim} (shape {x.shape})")
    index = np.expand_dims(choose(x, axis), axis)
    values, indices = _select(input, axis, index)
    if not keepdim:
        values = squeeze(values, axis)
        indices = Tensor(np.squeeze(indices.array, axis))
    return values, indices


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest element (k counts from 1) along ``dim``."""

    def choose(x, axis):
        if not 1 <= k <= x.shape[axis]:
            raise ValueError(f"kthvalue: k ({k}) must be in [1, {x.shape[axis]}]")
        return np.take(_order(x, axis, False), k - 1, axis=axis)

    return kthvalue_result(*_pick(input, dim, keepdim, "kthvalue", choose))


def _lower_middle(x: np.ndarray, axis: int, ignore_nan: bool) -> np.ndarray:
    """Index (along axis) of the lower middle element; NaN sorts last. Without ignore_nan a
    slice with a NaN picks its first NaN (its median is NaN)."""
    order = _order(x, axis, False)
    n = x.shape[axis]
    nans = np.sum(np.isnan(x), axis=axis, keepdims=True)
    if ignore_nan:
        middle = np.maximum(n - nans - 1, 0) // 2
    else:
        middle = np.where(nans > 0, n - nans, (n - 1) // 2)
    return np.squeeze(np.take_along_axis(order, middle, axis=axis), axis)


def _median(input: Tensor, dim, keepdim: bool, op: str, ignore_nan: bool):
    if dim is not None:
        choose = lambda x, axis: _lower_middle(x, axis, ignore_nan)  # noqa: E731
        return median_result(*_pick(input, dim, keepdim, op, choose))
    _check(input, op)
    flat = input.array.reshape(-1)
    if flat.size == 0:
        return Tensor(np.asarray(np.nan, dtype=input.dtype))
    middle = flat[_lower_middle(flat, 0, ignore_nan)]
    if np.isnan(middle):  # the NaNs share the gradient
        return Amax.apply(input, dims=None, keepdim=False, largest=True)
    return _MedianValue.apply(input, value=middle)


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median of all elements (a 0-d tensor), or (values, indices) along ``dim``; a
    NaN anywhere in a slice makes its median NaN."""
    return _median(input, dim, keepdim, "median", ignore_nan=False)


def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """The median ignoring NaN (NaN only where a slice is all NaN)."""
    return _median(input, dim, keepdim, "nanmedian", ignore_nan=True)


class _MedianValue(Amax):
    """y = the lower median m of all elements;
    dL/dx = dL/dy / k at the k elements equal to m (ties split evenly, as PyTorch).
    Saves: x, y."""

    @staticmethod
    def forward(ctx, x, value=0.0):
        y = np.asarray(value, dtype=x.dtype)
        ctx.save_for_backward(x, y.reshape((1,) * x.ndim))
        ctx.meta = (None, False)
        return y


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """(values, indices): the most frequent value along ``dim`` (the smallest on ties) and the
    last index where it occurs."""

    def choose(x, axis):
        moved = np.moveaxis(x, axis, -1)
        rows = moved.reshape(-1, moved.shape[-1])
        picks = np.empty(rows.shape[0], dtype=np.int64)
        for r, row in enumerate(rows):
            values, counts = np.unique(row, return_counts=True)
            best = values[np.argmax(counts)]  # np.unique sorts: the smallest most frequent
            picks[r] = np.flatnonzero(row == best)[-1] if best == best else np.argmax(np.isnan(row))
        return picks.reshape(moved.shape[:-1])

    return mode_result(*_pick(input, dim, keepdim, "mode", choose))


__all__ = [
    "sort",
    "argsort",
    "msort",
    "topk",
    "kthvalue",
    "median",
    "nanmedian",
    "mode",
]
