"""Shape ops: cast, clone; reshape, view, flatten, unflatten, squeeze, unsqueeze; permute,
transpose, movedim, t; expand, broadcast_to. (Joining and splitting, ``cat``, ``stack``,
``split``, ``chunk``, ``unbind``, live in ``ops/joining.py``; ``flip``, ``repeat``, ``tril`` and
``triu`` copy elements into a new order and live in ``ops/rearranging.py``.)

None of them changes a value, so every backward is the inverse rearrangement of the gradient:
reshape it back, permute it back, or sum it over the broadcast copies. Forwards return NumPy
views where NumPy can (reshape, permute, expand), like PyTorch's view ops. ``view`` is
``reshape``: a NumPy array is reshaped without a copy whenever its memory allows it, and copied
otherwise, so ``view`` never fails on non-contiguous tensors. The argument helpers ``_check``,
``_sizes`` and ``_axis`` below serve ``joining.py`` and ``rearranging.py`` too.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims, unbroadcast


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype.

    Only float-to-float casts carry a gradient; a cast to int or bool has none.

    Saves: nothing (shapes only).
    """

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.astype(ctx.in_dtype), None


def cast(input: Tensor, dtype) -> Tensor:
    """``input`` as ``dtype`` (a copy; differentiable between float dtypes)."""
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    if dtype.kind != "f" or input.dtype.kind != "f":
        return Tensor(input.array.astype(dtype))
    return Cast.apply(input, dtype)


class Clone(Function):
    """y = a copy of x (new memory);  dL/dx = dL/dy.  Saves: nothing."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_out):
        return (grad_out,)


def clone(input: Tensor) -> Tensor:
    """A copy of ``input`` with its own memory, still connected to the graph."""
    return Clone.apply(input)


class Reshape(Function):
    """y = x with a new shape (the same elements in row-major order);
    dL/dx = dL/dy reshaped to x's shape.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_out):
        return (grad_out.reshape(ctx.in_shape),)


class Permute(Function):
    """y = x with its dimensions reordered: y.shape[i] = x.shape[perm[i]];
    dL/dx = dL/dy permuted by the inverse permutation.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, perm=()):
        ctx.perm = perm
        return x.transpose(perm)

    @staticmethod
    def backward(ctx, grad_out):
        return (grad_out.transpose(np.argsort(ctx.perm)),)


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view, no copy);
    dL/dx = dL/dy summed over the broadcast dimensions.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_out):
        return (unbroadcast(grad_out, ctx.in_shape),)


# ---- argument helpers --------------------------------------------------------------------
def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def _sizes(args, op: str) -> tuple:
    """A shape given as varargs (2, 3) or as one tuple/list ((2, 3),)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        args = tuple(args[0].tolist())
    for s in args:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{op}: sizes must be ints, got {args!r}")
    return tuple(int(s) for s in args)


def _axis(dim, ndim: int, op: str) -> int:
    (axis,) = normalize_dims(dim, ndim, op)
    return axis


def _infer_shape(shape: tuple, old: tuple, op: str) -> tuple:
    """Resolve one -1 in ``shape`` so it holds as many elements as ``old``."""
    numel = math.prod(old)
    known = 1
    unknown = None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {shape}")
            unknown = i
        elif s < 0:
            raise RuntimeError(f"{op}: invalid size {s} in shape {shape}")
        else:
            known *= s
    if unknown is not None and known != 0 and numel % known == 0:
        return shape[:unknown] + (numel // known,) + shape[unknown + 1 :]
    if unknown is None and known == numel:
        return shape
    raise RuntimeError(
        f"{op}: shape {shape} is invalid for input of shape {old} ({numel} elements); the new "
        "shape must hold the same number of elements"
    )


# ---- public functions --------------------------------------------------------------------
def reshape(input: Tensor, *shape) -> Tensor:
    """The same elements in a new shape (one size may be -1: inferred). A view when possible."""
    _check(input, "reshape")
    new = _infer_shape(_sizes(shape, "reshape"), input.array.shape, "reshape")
    return Reshape.apply(input, shape=new)


def view(input: Tensor, *shape) -> Tensor:
    """Same as ``reshape`` (NumPy copies only when the memory layout requires it)."""
    _check(input, "view")
    new = _infer_shape(_sizes(shape, "view"), input.array.shape, "view")
    return Reshape.apply(input, shape=new)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim (inclusive) into one; a 0-d tensor becomes shape (1,)."""
    shape = _check(input, "flatten").array.shape
    if not shape:
        return Reshape.apply(input, shape=(1,))
    start = _axis(start_dim, len(shape), "flatten")
    end = _axis(end_dim, len(shape), "flatten")
    if start > end:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim}) "
            f"for a tensor of shape {shape}"
        )
    new = shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]
    return Reshape.apply(input, shape=new)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1); the inverse of flatten."""
    shape = _check(input, "unflatten").array.shape
    axis = _axis(dim, len(shape), "unflatten")
    sizes = _infer_shape(_sizes((sizes,), "unflatten"), (shape[axis],), "unflatten")
    return Reshape.apply(input, shape=shape[:axis] + sizes + shape[axis + 1 :])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1 (all of them, or those in ``dim``; others in ``dim`` are kept)."""
    shape = _check(input, "squeeze").array.shape
    if dim is None:
        drop = {i for i, n in enumerate(shape) if n == 1}
    else:
        drop = {d for d in normalize_dims(dim, len(shape), "squeeze") if shape and shape[d] == 1}
    return Reshape.apply(input, shape=tuple(n for i, n in enumerate(shape) if i not in drop))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at position ``dim`` (in [-ndim - 1, ndim])."""
    shape = _check(input, "unsqueeze").array.shape
    axis = _axis(dim, len(shape) + 1, "unsqueeze")
    return Reshape.apply(input, shape=shape[:axis] + (1,) + shape[axis:])


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dims: result.shape[i] = input.shape[dims[i]] (a view)."""
    ndim = _check(input, "permute").array.ndim
    dims = _sizes(dims, "permute")
    perm = tuple(d % ndim if ndim else d for d in dims)
    if (
        len(dims) != ndim
        or sorted(perm) != list(range(ndim))
        or any(not -ndim <= d < ndim for d in dims)
    ):
        raise ValueError(
            f"permute: dims {dims} is not a permutation of the {ndim} dims of a tensor of shape "
            f"{input.shape}"
        )
    return Permute.apply(input, perm=perm)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    ndim = _check(input, "transpose").array.ndim
    a = _axis(dim0, ndim, "transpose")
    b = _axis(dim1, ndim, "transpose")
    if ndim == 0:  # dims 0 and -1 of a 0-d tensor, as torch
        return Permute.apply(input, perm=())
    perm = list(range(ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(input, perm=tuple(perm))


def t(input: Tensor) -> Tensor:
    """Transpose a tensor of at most 2 dims (0-d and 1-d come back unchanged)."""
    ndim = _check(input, "t").array.ndim
    if ndim > 2:
        raise ValueError(
            f"t: expects a tensor with <= 2 dims, got shape {input.shape}; use transpose(x, -2, -1)"
            " or x.mT for batches of matrices"
        )
    return Permute.apply(input, perm=tuple(reversed(range(ndim))))


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dim(s) ``source`` to position(s) ``destination``; the others keep their order."""
    ndim = _check(input, "movedim").array.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(
            f"movedim: source {source} and destination {destination} must have the same length"
        )
    src = [_axis(d, ndim, "movedim") for d in src]
    dst = [_axis(d, ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in source {source} or destination {destination}")
    perm = [None] * ndim
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    perm = tuple(p if p is not None else next(rest) for p in perm)
    return Permute.apply(input, perm=perm)


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view with size-1 dims repeated to ``sizes`` (-1 keeps a size; new dims may
    be added in front). No memory is copied."""
    shape = _check(input, "expand").array.shape
    sizes = _sizes(sizes, "expand")
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ValueError(
            f"expand: the number of sizes {sizes} must be at least the number of dims of the "
            f"tensor (shape {shape})"
        )
    target = []
    for i, s in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if s == -1:
            if old is None:
                raise ValueError(f"expand: -1 is not allowed for a new leading dim, got {sizes}")
            s = old
        if old is not None and old != s and old != 1:
            raise ValueError(
                f"expand: the expanded size ({s}) must match the existing size ({old}) at "
                f"non-singleton dim {i}; target sizes {sizes}, tensor shape {shape}"
            )
        target.append(s)
    return Expand.apply(input, shape=tuple(target))


def broadcast_to(input: Tensor, shape) -> Tensor:
    """``input`` broadcast to ``shape`` (same rules as expand)."""
    return expand(input, tuple(shape))


__all__ = [
    "cast",
    "clone",
    "reshape",
    "view",
    "flatten",
    "unflatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "t",
    "movedim",
    "expand",
    "broadcast_to",
]
