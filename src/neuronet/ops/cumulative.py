"""Running (cumulative) ops along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp, and
diff.

The gradient of a running op at x_k gathers every later output that x_k fed:
    cumsum:  y_i = x_1 + ... + x_i       dL/dx_k = dL/dy_k + ... + dL/dy_n (a reversed cumsum)
    cumprod: y_i = x_1 * ... * x_i       dL/dx_k = sum over i >= k of dL/dy_i * y_i / x_k
(cumprod handles zeros explicitly, see ``CumProd``). cummax/cummin return (values, indices); the
index is the latest position holding the running extreme (ties move it forward, a NaN wins), and
the values are read with ``gather``, so each gradient goes to the element that holds the
extreme, as PyTorch. ``diff`` is a composition of slices and a subtraction.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.arithmetic import sub
from neuronet.ops.indexing import gather, getitem
from neuronet.ops.joining import cat
from neuronet.ops.reduction import Sum
from neuronet.ops.shape import cast, reshape
from neuronet.ops.unary import _check as _check_tensor

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _check(input, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    return input


def _reverse_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


class CumSum(Function):
    """y_i = x_1 + ... + x_i along dim;  dL/dx_i = dL/dy_i + ... + dL/dy_n (a reversed
    cumulative sum of the output gradient).  Saves: nothing."""

    @staticmethod
    def forward(ctx, x, dim=0):
        ctx.dim = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad_out):
        return (_reverse_cumsum(grad_out, ctx.dim),)


def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Running sum along ``dim``; integer and bool inputs give int64."""
    _check_tensor(input, "cumsum")  # the reductions' check (its message names the fix)
    if dtype is not None:
        input = cast(input, dtype)
    if input.array.ndim == 0:
        normalize_dims(dim, 0, "cumsum")
        return Sum.apply(input)
    (axis,) = normalize_dims(dim, input.array.ndim, "cumsum")
    return CumSum.apply(input, dim=axis)


class CumProd(Function):
    """y_i = x_1 * ... * x_i along dim;
    dL/dx_k = sum over i >= k of dL/dy_i * (product of x_1..x_i without x_k)
    = reverse_cumsum(dL/dy * y)_k / x_k when the slice has no zero; with zeros, the product
    without x_k is built explicitly up to the first zero (later x get 0).  Saves: x, y."""

    @staticmethod
    def forward(ctx, x, dim=0):
        y = np.cumprod(x, axis=dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        dim = ctx.dim
        if x.size == 0:
            return (np.zeros_like(x),)
        rows_x = np.moveaxis(x, dim, -1).reshape(-1, x.shape[dim])
        rows_y = np.moveaxis(y, dim, -1).reshape(rows_x.shape)
        rows_g = np.moveaxis(grad_out, dim, -1).reshape(rows_x.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = _reverse_cumsum(rows_g * rows_y, -1) / rows_x
        for r in np.flatnonzero((rows_x == 0).any(axis=1)):  # slices with a zero: explicitly
            grad[r] = _with_zero(rows_x[r], rows_y[r], rows_g[r])
        moved_shape = np.moveaxis(x, dim, -1).shape
        return (np.moveaxis(grad.reshape(moved_shape), -1, dim),)


def _with_zero(x: np.ndarray, y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The cumprod gradient of one slice whose first zero is at position k."""
    k = int(np.flatnonzero(x == 0)[0])
    grad = np.zeros_like(x)
    if k:
        grad[:k] = _reverse_cumsum(g[:k] * y[:k], 0) / x[:k]  # y_i for i >= k is 0
    before = y[k - 1] if k else 1.0
    after = np.cumprod(np.concatenate([[1.0], x[k + 1 :]]))  # products of x_(k+1)..x_i
    grad[k] = np.sum(g[k:] * before * after)
    return grad


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``; zeros get their exact gradient."""
    _check(input, "cumprod")
    if dtype is not None:
        input = cast(input, dtype)
    if input.ndim == 0:
        normalize_dims(dim, 0, "cumprod")
        return reshape(CumProd.apply(reshape(input, 1), dim=0), ())
    (axis,) = normalize_dims(dim, input.ndim, "cumprod")
    return CumProd.apply(input, dim=axis)


def _running(input: Tensor, dim: int, largest: bool, op: str):
    _check(input, op)
    result = cummax_result if largest else cummin_result
    if input.ndim == 0:
        normalize_dims(dim, 0, op)
        return result(
            reshape(gather(reshape(input, 1), 0, np.zeros(1, np.int64)), ()),
            Tensor(np.zeros((), np.int64)),
        )
    (axis,) = normalize_dims(dim, input.ndim, op)
    x = input.array
    running = (np.maximum if largest else np.minimum).accumulate(x, axis=axis)
    positions = np.arange(x.shape[axis]).reshape([-1 if d == axis else 1 for d in range(x.ndim)])
    holds = (x == running) | np.isnan(x)
    index = np.maximum.accumulate(np.where(holds, positions, -1), axis=axis).astype(np.int64)
    return result(gather(input, axis, index), Tensor(index))


def cummax(input: Tensor, dim: int):
    """(values, indices): the running maximum along ``dim`` and where it is."""
    return _running(input, dim, True, "cummax")


def cummin(input: Tensor, dim: int):
    """(values, indices): the running minimum along ``dim`` and where it is."""
    return _running(input, dim, False, "cummin")


def _reverse_logcumsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    return np.flip(np.logaddexp.accumulate(np.flip(a, axis), axis=axis), axis)


class LogCumSumExp(Function):
    """y_i = log(exp(x_1) + ... + exp(x_i)) along dim (a running logaddexp, stable);
    dL/dx_k = sum over i >= k of dL/dy_i * exp(x_k - y_i), computed in log space for the
    positive and negative parts of dL/dy separately (no overflow), in float64 (float32 lost
    ~1e-3 of the gradient in the running log-sums).  Saves: x, y."""

    @staticmethod
    def forward(ctx, x, dim=0):
        y = np.logaddexp.accumulate(x, axis=dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, y = ctx.saved
        dim = ctx.dim
        dtype = x.dtype
        x, y, grad_out = (a.astype(np.float64) for a in (x, y, grad_out))  # float32 loses ~1e-3
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_pos = np.log(np.where(grad_out > 0, grad_out, 0)) - y
            log_neg = np.log(np.where(grad_out < 0, -grad_out, 0)) - y
            pos = np.exp(_reverse_logcumsumexp(log_pos, dim) + x)
            neg = np.exp(_reverse_logcumsumexp(log_neg, dim) + x)
        return ((pos - neg).astype(dtype),)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, without overflow."""
    _check(input, "logcumsumexp")
    if input.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got {input.dtype}")
    if input.ndim == 0:
        normalize_dims(dim, 0, "logcumsumexp")
        return reshape(LogCumSumExp.apply(reshape(input, 1), dim=0), ())
    (axis,) = normalize_dims(dim, input.ndim, "logcumsumexp")
    return LogCumSumExp.apply(input, dim=axis)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference out[i] = x[i + 1] - x[i] along ``dim`` (applied n times),
    after joining ``prepend`` and ``append`` to the input along that dim.

    Example:
        >>> import neuronet as nt
        >>> nt.diff(nt.tensor([1, 4, 9, 16])).tolist()
        [3, 5, 7]
    """
    _check(input, "diff")
    if n == 0:
        return input  # prepend and append are not joined either (PyTorch)
    if input.ndim == 0:
        raise ValueError("diff: expected a tensor with at least 1 dim, got a 0-d tensor")
    (axis,) = normalize_dims(dim, input.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    parts = [
        p if p.ndim else reshape(p, tuple(input.shape[:axis]) + (1,) + input.shape[axis + 1 :])
        for p in parts
    ]
    x = cat(parts, axis) if len(parts) > 1 else input
    for _ in range(n):
        if x.shape[axis] == 0:
            break
        head = [slice(None)] * x.ndim
        tail = [slice(None)] * x.ndim
        head[axis] = slice(1, None)
        tail[axis] = slice(None, -1)
        if x.dtype == np.bool_:
            x = Tensor(x.array[tuple(head)] != x.array[tuple(tail)])
        else:
            x = sub(getitem(x, tuple(head)), getitem(x, tuple(tail)))
    return x


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"]
