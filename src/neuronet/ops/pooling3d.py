"""3-d pooling: max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d.

The window of output voxel p = (od, oh, ow) and kernel tap t = (a, b, c) reads the padded
input at p * stride - padding + t * dilation (per axis); every op loops over the kernel taps,
each tap one strided view of all windows. Conventions are those of the 2-d ops (PyTorch's):
stride defaults to the kernel size; max pooling pads with -inf, sends the gradient to the first
maximum of a window (a NaN wins) and returns flat indices d*H*W + h*W + w within each input
volume; average pooling counts zero padding in the divisor unless count_include_pad=False;
ceil_mode rounds the output size up, but no window starts in the right padding. Adaptive pools
split each axis of length L into n bins [floor(i L / n), ceil((i + 1) L / n)); the average is
separable and runs as ``interpolate``'s 'area' resampling.
"""

from __future__ import annotations

import itertools

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._empty import EmptyResult
from neuronet.ops._util import as_tuple
from neuronet.ops._windows import bin_members
from neuronet.ops.interpolation import Resample, _area
from neuronet.ops.pooling import _pool_size


class _Windows3d:
    """Pooling geometry of one 3-d call."""

    def __init__(self, size, kernel, stride, pads, dilation, out):
        self.size = tuple(size)
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.pads = tuple(pads)
        self.dilation = tuple(dilation)
        self.out = tuple(out)
        # ceil_mode may need cells past the right padding: they are padding too
        self.padded = tuple(
            max(n + 2 * p, (o - 1) * s + d * (k - 1) + 1)
            for n, p, o, s, d, k in zip(size, pads, out, stride, dilation, kernel)
        )

    def pad(self, x: np.ndarray, value) -> np.ndarray:
        out = np.full(x.shape[:2] + self.padded, value, dtype=x.dtype)
        inner = tuple(slice(p, p + n) for p, n in zip(self.pads, self.size))
        out[(slice(None), slice(None)) + inner] = x
        return out

    def unpad(self, grid: np.ndarray) -> np.ndarray:
        inner = tuple(slice(p, p + n) for p, n in zip(self.pads, self.size))
        return np.ascontiguousarray(grid[(slice(None), slice(None)) + inner])

    def taps(self):
        return enumerate(itertools.product(*[range(k) for k in self.kernel]))

    def view(self, grid: np.ndarray, tap) -> np.ndarray:
        index = [slice(None), slice(None)]
        for t, s, d, o in zip(tap, self.stride, self.dilation, self.out):
            index.append(slice(t * d, t * d + (o - 1) * s + 1, s))
        return grid[tuple(index)]


class MaxPool3d(Function):
    """y = max over the window (padding is -inf); first maximum on ties, NaN wins;
    dL/dx = dL/dy added at each window's maximum.  Saves: the winning tap per window."""

    @staticmethod
    def forward(ctx, x, windows=None, return_indices=False):
        padded = windows.pad(x, -np.inf)
        best = arg = None
        for k, tap in windows.taps():
            view = windows.view(padded, tap)
            if best is None:
                best = view.copy()
                arg = np.zeros(best.shape, dtype=np.int32)
                continue
            better = (view > best) | (np.isnan(view) & ~np.isnan(best))
            np.copyto(best, view, where=better)
            np.copyto(arg, k, where=better)
        ctx.save_for_backward(arg)
        ctx.windows = windows
        if not return_indices:
            return best
        indices = _flat_indices(arg, windows)
        ctx.mark_non_differentiable(indices)
        return best, indices

    @staticmethod
    def backward(ctx, grad_out, *unused):
        (arg,) = ctx.saved
        windows = ctx.windows
        grid = np.zeros(arg.shape[:2] + windows.padded, dtype=grad_out.dtype)
        for k, tap in windows.taps():
            view = windows.view(grid, tap)
            np.add(view, grad_out, out=view, where=arg == k)
        return (windows.unpad(grid),)


def _flat_indices(arg: np.ndarray, w: _Windows3d) -> np.ndarray:
    taps = np.array(list(itertools.product(*[range(k) for k in w.kernel])))
    flat = np.zeros(arg.shape, dtype=np.int64)
    for axis in range(3):
        shape = [1] * arg.ndim
        shape[2 + axis] = -1
        start = (np.arange(w.out[axis]) * w.stride[axis] - w.pads[axis]).reshape(shape)
        pos = start + taps[arg, axis] * w.dilation[axis]
        flat = flat * w.size[axis] + pos
    return flat


class AvgPool3d(Function):
    """y = (sum over the window of x_padded (zeros)) / divisor;
    dL/dx = dL/dy / divisor added to every cell of each window.  Saves: the divisor."""

    @staticmethod
    def forward(ctx, x, windows=None, divisor=1.0):
        padded = windows.pad(x, 0)
        total = None
        for _, tap in windows.taps():
            view = windows.view(padded, tap)
            total = view.copy() if total is None else total + view
        ctx.windows = windows
        ctx.divisor = divisor
        return (total / divisor).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        windows = ctx.windows
        share = (grad_out / ctx.divisor).astype(grad_out.dtype)
        grid = np.zeros(grad_out.shape[:2] + windows.padded, dtype=grad_out.dtype)
        for _, tap in windows.taps():
            view = windows.view(grid, tap)
            view += share
        return (windows.unpad(grid),)


def _batched(op: str, input) -> tuple:
    if not isinstance(input, Tensor) or input.ndim not in (4, 5):
        raise ValueError(f"{op}: expected a 4-d (C, D, H, W) or 5-d (N, C, D, H, W) input")
    if 0 in input.shape[-4:]:
        raise ValueError(f"{op}: only the batch may be empty, got shape {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}")
    return (input, True) if input.ndim == 5 else (input.reshape(1, *input.shape), False)


def _windows(op, x, kernel_size, stride, padding, dilation, ceil_mode) -> _Windows3d:
    kernel = as_tuple(kernel_size, 3, "kernel_size", op)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = as_tuple(stride, 3, "stride", op)
    pads = as_tuple(padding, 3, "padding", op)
    dilation = as_tuple(dilation, 3, "dilation", op)
    for name, v in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(v) < 1:
            raise ValueError(f"{op}: {name} must be positive, got {v}")
    for p, k, d in zip(pads, kernel, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{op}: padding should be at most half of the effective kernel size")
    size = x.shape[2:]
    out = tuple(
        _pool_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(size, kernel, stride, pads, dilation)
    )
    if min(out) < 1:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} is too small for {kernel}")
    return _Windows3d(size, kernel, stride, pads, dilation, out)


def _unbatch(y, batched: bool):
    if batched:
        return y
    if isinstance(y, tuple):
        return tuple(t.reshape(*t.shape[1:]) for t in y)
    return y.reshape(*y.shape[1:])


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """The largest value of each (dilated) kD x kH x kW window of (N, C, D, H, W). See
    ``nn.MaxPool3d``."""
    x, batched = _batched("max_pool3d", input)
    w = _windows("max_pool3d", x, kernel_size, stride, padding, dilation, ceil_mode)
    if x.shape[0] == 0:
        y = EmptyResult.apply(x, shape=x.shape[:2] + w.out)
        out = (y, Tensor(np.zeros(y.shape, np.int64))) if return_indices else y
    else:
        out = MaxPool3d.apply(x, windows=w, return_indices=return_indices)
    return _unbatch(out, batched)


def _divisor(w: _Windows3d, count_include_pad: bool, divisor_override, dtype):
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)
    counts = []
    for o, s, p, k, n in zip(w.out, w.stride, w.pads, w.kernel, w.size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start = np.maximum(start, 0)
            end = np.minimum(end, n)
        counts.append(end - start)
    return np.einsum("i,j,k->ijk", *counts).astype(dtype)


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> Tensor:
    """The mean of each kD x kH x kW window of (N, C, D, H, W). See ``nn.AvgPool3d``."""
    op = "avg_pool3d"
    x, batched = _batched(op, input)
    w = _windows(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {divisor_override}")
    divisor = _divisor(w, count_include_pad, divisor_override, x.dtype)
    return _unbatch(AvgPool3d.apply(x, windows=w, divisor=divisor), batched)


def _adaptive_size(op, x, output_size) -> tuple:
    sizes = x.shape[2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 3:
            raise ValueError(f"{op}: output_size must have 3 entries, got {tuple(output_size)}")
        output_size = tuple(n if o is None else o for o, n in zip(output_size, sizes))
    out = as_tuple(output_size, 3, "output_size", op)
    if min(out) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {out}")
    return out


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average over adaptive bins so the output is exactly ``output_size`` (D, H, W); None
    keeps an axis. See ``nn.AdaptiveAvgPool3d``."""
    x, batched = _batched("adaptive_avg_pool3d", input)
    out = _adaptive_size("adaptive_avg_pool3d", x, output_size)
    taps = tuple((axis + 2, _area(n, o)) for axis, (n, o) in enumerate(zip(x.shape[2:], out)))
    return _unbatch(Resample.apply(x, taps=taps), batched)


class AdaptiveMaxPool3d(Function):
    """y = max of x over adaptive bins (first maximum on ties, NaN wins);
    dL/dx = dL/dy added at each bin's maximum (bins may overlap).  Saves: the flat index of
    each maximum."""

    @staticmethod
    def forward(ctx, x, out=(), return_indices=False):
        n, c = x.shape[:2]
        members = [bin_members(s, o) for s, o in zip(x.shape[2:], out)]
        grid = np.ix_(*[m.ravel() for m in members])
        gathered = x[(slice(None), slice(None)) + grid]  # (N, C, OD*KD, OH*KH, OW*KW)
        shape = (n, c) + tuple(v for m in members for v in m.shape)
        gathered = gathered.reshape(shape).transpose(0, 1, 2, 4, 6, 3, 5, 7)
        flat_taps = gathered.reshape((n, c) + tuple(out) + (-1,))
        best = flat_taps[..., 0].copy()
        arg = np.zeros(best.shape, dtype=np.int64)
        for k in range(1, flat_taps.shape[-1]):
            view = flat_taps[..., k]
            better = (view > best) | (np.isnan(view) & ~np.isnan(best))
            np.copyto(best, view, where=better)
            np.copyto(arg, k, where=better)
        widths = [m.shape[1] for m in members]
        a, rest = np.divmod(arg, widths[1] * widths[2])
        b, cc = np.divmod(rest, widths[2])
        d_i = members[0][np.arange(out[0]).reshape(-1, 1, 1), a]
        h_i = members[1][np.arange(out[1]).reshape(1, -1, 1), b]
        w_i = members[2][np.arange(out[2]).reshape(1, 1, -1), cc]
        h_size, w_size = x.shape[3], x.shape[4]
        flat = (d_i * h_size + h_i) * w_size + w_i
        ctx.save_for_backward(flat)
        ctx.shape = x.shape
        if not return_indices:
            return best
        indices = flat.astype(np.int64)
        ctx.mark_non_differentiable(indices)
        return best, indices

    @staticmethod
    def backward(ctx, grad_out, *unused):
        (flat,) = ctx.saved
        n, c = ctx.shape[:2]
        plane = int(np.prod(ctx.shape[2:]))
        base = (np.arange(n * c) * plane).reshape(n, c, 1, 1, 1)
        grad = np.bincount((base + flat).ravel(), grad_out.ravel(), minlength=n * c * plane)
        return (grad.astype(grad_out.dtype).reshape(ctx.shape),)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive bins (see ``adaptive_avg_pool3d``); indices are d*H*W + h*W + w.
    See ``nn.AdaptiveMaxPool3d``."""
    x, batched = _batched("adaptive_max_pool3d", input)
    out = _adaptive_size("adaptive_max_pool3d", x, output_size)
    if x.shape[0] == 0:
        y = EmptyResult.apply(x, shape=x.shape[:2] + out)
        result = (y, Tensor(np.zeros(y.shape, np.int64))) if return_indices else y
    else:
        result = AdaptiveMaxPool3d.apply(x, out=out, return_indices=return_indices)
    return _unbatch(result, batched)


__all__ = ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]
