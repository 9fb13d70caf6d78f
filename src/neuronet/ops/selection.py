"""Selecting elements: take, take_along_dim, masked_select, nonzero, argwhere, count_nonzero.

take, take_along_dim and masked_select are compositions of indexing (``getitem``, ``gather``),
so the gradient goes back to the elements read (added where one is read twice). nonzero,
argwhere and count_nonzero return int64 indices or counts and have no gradient.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.indexing import _int_index, gather, getitem
from neuronet.ops.shape import expand, reshape


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def take(input: Tensor, index) -> Tensor:
    """input.flatten()[index]: the output has index's shape (negative indices count from the
    end)."""
    _check(input, "take")
    idx = _int_index(index, "take")
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take: index out of range for a tensor of {n} elements")
    return getitem(reshape(input, -1), idx.astype(np.int64))


def take_along_dim(input: Tensor, indices, dim=None) -> Tensor:
    """Values of input at ``indices`` along ``dim`` (input and indices broadcast in the other
    dims), as NumPy's take_along_axis; with dim=None, of the flattened input."""
    _check(input, "take_along_dim")
    idx = _int_index(indices, "take_along_dim").astype(np.int64)
    if dim is None:
        return take(input, idx.reshape(-1))
    if idx.ndim != input.ndim:
        raise ValueError(
            f"take_along_dim: input {input.shape} and indices {idx.shape} must have the same "
            "number of dims"
        )
    (axis,) = normalize_dims(dim, input.ndim, "take_along_dim")
    in_shape = list(input.shape)
    idx_shape = list(idx.shape)
    in_shape[axis] = 1
    idx_shape[axis] = 1
    common = list(np.broadcast_shapes(tuple(in_shape), tuple(idx_shape)))
    x_target = tuple(common[:axis] + [input.shape[axis]] + common[axis + 1 :])
    i_target = tuple(common[:axis] + [idx.shape[axis]] + common[axis + 1 :])
    if input.shape != x_target:
        input = expand(input, x_target)
    idx = np.broadcast_to(idx, i_target)
    return gather(input, axis, np.where(idx < 0, idx + input.shape[axis], idx))


def masked_select(input: Tensor, mask) -> Tensor:
    """The elements where ``mask`` is True (input and mask broadcast together), as a 1-D
    tensor in row-major order."""
    _check(input, "masked_select")
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    if input.shape != shape:
        input = expand(input, shape)
    return getitem(input, np.broadcast_to(m, shape))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero elements: an int64 (n, ndim) tensor, or with as_tuple=True one
    1-D tensor per dim (a 0-d input counts as 1-D)."""
    x = _check(input, "nonzero").array
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x)))
    if x.ndim == 0:
        return Tensor(np.zeros((int(x != 0), 0), dtype=np.int64))
    return Tensor(np.argwhere(x).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    """The same as ``nonzero(input)``: an int64 (n, ndim) tensor of indices."""
    return nonzero(input)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements (over ``dim``), as int64."""
    x = _check(input, "count_nonzero").array
    dims = None if dim is None else normalize_dims(dim, x.ndim, "count_nonzero")
    if x.ndim == 0:
        dims = None
    return Tensor(np.asarray(np.count_nonzero(x, axis=dims), dtype=np.int64))


__all__ = ["take", "take_along_dim", "masked_select", "nonzero", "argwhere", "count_nonzero"]
