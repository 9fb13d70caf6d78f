"""Pooling over fixed windows: max_pool1d/2d, avg_pool1d/2d. (Adaptive pooling, whose bins
follow the output size, is in ``ops/adaptive_pooling.py``; 3-d pooling in ``ops/pooling3d.py``.)

A pooling window of output pixel (oh, ow) covers the input pixels

    (oh*sh - ph + i*dh,  ow*sw - pw + j*dw)   for kernel taps 0 <= i < kH, 0 <= j < kW

Every op here loops over the kH*kW kernel taps (never over pixels): tap (i, j) of all windows at
once is one strided view of the padded input, of the output's shape. Conventions are PyTorch's
(docs/semantics.md, "Pooling borders"): stride defaults to the kernel size; max pooling pads
with -inf; average pooling counts zero padding in the divisor unless count_include_pad=False;
ceil_mode rounds the output size up, but a window may not start in the right padding. Max
pooling sends the gradient to the first maximum of a window (in row-major tap order) on ties,
and a NaN in a window wins, as in PyTorch. 1-d ops run the 2-d code with H = 1 (``_batch4d``,
shared with the adaptive pools, as is the input check ``_check_input``).

With numba on (``backend.fast.numba``), max pooling over non-overlapping blocks (stride =
kernel, no padding or dilation) takes ``ops/fast/pooling.py``'s ``CompiledMaxPool``, which reads
each window once.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import as_tuple, shaped
from neuronet.ops._windows import Windows, first_max, first_max_stacked


def _batch4d(x: np.ndarray, spatial: int) -> np.ndarray:
    """(N, C, *sp) or (C, *sp) -> (N, C, H, W) (a view)."""
    if x.ndim == spatial + 1:
        x = x[None]
    return x[:, :, None, :] if spatial == 1 else x


class MaxPool(Function):
    """y = max over the window of x (padding is -inf).

    y[n, c, oh, ow] = max over taps (i, j) of x_pad[n, c, oh*sh + i*dh, ow*sw + j*dw]
    dL/dx[n, c, h, w] = sum over windows whose (first) maximum is x[n, c, h, w] of dL/dy

    Kinks: ties go to the first tap in row-major order; a NaN in a window is the maximum.
    Saves: the winning tap of each window (uint8, or int32 for kernels of over 256 taps).
    """

    @staticmethod
    def forward(ctx, x, spatial, windows, return_indices):
        x4 = _batch4d(x, spatial)
        if windows.blocks():  # contiguous taps: SIMD-friendly, and a max over one axis
            best, arg = first_max_stacked(windows.stacked(x4))
        else:
            padded = windows.pad(x4, -np.inf)
            best, arg = first_max(lambda: windows.taps(padded), windows.kH * windows.kW)
        return max_pool_outputs(ctx, x, spatial, windows, return_indices, best, arg)

    @staticmethod
    def backward(ctx, grad_out, *unused):
        (arg,) = ctx.saved
        windows = ctx.windows
        in_shape, x4_shape = ctx.shapes
        grad_y = grad_out.reshape(arg.shape)
        # disjoint windows: each tap's view is written once, zeros included (mask * grad), unless
        # grad has inf/NaN (0 * inf is NaN), where the masked copy keeps PyTorch's zeros exact
        write = windows.tiles() and bool(np.isfinite(grad_y).all())
        shape = x4_shape[:2] + (windows.Hp, windows.Wp)
        if write and windows.covered():  # every cell gets written: no zero fill needed
            grad_pad = np.empty(shape, dtype=grad_y.dtype)
        else:
            grad_pad = np.zeros(shape, dtype=grad_y.dtype)
        winner = np.empty(arg.shape, dtype=bool)
        for k, view in windows.taps(grad_pad):
            np.equal(arg, k, out=winner)
            if write:
                np.multiply(winner, grad_y, out=view)
            elif windows.tiles():
                np.copyto(view, grad_y, where=winner)
            else:
                np.add(view, grad_y, out=view, where=winner)
        return (shaped(windows.unpad(grad_pad), in_shape),)


class AvgPool(Function):
    """y = mean over the window of x (zero padding).

    y[n, c, oh, ow] = (sum over taps (i, j) of x_pad[n, c, oh*sh + i, ow*sw + j]) / D[oh, ow]
    dL/dx[n, c, h, w] = sum over windows containing (h, w) of dL/dy / D

    D is divisor_override if given; else the window size clipped to the padded input
    (count_include_pad=True) or the number of real input cells in it (False).
    Saves: the divisor (an array over (OH, OW), or a number).
    """

    @staticmethod
    def forward(ctx, x, spatial, windows, divisor):
        x4 = _batch4d(x, spatial)
        padded = windows.pad(x4, 0)
        total = None
        for _, view in windows.taps(padded):
            if total is None:
                total = view.copy()
            else:
                total += view
        total /= divisor
        ctx.divisor = divisor
        ctx.windows = windows
        ctx.shapes = (x.shape, x4.shape)
        return total.reshape(_out_shape(x.shape, spatial, windows))

    @staticmethod
    def backward(ctx, grad_out):
        windows = ctx.windows
        in_shape, x4_shape = ctx.shapes
        grad_y = grad_out.reshape(x4_shape[:2] + (windows.OH, windows.OW)) / ctx.divisor
        shape = x4_shape[:2] + (windows.Hp, windows.Wp)
        grad_pad = (
            np.empty(shape, grad_y.dtype) if windows.covered() else np.zeros(shape, grad_y.dtype)
        )
        tiles = windows.tiles()
        for _, view in windows.taps(grad_pad):
            if tiles:
                np.copyto(view, grad_y)
            else:
                np.add(view, grad_y, out=view)
        return (shaped(windows.unpad(grad_pad), in_shape),)


def max_pool_outputs(ctx, x, spatial, windows, return_indices, best, arg):
    """Save the winning taps and return y (and the flat indices, non-differentiable)."""
    ctx.save_for_backward(arg)
    ctx.windows = windows
    ctx.shapes = (x.shape, _batch4d(x, spatial).shape)
    y = best.reshape(_out_shape(x.shape, spatial, windows))
    if not return_indices:
        return y
    indices = windows.flat_index(arg).reshape(y.shape)
    ctx.mark_non_differentiable(indices)
    return y, indices


def _out_shape(in_shape: tuple, spatial: int, windows: Windows) -> tuple:
    sizes = (windows.OW,) if spatial == 1 else (windows.OH, windows.OW)
    return tuple(in_shape[: len(in_shape) - spatial]) + sizes


def _check_input(op: str, input, spatial: int) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a neuronet Tensor, got {type(input).__name__}")
    # only the batch may be empty (N = 0 gives an empty result, as torch)
    if input.ndim not in (spatial + 1, spatial + 2) or 0 in input.shape[-spatial - 1 :]:
        dims = "(N, C, L) or (C, L)" if spatial == 1 else "(N, C, H, W) or (C, H, W)"
        raise ValueError(
            f"{op}: expected a {spatial + 1}-d or {spatial + 2}-d input {dims} with non-zero "
            f"channel and spatial sizes, got shape {tuple(input.shape)}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float()")


def _pool_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode no window may start in the right padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows(op, input, spatial, kernel_size, stride, padding, dilation, ceil_mode) -> Windows:
    """Validate pooling arguments (PyTorch's rules) and lift them to 2-d windows."""
    _check_input(op, input, spatial)
    kernel = as_tuple(kernel_size, spatial, "kernel_size", op)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = as_tuple(stride, spatial, "stride", op)
    pads = as_tuple(padding, spatial, "padding", op)
    dilation = as_tuple(dilation, spatial, "dilation", op)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(v < 1 for v in values):
            raise ValueError(f"{op}: {name} must be positive, got {values}")
    for p, k, d in zip(pads, kernel, dilation):
        limit = (d * (k - 1) + 1) // 2
        if p < 0 or p > limit:
            raise ValueError(
                f"{op}: padding should be at most half of the effective kernel size, got "
                f"padding={p}, kernel_size={k}, dilation={d}; use 0 <= padding <= {limit}"
            )
    sizes = tuple(input.shape[-spatial:])
    out = tuple(
        _pool_size(n, k, s, p, d, ceil_mode)
        for n, k, s, p, d in zip(sizes, kernel, stride, pads, dilation)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} is too small for kernel_size={kernel} "
            f"(dilation {dilation}, padding {pads}): the output size would be {out}; use a "
            "smaller kernel or more padding"
        )
    if spatial == 1:
        return Windows(
            (1,) + sizes, (1,) + kernel, (1,) + stride, (0,) + pads, (1,) + dilation, (1,) + out
        )
    return Windows(sizes, kernel, stride, pads, dilation, out)


def _max_pool(input, spatial: int, windows: Windows, return_indices: bool):
    params = {"spatial": spatial, "windows": windows, "return_indices": return_indices}
    if backend.fast.numba and fast_pooling.applies(windows):
        return fast_pooling.CompiledMaxPool.apply(input, **params)
    return MaxPool.apply(input, **params)


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """1-d max pooling over (N, C, L) or (C, L); see ``max_pool2d``."""
    windows = _windows("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, 1, windows, return_indices)


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """2-d max pooling: the largest value of each (dilated) kH x kW window.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size: int or (kH, kW).
        stride: int or pair; default kernel_size.
        padding: implicit -inf padding on both sides, at most half the effective kernel.
        dilation: spacing between window cells.
        ceil_mode: round the output size up (a window may not start in the right padding).
        return_indices: also return, per output, the flat index h*W + w of the maximum in its
            input plane (int64), as ``max_unpool2d`` expects in PyTorch.

    Returns:
        (N, C, OH, OW), OH = (H + 2*ph - dh*(kH-1) - 1) // sh + 1 (rounded up with ceil_mode);
        and the indices if asked. Gradients go to the first maximum of each window on ties.
    """
    windows = _windows("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool(input, 2, windows, return_indices)


def _avg_divisor(windows: Windows, count_include_pad: bool, divisor_override, dtype):
    """The divisor of each window: an (OH, OW) array, or one number when all are equal."""
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)
    counts = []
    for o, s, p, k, size in (
        (windows.OH, windows.sh, windows.ph, windows.kH, windows.H),
        (windows.OW, windows.sw, windows.pw, windows.kW, windows.W),
    ):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start = np.maximum(start, 0)
            end = np.minimum(end, size)
        counts.append(end - start)
    divisor = np.multiply.outer(counts[0], counts[1]).astype(dtype)
    if np.all(divisor == divisor.flat[0]):
        return np.asarray(divisor.flat[0], dtype=dtype)
    return divisor


def _avg_pool(op, spatial, input, kernel_size, stride, padding, ceil_mode, count_include_pad, div):
    windows = _windows(op, input, spatial, kernel_size, stride, padding, 1, ceil_mode)
    if div is not None and (not isinstance(div, (int, np.integer)) or div == 0):
        raise ValueError(f"{op}: divisor_override must be a non-zero int, got {div!r}")
    divisor = _avg_divisor(windows, count_include_pad, div, input.dtype)
    return AvgPool.apply(input, spatial=spatial, windows=windows, divisor=divisor)


def avg_pool1d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
) -> Tensor:
    """1-d average pooling over (N, C, L) or (C, L); see ``avg_pool2d``."""
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
) -> Tensor:
    """2-d average pooling: the mean of each kH x kW window.

    Args:
        input: (N, C, H, W) or unbatched (C, H, W).
        kernel_size, stride (default kernel_size), padding: ints or pairs; zero padding.
        ceil_mode: round the output size up (a window may not start in the right padding).
        count_include_pad: divide by the window size including zero padding (default, as
            PyTorch), or by the number of real input cells (False; Keras 'same' behaviour).
        divisor_override: divide every window by this number instead.

    Example:
        >>> import neuronet as nt
        >>> nt.functional.avg_pool2d(nt.ones((1, 1, 4, 4)), 2).shape
        (1, 1, 2, 2)
    """
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


# The fast path subclasses the Function above (same contract), so it is imported after it.
from neuronet.ops.fast import pooling as fast_pooling  # noqa: E402

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
]
