"""Joining and splitting: cat (concat), stack, split, chunk, unbind; and the same by NumPy's
conventions: hstack, vstack, dstack, column_stack, atleast_1d/2d/3d, tensor_split, hsplit,
vsplit, dsplit, meshgrid, broadcast_tensors, broadcast_shapes.

A value moved is a gradient moved back, so each backward is the inverse move:
    cat:     y = [x_1, ..., x_n] along dim      dL/dx_i = the slice of dL/dy where x_i landed
    stack:   y[..., i, ...] = x_i (a new dim)   dL/dx_i = dL/dy indexed at i along dim
    split:   y_k = consecutive slices of x      dL/dx = [dL/dy_1, ..., dL/dy_n] joined
    unbind:  y_i = x indexed at i along dim     dL/dx = the dL/dy_i stacked along dim
Split and unbind return NumPy views. The NumPy-style functions are compositions of reshape,
expand, cat and split, so their gradients are those ops' (exact).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.shape import _axis, _check, cast, expand, reshape


def _tensors(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: entry {i} is a {type(t).__name__}, expected a Tensor")
    kinds = {t.array.dtype.kind for t in tensors}
    if "f" in kinds and len(kinds) > 1:  # torch's promotion: ints join floats as the float type
        target = np.result_type(*[t.array.dtype for t in tensors if t.array.dtype.kind == "f"])
        return [t if t.array.dtype.kind == "f" else cast(t, target) for t in tensors]
    return list(tensors)


class Cat(Function):
    """y = [x_1, ..., x_n] joined along dim;  dL/dx_i = the slice of dL/dy where x_i landed.
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs[:-1]])
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        parts = np.split(grad_out, ctx.bounds, axis=ctx.dim)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other sizes must match."""
    tensors = _tensors(tensors, "cat")
    if len(tensors) > 1 and any(t.shape != (0,) for t in tensors):
        # torch's legacy rule: 1-D empty tensors are skipped, whatever the other shapes
        tensors = [t for t in tensors if t.shape != (0,)]
    first = tensors[0].shape
    axis = _axis(dim, len(first), "cat")
    for i, t in enumerate(tensors):
        if t.array.ndim != len(first) or any(
            a != b for d, (a, b) in enumerate(zip(t.shape, first)) if d != axis
        ):
            raise ValueError(
                f"cat: sizes of tensors must match except in dim {dim}: entry 0 has shape "
                f"{first} but entry {i} has shape {t.shape}"
            )
    return Cat.apply(*tensors, dim=axis)


concat = cat


class Stack(Function):
    """y = x_1, ..., x_n stacked along a new dim;  dL/dx_i = dL/dy indexed at i along dim.
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        parts = np.moveaxis(grad_out, ctx.dim, 0)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim ``dim`` (in [-ndim - 1, ndim])."""
    tensors = _tensors(tensors, "stack")
    first = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != first:
            raise ValueError(
                f"stack: expects each tensor to be equal size, but got {first} at entry 0 and "
                f"{t.shape} at entry {i}"
            )
    return Stack.apply(*tensors, dim=_axis(dim, len(first) + 1, "stack"))


class Split(Function):
    """y_1, ..., y_n = consecutive slices of x along dim (views);
    dL/dx = [dL/dy_1, ..., dL/dy_n] joined along dim (zeros for outputs that got none).
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, sections=(), dim=0):
        ctx.dim = dim
        return tuple(np.split(x, np.cumsum(sections[:-1]), axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return (np.concatenate(grads, axis=ctx.dim),)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    shape = _check(tensor, "split").array.shape
    axis = _axis(dim, len(shape), "split")
    n = shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {size}")
        sections = [size] * (n // size) + ([n % size] if n % size else [])
        sections = sections or [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != n or any(s < 0 for s in sections):
            raise ValueError(
                f"split: split sizes {sections} must be non-negative and sum exactly to {n} "
                f"(the size of dim {dim} of a tensor of shape {shape})"
            )
    return Split.apply(tensor, sections=tuple(sections), dim=axis)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (possibly fewer pieces)."""
    shape = _check(input, "chunk").array.shape
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = shape[_axis(dim, len(shape), "chunk")]
    return split(input, max(1, -(-n // int(chunks))), dim)


class Unbind(Function):
    """y_i = x indexed at i along dim (the dim removed);  dL/dx = the dL/dy_i stacked along dim.
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, dim=0):
        ctx.dim = dim
        return tuple(np.moveaxis(x, dim, 0))

    @staticmethod
    def backward(ctx, *grads):
        return (np.stack(grads, axis=ctx.dim),)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim."""
    shape = _check(input, "unbind").array.shape
    return Unbind.apply(input, dim=_axis(dim, len(shape), "unbind"))


# ---- NumPy's conventions, composed of the ops above -----------------------------------------
def _tensor_list(tensors, op: str) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: entry {i} is a {type(t).__name__}, expected a Tensor")
    return list(tensors)


def _atleast(tensors, n: int, op: str):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    out = []
    for t in _tensor_list(tensors, op):
        shape = t.shape
        if len(shape) < n:
            if n == 3 and len(shape) == 2:
                shape = shape + (1,)
            elif n == 3 and len(shape) == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (n - len(shape)) + shape
            t = reshape(t, shape)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d tensor becomes shape (1,))."""
    return _atleast(tensors, 1, "atleast_1d")


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast(tensors, 2, "atleast_2d")


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(tensors, 3, "atleast_3d")


def _listed(tensors, op: str) -> list:
    tensors = _tensor_list((tensors,), op)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    return tensors


def hstack(tensors) -> Tensor:
    """Join along dim 1 (along dim 0 when every tensor is 1-D); 0-d tensors count as 1-D."""
    parts = [_atleast([t], 1, "hstack") for t in _listed(tensors, "hstack")]
    return cat(parts, 0 if all(t.ndim == 1 for t in parts) else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D (rows)."""
    return cat([_atleast([t], 2, "vstack") for t in _listed(tensors, "vstack")], 0)


def dstack(tensors) -> Tensor:
    """Join along dim 2 (depth) after making every tensor at least 3-D."""
    return cat([_atleast([t], 3, "dstack") for t in _listed(tensors, "dstack")], 2)


def column_stack(tensors) -> Tensor:
    """Join along dim 1; 0-d and 1-D tensors become columns (n, 1) first."""
    parts = [
        reshape(t, (t.numel(), 1)) if t.ndim < 2 else t for t in _listed(tensors, "column_stack")
    ]
    return cat(parts, 1)


def _split_at(input: Tensor, bounds: list, axis: int) -> tuple:
    n = input.shape[axis]
    edges = [min(max(b if b >= 0 else b + n, 0), n) for b in bounds]
    sizes = []
    start = 0
    for e in edges:
        sizes.append(max(e - start, 0))
        start = max(start, e)
    sizes.append(n - start)
    return Split.apply(input, sections=tuple(sizes), dim=axis)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``n`` nearly equal pieces (the first n % size pieces one longer), or at the
    given indices (pieces may be empty), as NumPy's ``array_split``."""
    axis = _axis(dim, _check(input, "tensor_split").ndim, "tensor_split")
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise TypeError("tensor_split: a tensor of indices must be a 0-D or 1-D int64 tensor")
        spec = int(spec.item()) if spec.ndim == 0 else [int(i) for i in spec.tolist()]
    n = input.shape[axis]
    if isinstance(spec, (int, np.integer)):
        if spec <= 0:
            raise ValueError(f"tensor_split: number of sections must be positive, got {spec}")
        size, extra = divmod(n, int(spec))
        sizes = [size + 1] * extra + [size] * (int(spec) - extra)
        return Split.apply(input, sections=tuple(sizes), dim=axis)
    return _split_at(input, [int(i) for i in spec], axis)


def _numpy_split(op: str, input: Tensor, sections, dim: int, min_ndim: int) -> tuple:
    if not isinstance(input, Tensor) or input.ndim < min_ndim:
        got = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expects a tensor with at least {min_ndim} dims, got {got}")
    if isinstance(sections, (int, np.integer)):
        n = input.shape[dim]
        if sections <= 0 or n % sections:
            raise ValueError(
                f"{op}: the size {n} of dim {dim} is not divisible by the number of sections "
                f"{sections}; use tensor_split for unequal pieces"
            )
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 1 (dim 0 for a 1-D tensor); an int must divide the size."""
    dim = 0 if isinstance(input, Tensor) and input.ndim == 1 else 1
    return _numpy_split("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 0 of a tensor of at least 2 dims; an int must divide the size."""
    return _numpy_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dim 2 of a tensor of at least 3 dims; an int must divide the size."""
    return _numpy_split("dsplit", input, indices_or_sections, 2, 3)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D (or 0-d) tensors: output k varies along dim k ('ij', the
    default as in PyTorch) or, for the first two, along dims 1 and 0 ('xy', NumPy's default)."""
    tensors = _tensor_list(tensors, "meshgrid")
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-D or 1-D tensors, got shape {t.shape}")
    sizes = [t.numel() for t in tensors]
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(range(len(tensors)))
    if swap:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[k] for k in order)
    out = []
    for k, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[order.index(k)] = sizes[k]
        out.append(expand(reshape(t, tuple(view)), shape))
    return tuple(out)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that ``shapes`` broadcast to (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(int(n) for n in np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(
            f"broadcast_shapes: shapes {shapes} cannot be broadcast together"
        ) from None


def broadcast_tensors(*tensors) -> tuple:
    """Every tensor expanded (as a view) to the common broadcast shape."""
    tensors = _tensor_list(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


__all__ = [
    "cat",
    "concat",
    "stack",
    "split",
    "chunk",
    "unbind",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "hstack",
    "vstack",
    "dstack",
    "column_stack",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "meshgrid",
    "broadcast_shapes",
    "broadcast_tensors",
]
