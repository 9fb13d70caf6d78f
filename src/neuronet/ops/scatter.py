"""Writing into a copy at indexed positions: scatter, scatter_reduce, index_add, index_copy,
index_fill, index_put, masked_scatter, put.

``scatter(input, dim, index, src)`` writes src[i][j] to out[index[i][j]][j] for dim = 0 (the
index replaces the coordinate along dim, as ``gather`` reads); ``scatter_reduce`` combines
instead of overwriting: 'sum', 'prod', 'mean', 'amax' or 'amin', with or without the original
value (``include_self``). Gradients are PyTorch's:
- an overwritten input element gets no gradient; a written source element gets the gradient of
  the place it went to;
- 'sum': each contributor gets the gradient; 'mean': the gradient / the number of contributors;
  'prod': the product of the other contributors (computed without dividing by zero);
- 'amax'/'amin': the gradient is split evenly among the contributors equal to the result.
``scatter(..., reduce='add'|'multiply')`` is scatter_reduce 'sum'/'prod' with the input
included (PyTorch has no gradient for that form; neuronet gives the exact one).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims, unbroadcast
from neuronet.ops.indexing import _flat_index, _in_range, _int_index

_IDENTITY = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}
_UFUNC = {
    "sum": np.add,
    "mean": np.add,
    "prod": np.multiply,
    "amax": np.maximum,
    "amin": np.minimum,
}


class ScatterReduce(Function):
    """y = x with src[i][j] combined into y[index[i][j]][j] (dim 0) by ``reduce`` (or written
    over it, reduce=None).
    dL/dx = dL/dy at untouched positions (and, with include_self, its share at combined ones);
    dL/dsrc[i][j] = the share of dL/dy[index[i][j]][j] due to src[i][j]: all of it ('sum',
    overwrite), / count ('mean'), * the product of the other contributors ('prod'), / the
    number of tied maxima ('amax', 'amin').  Saves: x, index, src, y."""

    @staticmethod
    def forward(ctx, x, index, src, dim=0, reduce=None, include_self=True):
        region = tuple(slice(0, n) for n in index.shape)
        values = src[region].astype(x.dtype, copy=False).ravel()
        flat = _flat_index(x.shape, dim, index).ravel()
        out = x.copy().ravel()
        hit = np.zeros(out.size, dtype=bool)
        hit[flat] = True
        if reduce is None:
            out[flat] = values
        else:
            if not include_self:
                out[hit] = _IDENTITY[reduce]
            _UFUNC[reduce].at(out, flat, values)
            if reduce == "mean":
                count = np.zeros(out.size, dtype=x.dtype)
                np.add.at(count, flat, 1)
                count += include_self
                out = np.where(count > 0, out / np.maximum(count, 1), out).astype(x.dtype)
        y = out.reshape(x.shape)
        ctx.save_for_backward(x, flat, values, hit, y)
        ctx.meta = (src.shape, region, reduce, include_self)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, flat, values, hit, y = ctx.saved
        src_shape, region, reduce, include_self = ctx.meta
        g = grad_out.ravel()
        if reduce is None or reduce == "sum":
            grad_x = g.copy()
            grad_v = g[flat]
        elif reduce == "mean":
            count = np.zeros(g.size, dtype=g.dtype)
            np.add.at(count, flat, 1)
            count += include_self
            g_n = g / np.maximum(count, 1)
            grad_x = g_n
            grad_v = g_n[flat]
        elif reduce == "prod":
            grad_x, grad_v = _prod_grads(x.ravel(), flat, values, y.ravel(), g, include_self)
        else:
            result = y.ravel()
            x_is = (x.ravel() == result).astype(g.dtype)
            v_is = (values == result[flat]).astype(g.dtype)
            count = x_is.copy()
            np.add.at(count, flat, v_is)
            g_n = g / np.where(count == 0, 1, count)
            grad_x = x_is * g_n
            grad_v = v_is * g_n[flat]
        if reduce is None or not include_self:
            grad_x = np.where(hit, 0, grad_x)
        grad_src = None
        if ctx.needs_input_grad[2]:
            grad_src = np.zeros(src_shape, dtype=g.dtype)
            grad_src[region] = grad_v.reshape(grad_src[region].shape)
        return grad_x.reshape(x.shape), None, grad_src


def _prod_grads(x, flat, values, y, g, include_self):
    """d(product)/d(each contributor) = the product of the others, without dividing by 0."""
    zeros = np.zeros(x.size, dtype=g.dtype)
    np.add.at(zeros, flat, values == 0)
    nonzero = np.ones(x.size, dtype=g.dtype)
    np.multiply.at(nonzero, flat, np.where(values == 0, 1, values))
    if include_self:
        zeros += x == 0
        nonzero *= np.where(x == 0, 1, x)

    def others(e, z, p, result, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = result / np.where(e == 0, 1, e)
        return grad * np.where(z == 0, ratio, np.where((z == 1) & (e == 0), p, 0))

    grad_x = others(x, zeros, nonzero, y, g)
    grad_v = others(values, zeros[flat], nonzero[flat], y[flat], g[flat])
    return grad_x, grad_v


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def _scatter_args(op: str, input: Tensor, dim: int, index, src: Tensor) -> tuple:
    shape = input.shape
    index = _int_index(index, op)
    (axis,) = normalize_dims(dim, len(shape), op)
    if index.ndim != len(shape) or src.ndim != len(shape):
        raise ValueError(
            f"{op}: index and src must have as many dims as input, got input {shape}, "
            f"index {index.shape}, src {src.shape}"
        )
    for d, (n, m, k) in enumerate(zip(index.shape, shape, src.shape)):
        if n > k or (d != axis and n > m):
            raise ValueError(
                f"{op}: index shape {index.shape} must not exceed src shape {src.shape}, nor "
                f"input shape {shape} apart from dim {dim}"
            )
    _in_range(index, shape[axis] if shape else 1, axis, op, shape)
    return index.astype(np.int64), axis


def _as_1d(input: Tensor, index, src):
    """0-d input, index and src act as shape (1,), as in PyTorch."""
    from neuronet.ops.shape import reshape

    index = _int_index(index, "scatter").reshape(-1)
    return reshape(input, 1), index, reshape(src, -1) if isinstance(src, Tensor) else src


def scatter(input: Tensor, dim: int, index, src=None, value=None, *, reduce=None) -> Tensor:
    """A copy of input with src (or the number ``value``) written at index along dim;
    ``reduce='add'|'multiply'`` combines instead of overwriting."""
    _check(input, "scatter")
    if src is None and value is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if not isinstance(src, Tensor):
        value = src if value is None else value
        src = Tensor(np.full(_int_index(index, "scatter").shape, value, dtype=input.dtype))
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if input.ndim == 0:
        from neuronet.ops.shape import reshape

        x, idx, s = _as_1d(input, index, src)
        return reshape(scatter(x, 0, idx, s, reduce=reduce), ())
    index, axis = _scatter_args("scatter", input, dim, index, src)
    mode = {None: None, "add": "sum", "multiply": "prod"}[reduce]
    return ScatterReduce.apply(input, index, src, dim=axis, reduce=mode, include_self=True)


def scatter_reduce(
    input: Tensor, dim: int, index, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of input with each src element combined into out[index] along dim by ``reduce``
    ('sum', 'prod', 'mean', 'amax', 'amin'), the input's own value included or not."""
    _check(input, "scatter_reduce")
    _check(src, "scatter_reduce")
    if reduce not in _IDENTITY:
        raise ValueError(
            f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got "
            f"{reduce!r}"
        )
    if input.ndim == 0:
        from neuronet.ops.shape import reshape

        x, idx, s = _as_1d(input, index, src)
        return reshape(scatter_reduce(x, 0, idx, s, reduce, include_self=include_self), ())
    index, axis = _scatter_args("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(
        input, index, src, dim=axis, reduce=reduce, include_self=bool(include_self)
    )


class IndexAlong(Function):
    """Slices of y along dim at a 1-D index, from a copy of x: added (y[idx] += alpha * s),
    copied (y[idx] = s) or filled (y[idx] = value).
    dL/dx = dL/dy, with the copied/filled slices zeroed;
    dL/ds = alpha * dL/dy at the indexed slices (for add and copy);
    dL/dvalue = the sum of dL/dy over the filled slices.  Saves: index."""

    @staticmethod
    def forward(ctx, x, index, source, dim=0, mode="add", alpha=1):
        out = x.copy()
        moved = np.moveaxis(out, dim, 0)
        if mode == "add":
            np.add.at(moved, index, np.moveaxis(source, dim, 0) * alpha)
        elif mode == "copy":
            moved[index] = np.moveaxis(source, dim, 0)
        else:
            moved[index] = source
        ctx.save_for_backward(index)
        ctx.meta = (dim, mode, alpha, source.shape)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved
        dim, mode, alpha, source_shape = ctx.meta
        picked = np.take(grad_out, index, axis=dim)
        grad_x = grad_out
        if mode != "add":
            grad_x = grad_out.copy()
            np.moveaxis(grad_x, dim, 0)[index] = 0
        if mode == "fill":  # each filled slice once, however often the index names it (torch)
            once = np.take(grad_out, np.unique(index), axis=dim)
            grad_source = np.asarray(once.sum(), dtype=grad_out.dtype).reshape(source_shape)
        else:
            grad_source = picked * alpha if alpha != 1 else picked
        return grad_x, None, grad_source if ctx.needs_input_grad[2] else None


def _index_along(op: str, input: Tensor, dim: int, index, source, mode: str, alpha=1) -> Tensor:
    _check(input, op)
    from neuronet.ops.shape import reshape

    index = _int_index(index, op)
    if index.ndim > 1:
        raise ValueError(f"{op}: index must be 0-D or 1-D, got shape {index.shape}")
    index = index.reshape(-1).astype(np.int64)
    if input.ndim == 0:  # a 0-d input acts as shape (1,), as in PyTorch
        if isinstance(source, Tensor) and mode != "fill":
            source = reshape(source, -1)
        return reshape(_index_along(op, reshape(input, 1), 0, index, source, mode, alpha), ())
    (axis,) = normalize_dims(dim, input.ndim, op)
    _in_range(index, input.shape[axis], axis, op, input.shape)
    if mode != "fill":
        _check(source, op)
        if source.ndim == 0:
            source = reshape(source, 1)
        expected = input.shape[:axis] + (index.size,) + input.shape[axis + 1 :]
        if source.shape != expected:
            raise ValueError(
                f"{op}: source must have shape {expected} (input {input.shape} with dim {dim} of "
                f"size len(index) = {index.size}), got {source.shape}"
            )
    return IndexAlong.apply(input, index, source, dim=axis, mode=mode, alpha=alpha)


def index_add(input: Tensor, dim: int, index, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of input with alpha * source's slices added at ``index`` along dim (repeats add)."""
    return _index_along("index_add", input, dim, index, source, "add", alpha)


def index_copy(input: Tensor, dim: int, index, source: Tensor) -> Tensor:
    """A copy of input with source's slices written at ``index`` along dim."""
    return _index_along("index_copy", input, dim, index, source, "copy")


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:
    """A copy of input with the slices at ``index`` along dim set to ``value`` (a number or a
    0-d tensor, which then gets a gradient)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"index_fill: value must be a number or a 0-d tensor, got {value.shape}"
            )
        from neuronet.ops.shape import cast

        value = cast(value, input.dtype)
    else:
        value = Tensor(np.asarray(value, dtype=input.dtype))
    return _index_along("index_fill", input, dim, index, value, "fill")


class IndexPut(Function):
    """y = x with y[indices] = values (or += with accumulate; repeats then add up);
    dL/dx = dL/dy (0 at overwritten positions);  dL/dvalues = dL/dy[indices], summed over the
    dims values was broadcast along.  Saves: the indices."""

    @staticmethod
    def forward(ctx, x, values, indices=(), accumulate=False):
        out = x.copy()
        if accumulate:
            np.add.at(out, indices, values)
        else:
            out[indices] = values
        ctx.meta = (indices, accumulate, values.shape)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        indices, accumulate, values_shape = ctx.meta
        grad_x = grad_out
        if not accumulate:
            grad_x = grad_out.copy()
            grad_x[indices] = 0
        grad_values = None
        if ctx.needs_input_grad[1]:
            grad_values = unbroadcast(np.asarray(grad_out[indices]), values_shape)
        return grad_x, grad_values


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with ``input[indices] = values`` (``+=`` with accumulate=True); indices
    is a tuple of integer or bool tensors, as in advanced indexing."""
    _check(input, "index_put")
    _check(values, "index_put")
    parts = tuple(i.array if isinstance(i, Tensor) else np.asarray(i) for i in indices)
    if values.dtype != input.dtype:
        from neuronet.ops.shape import cast

        values = cast(values, input.dtype)
    return IndexPut.apply(input, values, indices=parts, accumulate=bool(accumulate))


class MaskedScatter(Function):
    """y = x (broadcast with the mask) with the True positions filled, in row-major order, by
    the first elements of source;  dL/dx = dL/dy where not mask (summed over broadcast dims),
    dL/dsource = dL/dy[mask] in the first elements, 0 in the rest.  Saves: mask."""

    @staticmethod
    def forward(ctx, x, mask, source):
        shape = np.broadcast_shapes(x.shape, mask.shape)
        mask = np.broadcast_to(mask, shape)
        out = np.array(np.broadcast_to(x, shape))
        k = int(mask.sum())
        out[mask] = source.ravel()[:k]
        ctx.save_for_backward(mask)
        ctx.shapes = (x.shape, source.shape, k)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (mask,) = ctx.saved
        x_shape, source_shape, k = ctx.shapes
        grad_x = unbroadcast(np.where(mask, 0, grad_out), x_shape)
        grad_source = np.zeros(int(np.prod(source_shape)), dtype=grad_out.dtype)
        grad_source[:k] = grad_out[mask]
        return grad_x, None, grad_source.reshape(source_shape)


def masked_scatter(input: Tensor, mask, source: Tensor) -> Tensor:
    """Copy source's elements, in order, into the positions where ``mask`` is True."""
    _check(input, "masked_scatter")
    _check(source, "masked_scatter")
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"masked_scatter: mask must be a bool tensor, got dtype {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    if int(np.broadcast_to(m, shape).sum()) > source.numel():
        raise ValueError(
            f"masked_scatter: the mask selects {int(np.broadcast_to(m, shape).sum())} positions "
            f"but source has only {source.numel()} elements"
        )
    return MaskedScatter.apply(input, m, source)


def put(input: Tensor, index, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of input with input.flatten()[index] = source (``+=`` with accumulate=True)."""
    from neuronet.ops.shape import reshape

    _check(input, "put")
    idx = _int_index(index, "put").reshape(-1)
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"put: index out of range for a tensor of {n} elements")
    flat = index_put(reshape(input, -1), (idx % max(n, 1),), reshape(source, -1), accumulate)
    return reshape(flat, input.shape)


__all__ = [
    "scatter",
    "scatter_reduce",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "masked_scatter",
    "put",
]
