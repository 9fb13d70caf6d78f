"""Statistics: var, std, their paired forms var_mean and std_mean; and the paired and NaN-aware
reductions aminmax, nansum, nanmean.

Over the N elements reduced (``dim`` and ``keepdim`` as in ``reduction.py``):

    var:  y = sum((x - mean)**2) / (N - correction)      dL/dx = dL/dy * 2 (x - mean) / (N - c)
    std:  y = sqrt(var(x))                                dL/dx = dL/dy * (x - mean) / ((N - c) y)

Conventions (PyTorch's): the default is the unbiased estimate, correction=1 (NumPy's
``var``/``std`` use ddof=0); ``unbiased=False`` is the same as ``correction=0``; N - correction
<= 0 gives inf (NaN for a constant slice) without a warning; std's gradient is 0 where std == 0.

The rest are compositions of the reductions in ``reduction.py`` (and ``where``), so their
gradients are exactly those of the parts: nansum and nanmean give 0 to NaN elements, aminmax
splits the gradient evenly among tied extremes (PyTorch's amin/amax rule).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.arithmetic import div
from neuronet.ops.indexing import where
from neuronet.ops.reduction import _count, _dims, _keep, amax, amin, mean
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.unary import _floating

aminmax_result = namedtuple("aminmax", ["min", "max"])


def _undefined(a: np.ndarray) -> np.ndarray:
    """a / 0 without a warning: inf where a != 0, NaN where a == 0 (N - correction <= 0)."""
    return np.where(a == 0, np.nan, np.copysign(np.inf, a)).astype(a.dtype)


def _variance(x, dims, correction, keepdim) -> tuple:
    """(x - mean, N - correction floored at 0, the variance) over ``dims``, shared by Var and
    Std; the variance is inf/NaN where N - correction <= 0."""
    centered = x - np.mean(x, axis=dims, keepdims=True)
    dof = max(_count(x.shape, dims) - correction, 0)
    squares = np.sum(centered * centered, axis=dims, keepdims=keepdim)
    return centered, dof, np.asarray(squares / dof if dof else _undefined(squares))


class Var(Function):
    """y = sum((x - mean)**2) / (N - correction);
    dL/dx = dL/dy * 2 (x - mean) / (N - correction).  Saves: x - mean."""

    @staticmethod
    def forward(ctx, x, dims=None, correction=1, keepdim=False):
        centered, dof, y = _variance(x, dims, correction, keepdim)
        ctx.save_for_backward(centered)
        ctx.meta = (dims, keepdim, dof)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (centered,) = ctx.saved
        dims, keepdim, dof = ctx.meta
        grad = _keep(grad_out, dims, keepdim, centered.ndim)
        if not dof:
            return (_undefined(grad * centered),)
        return (grad * centered * (2 / dof),)


class Std(Function):
    """y = sqrt(var(x));  dL/dx = dL/dy * (x - mean) / ((N - correction) * y), and 0 where
    y == 0 (as PyTorch).  Saves: x - mean, y."""

    @staticmethod
    def forward(ctx, x, dims=None, correction=1, keepdim=False):
        centered, dof, variance = _variance(x, dims, correction, keepdim)
        y = np.asarray(np.sqrt(variance))
        ctx.save_for_backward(centered, y)
        ctx.meta = (dims, keepdim, dof)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        centered, y = ctx.saved
        dims, keepdim, dof = ctx.meta
        y = _keep(y, dims, keepdim, centered.ndim)
        grad = _keep(grad_out, dims, keepdim, centered.ndim)
        grad_var = grad / np.where(y == 0, 1, y)
        grad_var = np.where(y == 0, 0, grad_var)  # torch: no gradient where std == 0
        if not dof:
            return (_undefined(grad_var * centered),)
        return (grad_var * centered / dof,)


def _correction(op: str, dim, unbiased, correction):
    if isinstance(dim, bool):  # var(x, False): the legacy (input, unbiased) form
        if unbiased is not None:
            raise TypeError(f"{op}: got unbiased twice (as dim={dim} and unbiased={unbiased})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give either unbiased or correction, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, correction=None) -> Tensor:
    """Variance over ``dim``: sum((x - mean)**2) / (N - correction).

    PyTorch's default is the unbiased estimate (correction=1); NumPy's ``var`` uses ddof=0.
    ``unbiased=False`` means correction=0.
    """
    x = _floating(input, "var")
    dim, correction = _correction("var", dim, unbiased, correction)
    dims = _dims(x, dim, "var")
    return Var.apply(x, dims=dims, correction=correction, keepdim=keepdim)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, correction=None) -> Tensor:
    """Standard deviation over ``dim``: sqrt(var(input, dim, correction=...)); unbiased by
    default as PyTorch (NumPy's ``std`` uses ddof=0)."""
    x = _floating(input, "std")
    dim, correction = _correction("std", dim, unbiased, correction)
    dims = _dims(x, dim, "std")
    return Std.apply(x, dims=dims, correction=correction, keepdim=keepdim)


def _moments(fn, op: str, input, dim, unbiased, keepdim, correction) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    dim, correction = _correction(op, dim, unbiased, correction)
    spread = fn(input, dim, keepdim=keepdim, correction=correction)
    return spread, mean(input, dim, keepdim=keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over ``dim`` in one call (std unbiased by default, as ``std``)."""
    return _moments(std, "std_mean", input, dim, unbiased, keepdim, correction)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over ``dim`` in one call (var unbiased by default, as ``var``)."""
    return _moments(var, "var_mean", input, dim, unbiased, keepdim, correction)


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over ``dim`` (all elements by default) as a named tuple."""
    dims = () if dim is None else dim
    return aminmax_result(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _without_nan(input: Tensor, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        return input
    zero = Tensor(np.zeros((), dtype=input.dtype))
    return where(Tensor(np.isnan(input.array)), zero, input)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over ``dim`` treating NaN as 0 (NaN elements get no gradient)."""
    return _sum(_without_nan(input, "nansum"), dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` of the non-NaN elements (NaN where a slice has none)."""
    total = nansum(input, dim, keepdim, dtype=dtype)
    count = _sum(Tensor(~np.isnan(input.array)), dim, keepdim)
    return div(total, Tensor(count.array.astype(total.dtype)))


__all__ = ["var", "std", "std_mean", "var_mean", "aminmax", "nansum", "nanmean"]
