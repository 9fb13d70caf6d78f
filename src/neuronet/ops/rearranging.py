"""Rearranging elements: flip, roll, repeat, tile, repeat_interleave, narrow, select, rot90,
fliplr, flipud, ravel, tril, triu, and ``Tensor.unfold`` (sliding windows along one dim).

Values are only moved, copied or (tril/triu) zeroed, so each backward moves the gradient back,
adding where one input element was copied to several outputs:
    flip:    y = x reversed along dims          dL/dx = dL/dy reversed along the same dims
    repeat:  y = x tiled reps[i] times per dim  dL/dx = dL/dy summed over the copies
    tril:    y = the lower triangle of x        dL/dx = the lower triangle of dL/dy (triu alike)
and likewise for roll (roll back), repeat_interleave and overlapping windows (add the copies).
``flip`` returns a NumPy view.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.indexing import getitem
from neuronet.ops.shape import _axis, _check, _sizes, reshape, transpose


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (elements leaving one end come
    back at the other);  dL/dx = dL/dy rolled back by -shifts.  Saves: nothing."""

    @staticmethod
    def forward(ctx, x, shifts=(), dims=()):
        ctx.meta = (shifts, dims)
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, grad_out):
        shifts, dims = ctx.meta
        return (np.roll(grad_out, tuple(-s for s in shifts), dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when dims is None).

    Example:
        >>> import neuronet as nt
        >>> nt.roll(nt.tensor([1, 2, 3, 4]), 1).tolist()
        [4, 1, 2, 3]
    """
    _check(input, "roll")
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims, shifts must be one int, got {shifts}")
        flat = Roll.apply(reshape(input, -1), shifts=shifts, dims=(0,))
        return reshape(flat, input.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(dims) != len(shifts):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    axes = tuple(_axis(d, input.ndim, "roll") for d in dims)
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), dims=axes)


class Flip(Function):
    """y = x reversed along dims;  dL/dx = dL/dy reversed along the same dims.
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, dims=()):
        ctx.dims = dims
        return np.flip(x, dims)

    @staticmethod
    def backward(ctx, grad_out):
        return (np.flip(grad_out, ctx.dims),)


def flip(input: Tensor, *args, dims=None) -> Tensor:
    """Reverse the order of elements along ``dims`` (``flip(x, 0, 1)``, ``flip(x, (0, 1))`` or
    ``flip(x, dims=(0, 1))``)."""
    ndim = _check(input, "flip").array.ndim
    if dims is not None:
        if args:
            raise TypeError("flip: give the dims either as arguments or as dims=, not both")
        args = (dims,)
    dims = args
    dims = normalize_dims(_sizes(dims, "flip"), ndim, "flip")
    return Flip.apply(input, dims=dims)


class Repeat(Function):
    """y = x tiled reps[i] times along each dim (torch ``repeat`` = NumPy ``tile``);
    dL/dx = dL/dy summed over the copies.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, reps=()):
        ctx.in_shape = x.shape
        ctx.reps = reps
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, grad_out):
        reps = ctx.reps
        padded = (1,) * (len(reps) - len(ctx.in_shape)) + ctx.in_shape
        interleaved = [n for pair in zip(reps, padded) for n in pair]
        grad = grad_out.reshape(interleaved).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return (grad.reshape(ctx.in_shape),)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile ``input`` sizes[i] times along each dim (extra leading sizes add dims)."""
    shape = _check(input, "repeat").array.shape
    reps = _sizes(sizes, "repeat")
    if len(reps) < len(shape):
        raise ValueError(
            f"repeat: the number of repeat sizes ({len(reps)}) can not be smaller than the number "
            f"of dims of the tensor (shape {shape})"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: sizes must be non-negative, got {reps}")
    return Repeat.apply(input, reps=reps)


def tile(input: Tensor, dims) -> Tensor:
    """Repeat the whole tensor dims[i] times along each dim (missing leading dims count as 1)."""
    _check(input, "tile")
    reps = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    reps = (1,) * (input.ndim - len(reps)) + tuple(int(r) for r in reps)
    return repeat(input, reps)


class RepeatInterleave(Function):
    """y = each slice of x along dim repeated repeats[i] times in a row;
    dL/dx_i = the sum of dL/dy over the copies of slice i.  Saves: the repeat counts."""

    @staticmethod
    def forward(ctx, x, repeats=1, dim=0):
        counts = np.broadcast_to(np.asarray(repeats), (x.shape[dim],))
        ctx.save_for_backward(counts)
        ctx.meta = (x.shape, dim)
        return np.repeat(x, counts, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        (counts,) = ctx.saved
        shape, dim = ctx.meta
        owner = np.repeat(np.arange(shape[dim]), counts)
        grad = np.zeros((shape[dim],) + shape[:dim] + shape[dim + 1 :], dtype=grad_out.dtype)
        np.add.at(grad, owner, np.moveaxis(grad_out, dim, 0))
        return (np.moveaxis(grad, 0, dim),)


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each element (or each slice along ``dim``) ``repeats`` times in a row; repeats is
    an int or a 1-D tensor with one count per slice. With a tensor alone, ``repeat_interleave(r)``
    gives each index i repeated r[i] times.

    Example:
        >>> import neuronet as nt
        >>> nt.repeat_interleave(nt.tensor([1, 2]), 2).tolist()
        [1, 1, 2, 2]
    """
    _check(input, "repeat_interleave")
    if repeats is None:  # repeat_interleave(counts): 0, 1, ... each repeated counts[i] times
        counts = input.array
        return Tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    counts = repeats.array if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.ndim > 1 or (counts.size and counts.min() < 0):
        raise ValueError("repeat_interleave: repeats must be a non-negative int or 1-D tensor")
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    axis = _axis(dim, input.ndim, "repeat_interleave")
    if input.ndim == 0:
        input = reshape(input, 1)
    if counts.ndim == 1 and counts.size not in (1, input.shape[axis]):
        raise ValueError(
            f"repeat_interleave: repeats has {counts.size} entries but dim {dim} has size "
            f"{input.shape[axis]}"
        )
    counts = counts.reshape(-1)[0] if counts.ndim == 1 and counts.size == 1 else counts
    out = RepeatInterleave.apply(input, repeats=counts, dim=axis)
    if output_size is not None and out.shape[axis] != output_size:
        raise ValueError(f"repeat_interleave: output_size {output_size} != {out.shape[axis]}")
    return out


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The slice start:start + length along ``dim`` (a view); start may be negative."""
    _check(input, "narrow")
    axis = _axis(dim, input.ndim, "narrow")
    start = int(start.item()) if isinstance(start, Tensor) else int(start)
    n = input.shape[axis]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(
            f"narrow: start ({start}) + length ({length}) exceeds dim {dim} of size {n}"
        )
    index = [slice(None)] * input.ndim
    index[axis] = slice(start, start + length)
    return getitem(input, tuple(index))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """input indexed at ``index`` along ``dim`` (that dim removed)."""
    _check(input, "select")
    axis = _axis(dim, input.ndim, "select")
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n}")
    where = [slice(None)] * input.ndim
    where[axis] = int(index)
    return getitem(input, tuple(where))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first dim towards the
    second (PyTorch's and NumPy's direction)."""
    _check(input, "rot90")
    if len(dims) != 2 or input.ndim < 2:
        raise ValueError(f"rot90: expected 2 dims of a tensor with >= 2 dims, got dims {dims}")
    d0, d1 = normalize_dims(dims[0], input.ndim, "rot90")[0], _axis(dims[1], input.ndim, "rot90")
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims}")
    k = int(k) % 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), d1)
    return input


def fliplr(input: Tensor) -> Tensor:
    """Reverse the order along dim 1 (left/right); needs at least 2 dims."""
    if _check(input, "fliplr").ndim < 2:
        raise ValueError(f"fliplr: input must have at least 2 dims, got shape {input.shape}")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """Reverse the order along dim 0 (up/down); needs at least 1 dim."""
    if _check(input, "flipud").ndim < 1:
        raise ValueError("flipud: input must have at least 1 dim")
    return flip(input, 0)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (row-major)."""
    return reshape(_check(input, "ravel"), -1)


class Tri(Function):
    """y = lower (tril) or upper (triu) triangle of the last two dims of x, from ``diagonal``;
    dL/dx = the same triangle of dL/dy.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, diagonal=0, upper=False):
        ctx.params = (diagonal, upper)
        return np.triu(x, diagonal) if upper else np.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad_out):
        diagonal, upper = ctx.params
        return (np.triu(grad_out, diagonal) if upper else np.tril(grad_out, diagonal),)


def _tri(input, diagonal: int, upper: bool, op: str) -> Tensor:
    if _check(input, op).array.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dims, got shape {input.shape}")
    return Tri.apply(input, diagonal=int(diagonal), upper=upper)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above the ``diagonal``-th diagonal of the last two dims."""
    return _tri(input, diagonal, False, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below the ``diagonal``-th diagonal of the last two dims."""
    return _tri(input, diagonal, True, "triu")


class Unfold(Function):
    """y = all windows of ``size`` elements along ``dim``, every ``step`` elements: dim becomes
    the window index and a new last dim holds the window;  dL/dx = each window's gradient
    added back where the window was read (windows may overlap).  Saves: nothing (shapes)."""

    @staticmethod
    def forward(ctx, x, dim=0, size=1, step=1):
        windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
        ctx.meta = (x.shape, dim, size, step)
        index = [slice(None)] * x.ndim
        index[dim] = slice(None, None, step)
        return np.ascontiguousarray(windows[tuple(index)])

    @staticmethod
    def backward(ctx, grad_out):
        shape, dim, size, step = ctx.meta
        grad = np.zeros(shape, dtype=grad_out.dtype)
        count = grad_out.shape[dim]
        for k in range(size):  # tap k of every window, all windows at once
            index = [slice(None)] * len(shape)
            index[dim] = slice(k, k + (count - 1) * step + 1, step)
            grad[tuple(index)] += grad_out[..., k]
        return (grad,)


def unfold_dimension(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: windows of ``size`` along ``dimension`` every ``step`` elements.

    Example:
        >>> import neuronet as nt
        >>> nt.arange(5).unfold(0, 2, 2).tolist()
        [[0, 1], [2, 3]]
    """
    _check(input, "unfold")
    if input.ndim == 0:
        _axis(dimension, 0, "unfold")
        if size != 1:
            raise ValueError(f"unfold: a 0-d tensor has windows of size 1, got size {size}")
        return reshape(input, 1)
    axis = _axis(dimension, input.ndim, "unfold")
    if size < 0 or size > input.shape[axis] or step <= 0:
        raise ValueError(
            f"unfold: size {size} must be in [0, {input.shape[axis]}] (the size of dim "
            f"{dimension}) and step {step} must be positive"
        )
    return Unfold.apply(input, dim=axis, size=int(size), step=int(step))


__all__ = [
    "flip",
    "roll",
    "repeat",
    "tile",
    "repeat_interleave",
    "narrow",
    "select",
    "rot90",
    "fliplr",
    "flipud",
    "ravel",
    "tril",
    "triu",
]
