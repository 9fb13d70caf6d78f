"""Reductions: sum, mean, prod, logsumexp, norm, max/min, amax/amin, argmax/argmin, all/any.
(Variance and standard deviation are in ``ops/statistics.py``, running sums such as ``cumsum``
in ``ops/cumulative.py``; both use this file's ``_dims``, ``_keep`` and ``_count``.)

``dim`` is an int or a tuple of ints (negative counts from the end); ``dim=None`` (or ``()``)
reduces over every dimension. ``keepdim=True`` keeps each reduced dimension with size 1. Each
backward broadcasts dL/dy back over the reduced dims (``_keep``) and multiplies by dy/dx.

Conventions (PyTorch's):
- ``max(x)``/``min(x)``/``amax``/``amin`` split the gradient evenly between tied extremes;
  ``max(x, dim)`` returns ``(values, indices)`` and sends the gradient to the returned index
  (the first occurrence of the extreme).
- ``norm``'s default ``p='fro'`` is the 2-norm of the flattened input (or over ``dim``).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.unary import _check, _floating, maximum, minimum

max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _dims(input: Tensor, dim, op: str):
    """``dim`` as a sorted tuple of axes, or None for all of them."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        return None
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer, list, tuple)):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    dims = normalize_dims(dim, input.array.ndim, op)
    return None if input.array.ndim == 0 else dims  # a 0-d tensor takes dim 0 or -1, as torch


def _count(shape: tuple, dims) -> int:
    if dims is None:
        return math.prod(shape)
    return math.prod(shape[d] for d in dims)


def _keep(grad: np.ndarray, dims, keepdim: bool, ndim: int) -> np.ndarray:
    """``grad`` of a reduction, reshaped so it broadcasts against the input."""
    if keepdim or ndim == 0:
        return grad
    if dims is None:
        return grad.reshape((1,) * ndim)
    return np.expand_dims(grad, dims)


class Sum(Function):
    """y = sum of x over dims;  dL/dx = dL/dy broadcast back over the summed dims.
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        ctx.meta = (x.shape, dims, keepdim)
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad_out):
        shape, dims, keepdim = ctx.meta
        return (np.broadcast_to(_keep(grad_out, dims, keepdim, len(shape)), shape),)


class Mean(Function):
    """y = sum of x over dims / N (N = number of elements reduced);
    dL/dx = dL/dy / N, broadcast back over the reduced dims.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        ctx.meta = (x.shape, dims, keepdim)
        return np.asarray(np.mean(x, axis=dims, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad_out):
        shape, dims, keepdim = ctx.meta
        grad = _keep(grad_out, dims, keepdim, len(shape)) / _count(shape, dims)
        return (np.broadcast_to(grad, shape),)


class Prod(Function):
    """y = product of x over dims;  dL/dx_i = dL/dy * (product of the other x_j).  Saves: x, y.

    Without zeros that is dL/dy * y / x_i. With exactly one zero in a slice, only the zero gets
    a gradient (the product of the rest); with two or more, the whole slice gets 0.
    """

    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        y = np.asarray(np.prod(x, axis=dims, keepdims=keepdim))
        ctx.save_for_backward(x, y)
        ctx.meta = (dims, keepdim)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        dims, keepdim = ctx.meta
        grad = _keep(grad_out, dims, keepdim, x.ndim)
        is_zero = x == 0
        if not is_zero.any():
            return (grad * (_keep(y, dims, keepdim, x.ndim) / x),)
        zeros = np.sum(is_zero, axis=dims, keepdims=True)
        nonzero_prod = np.prod(np.where(is_zero, 1, x), axis=dims, keepdims=True)
        others = np.where(zeros == 0, _keep(y, dims, keepdim, x.ndim) / np.where(is_zero, 1, x), 0)
        others = np.where(is_zero & (zeros == 1), nonzero_prod, others)
        return (grad * others,)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over dims, computed as m + log(sum(exp(x - m))), m = max(x);
    dL/dx = dL/dy * exp(x - y) (the softmax of x).  Saves: x, y."""

    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        m = np.max(x, axis=dims, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: no inf - inf
        total = np.sum(np.exp(x - m), axis=dims, keepdims=True)
        if total.all():
            y = np.log(total)
        else:  # a slice of -inf only: log(0) = -inf, as torch, without a warning
            with np.errstate(divide="ignore"):
                y = np.log(total)
        y += m
        ctx.save_for_backward(x, y)
        ctx.meta = (dims, keepdim)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, dims))

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        dims, keepdim = ctx.meta
        return (_keep(grad_out, dims, keepdim, x.ndim) * np.exp(x - y),)


class Norm(Function):
    """y = (sum |x|**p)**(1/p) over dims; p = inf: max |x|; p = -inf: min |x|; p = 0: count of
    non-zeros.  dL/dx (as PyTorch's vector_norm):
      p = 2:      dL/dy * x / y                      (0 where y == 0)
      p = 1:      dL/dy * sign(x)
      p = +-inf:  dL/dy * sign(x) / k at the k entries with |x| == y (ties split), 0 elsewhere
      p = 0:      0
      other p:    dL/dy * sign(x) |x|**(p-1) / y**(p-1)   (0 where y == 0, or where x == 0 if p < 1)
    Saves: x, y.
    """

    @staticmethod
    def forward(ctx, x, p=2.0, dims=None, keepdim=False):
        if p == 2:
            y = np.sqrt(np.sum(x * x, axis=dims, keepdims=True))
        elif p == 1:
            y = np.sum(np.abs(x), axis=dims, keepdims=True)
        elif p == math.inf:
            y = np.max(np.abs(x), axis=dims, keepdims=True)
        elif p == -math.inf:
            y = np.min(np.abs(x), axis=dims, keepdims=True)
        elif p == 0:
            y = np.sum(x != 0, axis=dims, keepdims=True).astype(x.dtype)
        else:
            y = np.sum(np.abs(x) ** p, axis=dims, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(x, y)
        ctx.meta = (p, dims, keepdim)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, dims))

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        p, dims, keepdim = ctx.meta
        grad = _keep(grad_out, dims, keepdim, x.ndim)
        if p == 0:
            return (np.zeros_like(x),)
        if p == 1:
            return (np.sign(x) * grad,)
        nonzero_y = np.where(y == 0, 1, y)  # where y == 0 the gradient is 0 (as torch)
        if p == 2:
            return (grad * np.where(y == 0, 0, x / nonzero_y),)
        abs_x = np.abs(x)
        if math.isinf(p):
            hit = (abs_x == y) | np.isnan(abs_x)
            count = np.sum(hit, axis=dims, keepdims=True, dtype=x.dtype)
            return (np.sign(x) * (grad / count) * hit,)
        if p < 1:
            powered = np.where(x == 0, 0, np.where(x == 0, 1, abs_x) ** (p - 1))
            return (np.sign(x) * powered * grad * y ** (1 - p),)
        scale = np.where(y == 0, 0, grad / nonzero_y ** (p - 1))
        return (np.sign(x) * abs_x ** (p - 1) * scale,)


class Amax(Function):
    """y = max (or min) of x over dims;
    dL/dx = dL/dy / k at the k entries equal to y (ties split evenly), 0 elsewhere.
    Where y is NaN the gradient goes to the NaN entries.  Saves: x, y."""

    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False, largest=True):
        reduce = np.max if largest else np.min
        y = reduce(x, axis=dims, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.meta = (dims, keepdim)
        return y if keepdim else y.reshape(_reduced_shape(x.shape, dims))

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        dims, keepdim = ctx.meta
        hit = x == y
        if x.dtype.kind == "f":
            hit |= np.isnan(x) & np.isnan(y)
        count = np.sum(hit, axis=dims, keepdims=True, dtype=x.dtype)
        return ((_keep(grad_out, dims, keepdim, x.ndim) / count) * hit,)


class MaxDim(Function):
    """values, indices = max (or min) of x along one dim, indices of the first occurrence;
    dL/dx = dL/dvalues at the returned index, 0 elsewhere.  Saves: indices."""

    @staticmethod
    def forward(ctx, x, dim=0, keepdim=False, largest=True):
        find = np.argmax if largest else np.argmin
        indices = find(x, axis=dim, keepdims=True)
        values = np.take_along_axis(x, indices, axis=dim)
        ctx.save_for_backward(indices)
        ctx.meta = (x.shape, dim, keepdim)
        if not keepdim:
            values = np.squeeze(values, axis=dim)
            indices = np.squeeze(indices, axis=dim)
        return values, indices.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved
        shape, dim, keepdim = ctx.meta
        grad = np.zeros(shape, dtype=grad_values.dtype)
        values = grad_values if keepdim else np.expand_dims(grad_values, dim)
        np.put_along_axis(grad, indices, values, axis=dim)
        return (grad,)


def _reduced_shape(shape: tuple, dims) -> tuple:
    if dims is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _cast(input: Tensor, dtype) -> Tensor:
    if dtype is None:
        return input
    from neuronet.ops.shape import cast

    return cast(input, dtype)


def _not_empty(input: Tensor, op: str, dims) -> None:
    if input.array.size == 0 and dims is None:
        raise RuntimeError(
            f"{op}(): cannot reduce an empty tensor (shape {input.shape}) without an identity; "
            "give a dim whose size is non-zero"
        )


# ---- public functions --------------------------------------------------------------------
def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dims by default). Integer and bool inputs give int64."""
    _check(input, "sum")
    input = _cast(input, dtype)
    return Sum.apply(input, dims=_dims(input, dim, "sum"), keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Arithmetic mean over ``dim`` (all dims by default); needs a floating input."""
    _check(input, "mean")
    input = _cast(input, dtype)
    if input.array.dtype.kind != "f":
        raise TypeError(
            "mean(): could not infer output dtype. Input dtype must be a floating point dtype, "
            f"got {input.dtype}; convert with .float() first"
        )
    return Mean.apply(input, dims=_dims(input, dim, "mean"), keepdim=keepdim)


def prod(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over ``dim`` (all dims by default); zeros get the correct gradient."""
    _check(input, "prod")
    input = _cast(input, dtype)
    return Prod.apply(input, dims=_dims(input, dim, "prod"), keepdim=keepdim)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over ``dim``, stable for large inputs (max subtracted first)."""
    x = _floating(input, "logsumexp")
    return LogSumExp.apply(x, dims=_dims(x, dim, "logsumexp"), keepdim=keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default).

    ``p`` may be 'fro' (same as 2), a float (1, 2, 3.5, 0.5 ...), inf or -inf, 0 (count of
    non-zeros), or 'nuc' (the nuclear norm, the sum of singular values over two dims).
    """
    x = _floating(_cast(_check(input, "norm"), dtype), "norm")
    if isinstance(p, str) and p == "nuc":  # a matrix norm: the sum of singular values
        from neuronet.ops.linalg import nuclear_norm

        return nuclear_norm(x, (-2, -1) if dim is None else tuple(dim), keepdim)
    if p == "fro" or p is None:
        p = 2.0
    if isinstance(p, str) or isinstance(p, bool) or not isinstance(p, (int, float, np.number)):
        raise ValueError(f"norm: p must be 'fro', 'nuc' or a number (1, 2, inf, ...), got {p!r}")
    return Norm.apply(x, p=float(p), dims=_dims(x, dim, "norm"), keepdim=keepdim)


def _extreme(input, dim, keepdim: bool, largest: bool, op: str):
    _check(input, op)
    if isinstance(dim, Tensor):  # torch.max(a, b) is the element-wise maximum
        return maximum(input, dim) if largest else minimum(input, dim)
    if dim is None:
        _not_empty(input, op, None)
        return Amax.apply(input, dims=None, keepdim=False, largest=largest)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int (use amax/amin for several dims), got {dim!r}")
    (axis,) = normalize_dims(dim, input.array.ndim, op)
    result = max_result if largest else min_result
    if input.array.ndim == 0:
        return result(Sum.apply(input), Tensor(np.zeros((), dtype=np.int64)))
    if input.array.shape[axis] == 0:
        raise IndexError(f"{op}(): cannot take the {op} of an empty dimension {dim}")
    values, indices = MaxDim.apply(input, dim=axis, keepdim=keepdim, largest=largest)
    return result(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest element (0-d tensor; tied maxima share the gradient), or with ``dim`` the
    named tuple ``(values, indices)`` along it, or with a tensor ``max(a, b)`` = maximum(a, b).
    """
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest element, ``(values, indices)`` along ``dim``, or minimum(a, b)."""
    return _extreme(input, dim, keepdim, False, "min")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (int or tuple; all dims by default); ties split the gradient."""
    _check(input, "amax")
    dims = _dims(input, dim, "amax")
    _not_empty(input, "amax", dims)
    return Amax.apply(input, dims=dims, keepdim=keepdim, largest=True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (int or tuple; all dims by default); ties split the gradient."""
    _check(input, "amin")
    dims = _dims(input, dim, "amin")
    _not_empty(input, "amin", dims)
    return Amax.apply(input, dims=dims, keepdim=keepdim, largest=False)


def _arg(input, dim, keepdim: bool, largest: bool, op: str) -> Tensor:
    _check(input, op)
    _not_empty(input, op, None)
    find = np.argmax if largest else np.argmin
    if dim is None:
        index = np.asarray(find(input.array), dtype=np.int64)
        return Tensor(index.reshape((1,) * input.array.ndim) if keepdim else index)
    (axis,) = normalize_dims(dim, input.array.ndim, op)
    if input.array.ndim == 0:
        return Tensor(np.zeros((), dtype=np.int64))
    return Tensor(find(input.array, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (of the flattened input without ``dim``); first on ties."""
    return _arg(input, dim, keepdim, True, "argmax")


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (of the flattened input without ``dim``); first on ties."""
    return _arg(input, dim, keepdim, False, "argmin")


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` is non-zero (a bool tensor, no gradient)."""
    _check(input, "all")
    dims = _dims(input, dim, "all")
    return Tensor(np.asarray(np.all(input.array, axis=dims, keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` is non-zero (a bool tensor, no gradient)."""
    _check(input, "any")
    dims = _dims(input, dim, "any")
    return Tensor(np.asarray(np.any(input.array, axis=dims, keepdims=keepdim)))


__all__ = [
    "sum",
    "mean",
    "prod",
    "logsumexp",
    "norm",
    "max",
    "min",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "all",
    "any",
]
