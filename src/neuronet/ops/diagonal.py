"""Diagonals: diagonal, diag, diag_embed, diagflat, block_diag.

``offset`` counts diagonals as PyTorch does: 0 is the main diagonal, k > 0 the k-th above it
(elements (i, i + k)), k < 0 the k-th below it (elements (i - k, i)). Each op copies values
without changing them, so each backward moves the gradient back to where the values came from.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims


class Diagonal(Function):
    """y = the offset diagonal of x over dims (dim1, dim2), appended as the last dim;
    dL/dx = zeros with dL/dy written on that diagonal.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, offset=0, dim1=0, dim2=1):
        ctx.meta = (x.shape, offset, dim1, dim2)
        return np.ascontiguousarray(np.diagonal(x, offset, dim1, dim2))

    @staticmethod
    def backward(ctx, grad_out):
        shape, offset, dim1, dim2 = ctx.meta
        grad = np.zeros(shape, dtype=grad_out.dtype)
        view = np.diagonal(grad, offset, dim1, dim2)
        view.flags.writeable = True  # NumPy returns a read-only view; the memory is ours
        view[...] = grad_out
        return (grad,)


class DiagEmbed(Function):
    """y = zeros with the last dim of x written on the offset diagonal of the new dims
    (dim1, dim2);  dL/dx = that diagonal of dL/dy.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, offset=0, dim1=-2, dim2=-1):
        n = x.shape[-1] + abs(offset)
        out_ndim = x.ndim + 1
        d1, d2 = dim1 % out_ndim, dim2 % out_ndim
        rest = [d for d in range(out_ndim) if d not in (d1, d2)]
        shape = [0] * out_ndim
        for d, size in zip(rest, x.shape[:-1]):
            shape[d] = size
        shape[d1] = n
        shape[d2] = n
        y = np.zeros(shape, dtype=x.dtype)
        view = np.diagonal(y, offset, d1, d2)
        view.flags.writeable = True
        view[...] = x
        ctx.meta = (offset, d1, d2)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        offset, d1, d2 = ctx.meta
        return (np.ascontiguousarray(np.diagonal(grad_out, offset, d1, d2)),)


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal over dims ``dim1`` and ``dim2``, as the last dim of the result.

    Example:
        >>> import neuronet as nt
        >>> nt.diagonal(nt.tensor([[1.0, 2.0], [3.0, 4.0]]), offset=1).tolist()
        [2.0]
    """
    ndim = _check(input, "diagonal").ndim
    (d1,) = normalize_dims(dim1, ndim, "diagonal")
    (d2,) = normalize_dims(dim2, ndim, "diagonal")
    if d1 == d2 or ndim < 2:
        raise ValueError(
            f"diagonal: dim1 and dim2 must be two different dims of a tensor with at least 2 "
            f"dims, got dim1={dim1}, dim2={dim2} for shape {input.shape}"
        )
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (over the new dims ``dim1``, ``dim2``) with the last dim of input on their
    ``offset`` diagonal, zeros elsewhere."""
    ndim = _check(input, "diag_embed").ndim + 1
    (d1,) = normalize_dims(dim1, ndim, "diag_embed")
    (d2,) = normalize_dims(dim2, ndim, "diag_embed")
    if d1 == d2 or ndim < 2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return DiagEmbed.apply(input, offset=int(offset), dim1=d1, dim2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input becomes a square matrix with it on the ``diagonal``; a 2-D input gives its
    ``diagonal`` as a 1-D tensor."""
    ndim = _check(input, "diag").ndim
    if ndim == 1:
        return DiagEmbed.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    if ndim == 2:
        return Diagonal.apply(input, offset=int(diagonal), dim1=0, dim2=1)
    raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {input.shape}")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on the ``offset`` diagonal of a square matrix."""
    from neuronet.ops.shape import reshape

    flat = reshape(_check(input, "diagflat"), -1)
    return DiagEmbed.apply(flat, offset=int(offset), dim1=0, dim2=1)


class BlockDiag(Function):
    """y = the 2-D inputs as blocks on the diagonal of a zero matrix (0-d and 1-D inputs count as
    (1, 1) and (1, n) blocks);  dL/dx_k = the block of dL/dy where x_k sits.
    Saves: the block positions."""

    @staticmethod
    def forward(ctx, *xs):
        blocks = [np.reshape(x, (1, -1)) if x.ndim < 2 else x for x in xs]
        rows = sum(b.shape[0] for b in blocks)
        cols = sum(b.shape[1] for b in blocks)
        dtype = np.result_type(*xs) if xs else np.float32
        y = np.zeros((rows, cols), dtype=dtype)
        places = []
        r = c = 0
        for b in blocks:
            y[r : r + b.shape[0], c : c + b.shape[1]] = b
            places.append((slice(r, r + b.shape[0]), slice(c, c + b.shape[1])))
            r += b.shape[0]
            c += b.shape[1]
        ctx.meta = (places, [x.shape for x in xs])
        return y

    @staticmethod
    def backward(ctx, grad_out):
        places, shapes = ctx.meta
        return tuple(
            grad_out[p].reshape(s) if need else None
            for p, s, need in zip(places, shapes, ctx.needs_input_grad)
        )


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the given tensors (each at most 2-D)."""
    for i, t in enumerate(tensors):
        if _check(t, "block_diag").ndim > 2:
            raise ValueError(f"block_diag: input {i} has {t.ndim} dims; each must have at most 2")
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    if floats and len({t.dtype for t in tensors}) > 1:
        from neuronet.ops.shape import cast

        target = np.result_type(*floats)
        tensors = [cast(t, target) for t in tensors]
    return BlockDiag.apply(*tensors)


__all__ = ["diagonal", "diag", "diag_embed", "diagflat", "block_diag"]
