"""Resizing: ``interpolate`` (modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and the aliases upsample, upsample_nearest, upsample_bilinear.

Every mode is separable: along each spatial axis, output position o reads a few input positions
i_k(o) with weights w_k(o), and an n-d resize applies the 1-d maps one axis after the other:

    y[..., o] = sum_k w_k(o) * x[..., i_k(o)]        dL/dx[..., i] = sum over (o, k) with
                                                      i_k(o) = i of w_k(o) * dL/dy[..., o]

Each 1-d map is a small (out, in) matrix, applied with one matrix product per axis.

Source coordinates are PyTorch's. With ``scale`` = in / out, or 1 / scale_factor when a
scale_factor is given and not recomputed:
- nearest:        i = min(floor(o * scale), in - 1)             (computed in float32, as torch)
- nearest-exact:  i = min(floor((o + 0.5) * scale), in - 1)
- linear family:  s = scale * (o + 0.5) - 0.5, clamped at 0 (align_corners=False), or
                  s = o * (in - 1) / (out - 1) (align_corners=True); taps floor(s) and the next,
                  weights 1 - t and t, t = s - floor(s)
- bicubic:        s as for linear but not clamped; taps floor(s) - 1 .. floor(s) + 2 (clamped
                  to the edge) with Keys' cubic convolution weights, a = -0.75
- area:           the adaptive-average-pooling bins [floor(o in / out), ceil((o + 1) in / out))
The output size is ``size``, or floor(in * scale_factor). ``recompute_scale_factor=True`` uses
that size to recompute the scale (in / out) instead of 1 / scale_factor; PyTorch's default
(None) keeps 1 / scale_factor, and 'area' always recomputes.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
CUBIC_A = -0.75


def _scale(n_in: int, n_out: int, factor, align_corners: bool) -> float:
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    return 1.0 / factor if factor is not None and factor > 0 else n_in / n_out


def _nearest(n_in: int, n_out: int, factor, exact: bool) -> tuple:
    o = np.arange(n_out)
    if not exact and n_out == n_in:
        idx = o
    elif not exact and n_out == 2 * n_in:
        idx = o >> 1
    else:
        scale = np.float32(1.0 / factor if factor is not None and factor > 0 else n_in / n_out)
        pos = (o.astype(np.float32) + np.float32(0.5 if exact else 0.0)) * scale
        idx = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    return idx[:, None], np.ones((n_out, 1))


def _linear(n_in: int, n_out: int, factor, align_corners: bool) -> tuple:
    scale = _scale(n_in, n_out, factor, align_corners)
    o = np.arange(n_out, dtype=np.float64)
    src = o * scale if align_corners else np.maximum(scale * (o + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0, 0.0, 1.0)
    i1 = i0 + (i0 < n_in - 1)
    return np.stack([i0, i1], axis=1), np.stack([1 - t, t], axis=1)


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    a = CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


def _cubic(n_in: int, n_out: int, factor, align_corners: bool) -> tuple:
    scale = _scale(n_in, n_out, factor, align_corners)
    o = np.arange(n_out, dtype=np.float64)
    src = o * scale if align_corners else scale * (o + 0.5) - 0.5
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - i0, 0.0, 1.0)
    idx = np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1)
    return idx, _cubic_weights(t)


def _area(n_in: int, n_out: int) -> tuple:
    i = np.arange(n_out)
    start = (i * n_in) // n_out
    end = -((-(i + 1) * n_in) // n_out)
    width = int((end - start).max()) if n_out else 1
    idx = np.minimum(start[:, None] + np.arange(width), n_in - 1)
    inside = (start[:, None] + np.arange(width)) < end[:, None]
    return idx, inside / (end - start)[:, None]


def _taps(mode: str, n_in: int, n_out: int, factor, align_corners: bool) -> tuple:
    """(indices, weights), each (n_out, K): the input positions and weights of each output."""
    if mode in ("nearest", "nearest-exact"):
        return _nearest(n_in, n_out, factor, mode == "nearest-exact")
    if mode == "area":
        return _area(n_in, n_out)
    if mode == "bicubic":
        return _cubic(n_in, n_out, factor, align_corners)
    return _linear(n_in, n_out, factor, align_corners)


def _matrix(taps: tuple, n_in: int, dtype) -> np.ndarray:
    """The (n_out, n_in) matrix of one axis: row o holds w_k(o) at column i_k(o)."""
    idx, w = taps
    a = np.zeros((idx.shape[0], n_in))
    np.add.at(a, (np.arange(idx.shape[0])[:, None], idx), w)
    return a.astype(dtype)


class Resample(Function):
    """y = x resampled along each spatial axis by its (n_out, n_in) matrix A:
    y[..., o] = sum over i of A[o, i] x[..., i],  A[o, i_k(o)] = w_k(o);
    dL/dx = dL/dy A (the transpose map), axis by axis in reverse order.
    Saves: the matrices.

    A has at most 4 non-zeros per row, but one BLAS product per axis is faster than gathering
    the taps (x16 measured upsampling 64 -> 128 pixels) and has no scatter in its backward.
    """

    @staticmethod
    def forward(ctx, x, taps=()):
        mats = [(axis, _matrix(t, x.shape[axis], x.dtype)) for axis, t in taps]
        ctx.save_for_backward(*[a for _, a in mats])
        ctx.axes = [axis for axis, _ in mats]
        y = x
        for axis, a in mats:
            y = np.moveaxis(np.moveaxis(y, axis, -1) @ a.T, -1, axis)
        return np.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad_out):
        grad = grad_out
        for axis, a in reversed(list(zip(ctx.axes, ctx.saved))):
            grad = np.moveaxis(np.moveaxis(grad, axis, -1) @ a, -1, axis)
        return (np.ascontiguousarray(grad),)


def _per_dim(value, n: int, name: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"interpolate: {name} {tuple(value)} must have {n} entries, one per spatial dim "
                "of the input (N, C, d1, ..., dn)"
            )
        return list(value)
    return [value] * n


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (see the module docstring for each mode's coordinates).

    Example:
        >>> import neuronet as nt
        >>> x = nt.tensor([[[1.0, 2.0]]])
        >>> nt.functional.interpolate(x, scale_factor=2, mode="nearest").tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
        >>> nt.functional.interpolate(x, size=3, mode="linear", align_corners=True).tolist()
        [[[1.0, 1.5, 2.0]]]
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not implemented; resize in steps")
    dims = input.ndim - 2
    if dims not in (1, 2, 3):
        raise ValueError(
            f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {input.shape}"
        )
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != dims:
        raise ValueError(
            f"{op}: mode {mode!r} needs a {_LINEAR_DIMS[mode] + 2}-D input, got shape {input.shape}"
        )
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError(
            f"{op}: align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    align = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size or scale_factor")
    if size is not None and recompute_scale_factor:
        raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
    spatial = input.shape[2:]
    if size is not None:
        out = [int(s) for s in _per_dim(size, dims, "size")]
        factors = [None] * dims
    else:
        factors = [float(f) for f in _per_dim(scale_factor, dims, "scale_factor")]
        out = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        if recompute_scale_factor or mode == "area":
            factors = [None] * dims
    if any(o <= 0 for o in out):
        raise ValueError(
            f"{op}: the output size {tuple(out)} must be positive (input {input.shape})"
        )
    x = input if input.dtype.kind == "f" else Tensor(input.array.astype(np.float32))
    taps = tuple(
        (axis + 2, _taps(mode, n_in, n_out, f, align))
        for axis, (n_in, n_out, f) in enumerate(zip(spatial, out, factors))
    )
    return Resample.apply(x, taps=taps)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The deprecated name of ``interpolate`` (kept, as in PyTorch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]
