"""Paired and NaN-aware reductions: std_mean, var_mean, aminmax, nansum, nanmean.

All are compositions of the reductions in ``reduction.py`` (and ``where``), so their gradients
are exactly those of the parts: nansum and nanmean give 0 to NaN elements, aminmax splits the
gradient evenly among tied extremes (PyTorch's amin/amax rule).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops.arithmetic import div
from neuronet.ops.indexing import where
from neuronet.ops.reduction import _correction, amax, amin, mean, std, var
from neuronet.ops.reduction import sum as _sum

aminmax_result = namedtuple("aminmax", ["min", "max"])


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


__all__ = ["std_mean", "var_mean", "aminmax", "nansum", "nanmean"]
