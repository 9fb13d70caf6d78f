"""Indexing: x[index] (``__getitem__``), gather, scatter_add, index_select, masked_fill, where,
one_hot.

``x[index]`` takes what NumPy and PyTorch take: ints, slices, None, Ellipsis, bool masks and
integer arrays or tensors (advanced indexing). Its backward writes the output gradient into a
zero array at the indexed positions; when integer arrays are involved the same position may be
picked twice (``x[[0, 0]]``), so those gradients are accumulated with ``np.add.at``.

masked_fill's mask is True where the value goes in. ``where(condition, input, other)`` takes
``input`` where the condition is True.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import broadcast_error, normalize_dims, operand, unbroadcast


def _scatter_add_flat(shape: tuple, flat_index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """zeros(shape) with ``values`` added at the row-major positions ``flat_index``."""
    out = np.zeros(math.prod(shape), dtype=values.dtype)
    np.add.at(out, flat_index.ravel(), values.ravel())
    return out.reshape(shape)


def _flat_index(shape: tuple, dim: int, index: np.ndarray) -> np.ndarray:
    """Row-major positions in an array of ``shape`` of the elements that gather(dim, index)
    reads: position (i, j, k) of ``index`` points at (index[i, j, k], j, k) for dim = 0."""
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    flat = index * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim:
            step = np.arange(n) * strides[d]
            flat = flat + step.reshape((n,) + (1,) * (index.ndim - d - 1))
    return flat


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy written at the indexed positions (added with
    np.add.at where integer-array indices may repeat a position).  Saves: the index."""

    @staticmethod
    def forward(ctx, x, index=(), accumulate=False):
        ctx.meta = (x.shape, index, accumulate)
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, grad_out):
        shape, index, accumulate = ctx.meta
        grad = np.zeros(shape, dtype=grad_out.dtype)
        if accumulate:
            np.add.at(grad, index, grad_out)
        else:
            grad[index] = grad_out
        return (grad,)


class Gather(Function):
    """y[i][j][k] = x[index[i][j][k]][j][k] for dim = 0 (the index replaces the coordinate
    along dim);  dL/dx = zeros with dL/dy added at the gathered positions.  Saves: index."""

    @staticmethod
    def forward(ctx, x, index, dim=0):
        region = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
        ctx.save_for_backward(index)
        ctx.meta = (x.shape, dim)
        return np.take_along_axis(x[region], index, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved
        shape, dim = ctx.meta
        return _scatter_add_flat(shape, _flat_index(shape, dim, index), grad_out), None


class ScatterAdd(Function):
    """y = x, then y[index[i][j]][j] += src[i][j] for dim = 0 (likewise for other dims);
    dL/dx = dL/dy;  dL/dsrc = gather(dL/dy, dim, index) (0 where src was not used).
    Saves: index."""

    @staticmethod
    def forward(ctx, x, index, src, dim=0):
        region = tuple(slice(0, n) for n in index.shape)
        flat = _flat_index(x.shape, dim, index)
        ctx.save_for_backward(index)
        ctx.meta = (src.shape, dim, region)
        return x + _scatter_add_flat(x.shape, flat, src[region].astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved
        src_shape, dim, region = ctx.meta
        grad_src = None
        if ctx.needs_input_grad[2]:
            sub = tuple(slice(None) if d == dim else r for d, r in enumerate(region))
            grad_src = np.zeros(src_shape, dtype=grad_out.dtype)
            grad_src[region] = np.take_along_axis(grad_out[sub], index, axis=dim)
        return grad_out, None, grad_src


class IndexSelect(Function):
    """y = x's slices along dim at the positions in a 1-D index (np.take);
    dL/dx = zeros with each slice of dL/dy added back at its index (repeats accumulate).
    Saves: index."""

    @staticmethod
    def forward(ctx, x, index, dim=0):
        ctx.save_for_backward(index)
        ctx.meta = (x.shape, dim)
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved
        shape, dim = ctx.meta
        grad = np.zeros((shape[dim],) + shape[:dim] + shape[dim + 1 :], dtype=grad_out.dtype)
        np.add.at(grad, index.reshape(-1), np.moveaxis(grad_out, dim, 0))
        return np.moveaxis(grad, 0, dim), None


class MaskedFill(Function):
    """y = value where mask else x (mask broadcast to x's shape);
    dL/dx = dL/dy where not mask, else 0;  dL/dvalue = sum of dL/dy where mask.  Saves: mask."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return np.where(mask, value, x)

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved
        grad_x = np.where(mask, 0, grad_out) if ctx.needs_input_grad[0] else None
        grad_value = None
        if ctx.needs_input_grad[2]:
            grad_value = np.asarray(np.sum(np.where(mask, grad_out, 0)))
        return grad_x, None, grad_value


class Where(Function):
    """y = a where condition else b (broadcasting all three);
    dL/da = dL/dy where condition, else 0;  dL/db = dL/dy where not condition, else 0
    (each summed over its broadcast dims).  Saves: condition."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = (a.shape, b.shape)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_out):
        (condition,) = ctx.saved
        a_shape, b_shape = ctx.shapes
        grad_a = grad_b = None
        if ctx.needs_input_grad[1]:
            grad_a = unbroadcast(np.where(condition, grad_out, 0), a_shape)
        if ctx.needs_input_grad[2]:
            grad_b = unbroadcast(np.where(condition, 0, grad_out), b_shape)
        return None, grad_a, grad_b


# ---- x[index] ----------------------------------------------------------------------------
def _index_part(part):
    if isinstance(part, Tensor):
        part = part.array
    elif isinstance(part, list):
        part = np.asarray([p.item() if isinstance(p, Tensor) else p for p in part])
        if part.size == 0:
            part = part.astype(np.int64)  # x[[]] selects nothing
    if isinstance(part, np.ndarray) and part.dtype.kind not in "biu":
        raise IndexError(
            f"tensors used as indices must be integer (long, int) or bool, got dtype {part.dtype}"
        )
    return part


def _index(index) -> tuple:
    """``index`` with tensors and lists turned into arrays, and whether positions may repeat."""
    if isinstance(index, tuple):
        index = tuple(_index_part(p) for p in index)
        parts = index
    else:
        index = _index_part(index)
        parts = (index,)
    repeats = any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" and p.size > 1 for p in parts)
    return index, repeats


def _index_error(shape: tuple, index, err: IndexError) -> IndexError:
    """An IndexError naming the offending index, the dim and its size."""
    parts = index if isinstance(index, tuple) else (index,)
    is_mask = [isinstance(p, np.ndarray) and p.dtype == bool for p in parts]
    used = 0
    for p, mask in zip(parts, is_mask):
        if mask:
            used += p.ndim
        elif p is not None and p is not Ellipsis and not isinstance(p, bool):
            used += 1
    if used > len(shape):
        return IndexError(
            f"too many indices for a tensor of dimension {len(shape)} (shape {shape}): the "
            f"index uses {used} dims"
        )
    dim = 0
    for p, mask in zip(parts, is_mask):
        if p is None or isinstance(p, bool):
            continue
        if p is Ellipsis:
            dim += len(shape) - used
            continue
        if mask:
            if p.shape != shape[dim : dim + p.ndim]:
                return IndexError(
                    f"the shape of the mask {p.shape} does not match the shape "
                    f"{shape[dim : dim + p.ndim]} of the indexed dims starting at dim {dim} "
                    f"(tensor of shape {shape})"
                )
            dim += p.ndim
            continue
        if isinstance(p, (int, np.integer, np.ndarray)):
            size = shape[dim]
            values = np.asarray(p)
            bad = values[(values < -size) | (values >= size)]
            if bad.size:
                return IndexError(
                    f"index {int(bad.flat[0])} is out of range for dim {dim} with size {size} "
                    f"(tensor of shape {shape}); valid indices are {-size}..{size - 1}"
                )
        dim += 1
    return IndexError(f"{err} (indexing a tensor of shape {shape})")


def getitem(input: Tensor, index) -> Tensor:
    """``input[index]``: basic and advanced (integer/bool array) indexing, as NumPy/PyTorch."""
    index, repeats = _index(index)
    try:
        return GetItem.apply(input, index=index, accumulate=repeats)
    except IndexError as err:
        raise _index_error(input.array.shape, index, err) from None


# ---- public functions --------------------------------------------------------------------
def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def _int_index(index, op: str) -> np.ndarray:
    array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer (int64) tensor, got dtype {array.dtype}")
    return array


def _in_range(index: np.ndarray, size: int, dim: int, op: str, shape: tuple) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index[(index < 0) | (index >= size)].flat[0]
        raise IndexError(
            f"{op}: index {int(bad)} is out of bounds for dim {dim} with size {size} "
            f"(input shape {shape}); indices must be in 0..{size - 1}"
        )


def gather(input: Tensor, dim: int, index) -> Tensor:
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim = 0 (index has input's number of dims,
    and no larger sizes outside ``dim``); the output has index's shape."""
    shape = _check(input, "gather").array.shape
    index = _int_index(index, "gather")
    axis = normalize_dims(dim, len(shape), "gather")[0]
    if not shape and index.ndim <= 1:  # a 0-d input acts as shape (1,), as torch
        from neuronet.ops.shape import reshape

        out = gather(reshape(input, 1), 0, index.reshape(-1))
        return reshape(out, index.shape)
    if index.ndim != len(shape):
        raise ValueError(
            f"gather: index must have the same number of dims as input, got index shape "
            f"{index.shape} and input shape {shape}"
        )
    for d, (n, m) in enumerate(zip(index.shape, shape)):
        if d != axis and n > m:
            raise ValueError(
                f"gather: index shape {index.shape} must not be larger than input shape {shape} "
                f"apart from dim {dim} (dim {d}: {n} > {m})"
            )
    _in_range(index, shape[axis] if shape else 1, axis, "gather", shape)
    return Gather.apply(input, index, dim=axis)


def scatter_add(input: Tensor, dim: int, index, src: Tensor) -> Tensor:
    """A copy of ``input`` with out[index[i][j]][j] += src[i][j] for dim = 0 (repeats add up)."""
    shape = _check(input, "scatter_add").array.shape
    _check(src, "scatter_add")
    index = _int_index(index, "scatter_add")
    if not shape and index.ndim <= 1 and src.array.ndim <= 1:  # 0-d acts as (1,), as torch
        from neuronet.ops.shape import reshape

        out = scatter_add(reshape(input, 1), 0, index.reshape(-1), reshape(src, -1))
        return reshape(out, ())
    axis = normalize_dims(dim, len(shape), "scatter_add")[0]
    if index.ndim != len(shape) or src.array.ndim != len(shape):
        raise ValueError(
            f"scatter_add: index and src must have as many dims as input, got input {shape}, "
            f"index {index.shape}, src {src.shape}"
        )
    for d, (n, m, k) in enumerate(zip(index.shape, shape, src.shape)):
        if n > k or (d != axis and n > m):
            raise ValueError(
                f"scatter_add: index shape {index.shape} must not exceed src shape {src.shape}, "
                f"nor input shape {shape} apart from dim {dim}"
            )
    _in_range(index, shape[axis], axis, "scatter_add", shape)
    return ScatterAdd.apply(input, index, src, dim=axis)


def index_select(input: Tensor, dim: int, index) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions of the 1-D ``index``."""
    shape = _check(input, "index_select").array.shape
    index = _int_index(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 0-D or 1-D, got shape {index.shape}")
    index = index.reshape(-1)
    axis = normalize_dims(dim, len(shape), "index_select")[0]
    _in_range(index, shape[axis] if shape else 1, axis, "index_select", shape)
    if not shape:
        return GetItem.apply(input, index=(), accumulate=False)
    return IndexSelect.apply(input, index, dim=axis)


def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (mask and input broadcast together;
    value is a number or a 0-d tensor, which then receives a gradient)."""
    _check(input, "masked_fill")
    mask_array = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_array.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask_array.dtype}")
    try:
        target = np.broadcast_shapes(mask_array.shape, input.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask_array.shape} and input of shape {input.shape} "
            "cannot be broadcast together"
        ) from None
    if target != input.shape:  # the out-of-place form broadcasts the input too, as torch
        from neuronet.ops.shape import expand

        input = expand(input, target)
    if isinstance(value, Tensor):
        if value.array.ndim != 0:
            raise ValueError(
                "masked_fill: only a 0-dimension value tensor is supported, got shape "
                f"{value.shape}; use where(mask, value, input) to fill from a tensor"
            )
        if value.dtype != input.dtype:
            from neuronet.ops.shape import cast

            value = cast(value, input.dtype)
    else:
        value = operand(value, input).array
    return MaskedFill.apply(input, mask_array, value)


def where(condition, input=None, other=None):
    """``input`` where ``condition`` is True, ``other`` elsewhere (broadcasting; either may be
    a number). With only ``condition``: the indices of its non-zero elements, one int64 tensor
    per dim (as ``nonzero(as_tuple=True)``)."""
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor(i.astype(np.int64, copy=False)) for i in np.nonzero(cond))
    if cond.dtype != bool:
        raise TypeError(
            f"where: condition must be a bool tensor, got dtype {cond.dtype}; compare first "
            "(e.g. x > 0)"
        )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(np.asarray(input, dtype=np.float32 if isinstance(input, float) else None))
    a = input if isinstance(input, Tensor) else operand(input, other)
    b = other if isinstance(other, Tensor) else operand(other, a)
    try:
        return Where.apply(cond, a, b)
    except ValueError as err:
        if "broadcast" in str(err):
            raise broadcast_error("where", a, b) from None
        raise


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each class index
    (num_classes=-1: max + 1). No gradient."""
    labels = _int_index(tensor, "one_hot")
    if labels.size and labels.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"one_hot: class values must be smaller than num_classes ({num_classes}), "
            f"got {int(labels.max())}"
        )
    out = np.zeros((labels.size, num_classes), dtype=np.int64)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return Tensor(out.reshape(labels.shape + (num_classes,)))


__all__ = [
    "gather",
    "scatter_add",
    "index_select",
    "masked_fill",
    "where",
    "one_hot",
]
