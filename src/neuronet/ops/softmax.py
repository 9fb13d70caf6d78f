"""Softmax and log-softmax along one dimension: fused, numerically stable, backward by hand.

Both subtract the maximum along ``dim`` before exponentiating (softmax is shift-invariant), so
logits of +-1e4 give exact probabilities instead of inf/NaN. ``dim`` is required: PyTorch's
implicit choice of dimension is deprecated there, and here it is an error.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.backend import as_dtype
from neuronet.ops._util import normalize_dims
from neuronet.ops.shape import cast


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x - max(x, axis): a new array whose largest entry along ``axis`` is 0."""
    if x.size == 0:  # an empty slice: nothing to shift (torch returns an empty result)
        return x.copy()
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return np.subtract(x, m, out=np.empty_like(x))


def log_softmax_array(x: np.ndarray, axis) -> np.ndarray:
    """log_softmax of an array along ``axis`` (a new array); shared with the fused losses."""
    y = _shifted(x, axis)
    y -= np.log(np.exp(y).sum(axis=axis, keepdims=True))
    return y


class Softmax(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m),  m = max_j x_j  (along ``dim``).

    dL/dx = y * (dL/dy - sum(dL/dy * y, dim))

    Saves: y.
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = _shifted(x, dim)
        np.exp(y, out=y)
        y /= y.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        grad_x = grad_out * y
        grad_x -= y * grad_x.sum(axis=ctx.dim, keepdims=True)
        return (grad_x,)


class LogSoftmax(Function):
    """y_i = x_i - m - log(sum_j exp(x_j - m)),  m = max_j x_j  (along ``dim``).

    dL/dx = dL/dy - exp(y) * sum(dL/dy, dim)

    Saves: y.
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = log_softmax_array(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        grad_x = np.exp(y)
        grad_x *= -grad_out.sum(axis=ctx.dim, keepdims=True)
        grad_x += grad_out
        return (grad_x,)


def _prepare(op: str, input: Tensor, dim, dtype) -> tuple:
    if dim is None:
        raise TypeError(
            f"{op}() needs dim: the dimension to normalise over; for class scores of shape "
            f"(N, C) use {op}(x, dim=-1) (or dim=1)"
        )
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a floating-point tensor, got dtype {input.dtype}; "
            "convert with .float() or pass dtype=neuronet.float32"
        )
    (axis,) = normalize_dims(dim, input.ndim, op)
    return input, (axis if input.ndim else None)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """Softmax along ``dim``: non-negative entries that sum to 1 along that dimension.

    Shape: any; output has the input's shape. A 0-d input gives 1.

    Example:
        >>> import neuronet as nt
        >>> nt.softmax(nt.tensor([[1.0, 1.0]]), dim=-1).tolist()
        [[0.5, 0.5]]
    """
    input, axis = _prepare("softmax", input, dim, dtype)
    return Softmax.apply(input, dim=axis)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(input, dim)), computed in one stable step (never log of an underflowed 0).

    Shape: any; output has the input's shape. A 0-d input gives 0.
    """
    input, axis = _prepare("log_softmax", input, dim, dtype)
    return LogSoftmax.apply(input, dim=axis)


__all__ = ["softmax", "log_softmax"]
