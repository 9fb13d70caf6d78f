"""Counting, binning and index grids: bincount, histc, searchsorted, bucketize, unique,
unique_consecutive, tril_indices, triu_indices.

None of them has a gradient (their outputs are counts, positions or a piecewise-constant
function of the input), as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.backend import as_dtype
from neuronet.ops._util import normalize_dims


def _array(input, op: str) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input.array


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max occurs in a 1-D non-negative int tensor (at least
    ``minlength`` bins); with weights, the sum of the weights of each value (weights' dtype)."""
    x = _array(input, "bincount")
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise ValueError(f"bincount: expected a 1-D int tensor, got shape {x.shape} {x.dtype}")
    if x.size and x.min() < 0:
        raise ValueError("bincount: the input must hold non-negative ints")
    if weights is None:
        return Tensor(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _array(weights, "bincount")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor(np.bincount(x, weights=w, minlength=minlength).astype(dtype))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """A histogram of ``bins`` equal bins over [min, max] (min = max = 0: the data's range);
    values outside are ignored, a value equal to max counts in the last bin."""
    x = _array(input, "histc")
    if x.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating-point tensor, got {x.dtype}")
    if bins <= 0:
        raise ValueError(f"histc: bins must be positive, got {bins}")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({max}) must be larger than min ({min})")
    values = x.ravel()
    values = values[(values >= lo) & (values <= hi)]
    pos = ((values - lo) * bins / (hi - lo)).astype(np.int64)  # torch's bin formula
    pos = np.minimum(pos, bins - 1)
    return Tensor(np.bincount(pos, minlength=bins).astype(x.dtype))


def _side(op: str, right: bool, side) -> str:
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"{op}: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError(f"{op}: right=True and side='left' contradict each other")
        return side
    return "right" if right else "left"


def searchsorted(
    sorted_sequence: Tensor,
    input,
    *,
    out_int32: bool = False,
    right: bool = False,
    side=None,
    sorter=None,
) -> Tensor:
    """Where each value of ``input`` would be inserted into ``sorted_sequence`` (sorted along its
    last dim; leading dims pair up with input's) to keep it sorted: the first such position, or
    the last with right=True / side='right'."""
    seq = _array(sorted_sequence, "searchsorted")
    scalar = not isinstance(input, Tensor)
    values = np.asarray(input) if scalar else input.array
    how = _side("searchsorted", right, side)
    order = None if sorter is None else (sorter.array if isinstance(sorter, Tensor) else sorter)
    dtype = np.int32 if out_int32 else np.int64
    if seq.size == 0 or values.size == 0:
        return Tensor(np.zeros(values.shape, dtype=dtype))
    if seq.ndim <= 1:
        out = np.searchsorted(seq, values, side=how, sorter=order)
        return Tensor(np.asarray(out, dtype=dtype))
    if values.shape[:-1] != seq.shape[:-1]:
        raise ValueError(
            f"searchsorted: the leading dims of sorted_sequence {seq.shape} and input "
            f"{values.shape} must match"
        )
    rows_seq = seq.reshape(-1, seq.shape[-1])
    rows_val = values.reshape(-1, values.shape[-1])
    rows_ord = None if order is None else order.reshape(-1, order.shape[-1])
    out = (
        np.stack(
            [
                np.searchsorted(s, v, side=how, sorter=None if rows_ord is None else rows_ord[i])
                for i, (s, v) in enumerate(zip(rows_seq, rows_val))
            ]
        )
        if rows_seq.shape[0]
        else np.zeros(rows_val.shape, dtype=dtype)
    )
    return Tensor(out.reshape(values.shape).astype(dtype))


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value among the sorted 1-D ``boundaries``: i with
    boundaries[i-1] < x <= boundaries[i] (boundaries[i-1] <= x < boundaries[i] with right=True)."""
    if _array(boundaries, "bucketize").ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def _unique_rows(x: np.ndarray, dim, consecutive: bool):
    """(unique values, inverse, counts) along ``dim`` (None: of the flattened input)."""
    if dim is None:
        flat = x.ravel()
        if not consecutive:
            return np.unique(flat, return_inverse=True, return_counts=True)
        if flat.size == 0:
            return flat, np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]])
        return (
            flat[starts],
            np.cumsum(starts) - 1,
            np.diff(np.append(np.flatnonzero(starts), flat.size)),
        )
    moved = np.moveaxis(x, dim, 0)
    rows = moved.reshape(moved.shape[0], int(np.prod(moved.shape[1:])))
    if not consecutive:
        values, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    elif rows.shape[0] == 0:
        values, inverse, counts = rows, np.zeros(0, np.int64), np.zeros(0, np.int64)
    else:
        starts = np.concatenate([[True], np.any(rows[1:] != rows[:-1], axis=1)])
        values = rows[starts]
        inverse = np.cumsum(starts) - 1
        counts = np.diff(np.append(np.flatnonzero(starts), rows.shape[0]))
    values = np.moveaxis(values.reshape((-1,) + moved.shape[1:]), 0, dim)
    return values, inverse.reshape(-1), counts


def _unique_result(x, dim, consecutive, return_inverse, return_counts, op):
    if dim is not None:
        (dim,) = normalize_dims(dim, x.ndim, op)
    values, inverse, counts = _unique_rows(x, dim, consecutive)
    out = [Tensor(np.asarray(values))]
    if return_inverse:
        shape = x.shape if dim is None else (x.shape[dim],)
        out.append(Tensor(np.asarray(inverse, dtype=np.int64).reshape(shape)))
    if return_counts:
        out.append(Tensor(np.asarray(counts, dtype=np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,  # noqa: A002
    return_counts: bool = False,
    dim=None,
):
    """The distinct values (or slices along ``dim``), sorted; optionally the index of each
    input element's value (inverse) and how often each occurs (counts)."""
    x = _array(input, "unique")
    return _unique_result(x, dim, False, return_inverse, return_counts, "unique")


def unique_consecutive(
    input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None
):
    """Collapse runs of equal consecutive values (or slices along ``dim``) to one."""
    x = _array(input, "unique_consecutive")
    return _unique_result(x, dim, True, return_inverse, return_counts, "unique_consecutive")


def _tri_indices(fn, row: int, col: int, offset: int, dtype, device, layout, op: str) -> Tensor:
    from neuronet.creation import _made  # the device= and layout= checks of every factory

    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got {row}, {col}")
    dtype = as_dtype(dtype) or np.dtype(np.int64)
    i, j = fn(row, offset, col)
    return _made(np.stack([i, j]).astype(dtype).reshape(2, -1), False, device, layout)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None
) -> Tensor:
    """The (2, n) row and column indices of the lower triangle of a row x col matrix (from the
    ``offset`` diagonal), in row-major order."""
    return _tri_indices(np.tril_indices, row, col, offset, dtype, device, layout, "tril_indices")


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None
) -> Tensor:
    """The (2, n) row and column indices of the upper triangle of a row x col matrix."""
    return _tri_indices(np.triu_indices, row, col, offset, dtype, device, layout, "triu_indices")


__all__ = [
    "bincount",
    "histc",
    "searchsorted",
    "bucketize",
    "unique",
    "unique_consecutive",
    "tril_indices",
    "triu_indices",
]
