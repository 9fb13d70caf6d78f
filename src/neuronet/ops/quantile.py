"""Quantiles: quantile and nanquantile.

The q-quantile of n sorted values v_0 <= ... <= v_(n-1) sits at rank r = q (n - 1); between the
neighbours lo = floor(r) and hi = ceil(r) the ``interpolation`` picks
    'linear'    v_lo + (r - lo) (v_hi - v_lo)      (the default)
    'lower'     v_lo
    'higher'    v_hi
    'nearest'   v_round(r)  (ties to even, as PyTorch)
    'midpoint'  (v_lo + v_hi) / 2
The values are read with ``gather`` from a sort and combined with arithmetic, so the gradient
goes to the elements at ranks lo and hi with the interpolation weights, and (for 'linear') to a
tensor q as (v_hi - v_lo) (n - 1), PyTorch's gradients. ``quantile``
gives NaN for a slice holding a NaN; ``nanquantile`` ignores NaNs (n counts the others).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import normalize_dims
from neuronet.ops.arithmetic import add, mul, sub
from neuronet.ops.indexing import gather
from neuronet.ops.shape import reshape, squeeze, unsqueeze
from neuronet.ops.sorting import _order

_MODES = ("linear", "lower", "higher", "nearest", "midpoint")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op) -> Tensor:
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point Tensor")
    if interpolation not in _MODES:
        raise ValueError(f"{op}: interpolation must be one of {_MODES}, got {interpolation!r}")
    scalar_q = not isinstance(q, Tensor)
    qs = np.asarray(q if scalar_q else q.array, dtype=input.dtype).reshape(-1)
    if qs.ndim > 1 or (qs.size and (qs.min() < 0 or qs.max() > 1)):
        raise ValueError(f"{op}: q must be in [0, 1], got {q}")
    if (not scalar_q) and q.ndim > 1:
        raise ValueError(f"{op}: q must be a scalar or a 1-D tensor, got shape {q.shape}")
    x = input
    if dim is None:
        x = reshape(input, -1)
        axis = 0
    else:
        (axis,) = normalize_dims(dim, max(input.ndim, 1), op)
        if input.ndim == 0:
            x = reshape(input, 1)
    n = x.shape[axis]
    if n == 0:
        raise IndexError(f"{op}(): cannot take a quantile of an empty dim (shape {input.shape})")
    arr = x.array
    order = _order(arr, axis, False)  # NaN last
    nan_count = np.sum(np.isnan(arr), axis=axis, keepdims=True)
    valid = n - nan_count if ignore_nan else np.full_like(nan_count, n)
    results = []
    span = (np.maximum(valid, 1) - 1).astype(arr.dtype)
    for k, qv in enumerate(qs):
        rank = qv * span
        lo = np.floor(rank).astype(np.int64)
        hi = np.ceil(rank).astype(np.int64)
        if interpolation == "nearest":
            lo = hi = np.rint(rank).astype(np.int64)
        elif interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        v_lo = gather(x, axis, np.take_along_axis(order, lo, axis))
        v_hi = gather(x, axis, np.take_along_axis(order, hi, axis))
        if interpolation == "linear":
            # weight = q (n - 1) - lo, differentiable in a tensor q (as PyTorch)
            if scalar_q:
                weight = Tensor((rank - lo).astype(arr.dtype))
            else:
                q_k = q[k] if q.ndim else q
                weight = sub(mul(q_k, Tensor(span)), Tensor(lo.astype(arr.dtype)))
            value = add(v_lo, mul(sub(v_hi, v_lo), weight))
        elif interpolation == "midpoint":
            value = mul(add(v_lo, v_hi), 0.5)
        else:
            value = v_lo
        bad = (valid == 0) if ignore_nan else (nan_count > 0)
        if bad.any():  # all NaN (nanquantile) or any NaN (quantile): NaN, no gradient
            from neuronet.ops.indexing import where

            value = where(Tensor(bad), Tensor(np.asarray(np.nan, dtype=arr.dtype)), value)
        results.append(value)
    out = results[0] if scalar_q else _stack(results)
    shift = 0 if scalar_q else 1
    if not keepdim:
        out = squeeze(out, axis + shift)
    elif dim is None:
        out = reshape(out, out.shape[:shift] + (1,) * input.ndim)
    elif input.ndim == 0:
        out = squeeze(out, axis + shift)
    return out


def _stack(values: list) -> Tensor:
    from neuronet.ops.joining import cat

    return cat([unsqueeze(v, 0) for v in values], 0)


def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation="linear"):
    """The q-th quantiles (q a number or a 1-D tensor in [0, 1]) along ``dim`` (all elements
    by default); a tensor q adds a leading dim. See the module docstring.

    Example:
        >>> import neuronet as nt
        >>> nt.quantile(nt.tensor([1.0, 2.0, 3.0, 4.0]), 0.5).item()
        2.5
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *, interpolation="linear"):
    """``quantile`` ignoring NaN values."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


__all__ = ["quantile", "nanquantile"]
