"""3-d convolution and transposed convolution: conv3d, conv_transpose3d.

For x (N, C, D, H, W) and a kernel (kD, kH, kW), output voxel p = (od, oh, ow) and kernel tap
t = (a, b, c) read the padded input at p * stride + t * dilation (per axis). Gathering those
reads for all voxels gives a column matrix (im2col), and the convolution is one matrix product
per group:

    cols[(c, t), (n, p)] = x_padded[n, c, p * stride + t * dilation]
    y[n, o, p]           = b[o] + sum over (c, t) of w[o, c, t] * cols[(c, t), (n, p)]
    dL/dw = dL/dy cols^T,   dL/dcols = w^T dL/dy, added back where each column was read
    (col2im), then unpadded, = dL/dx

The transposed convolution is the adjoint of that map in x: its forward is the col2im of
w^T x, its backward the im2col of the output gradient. Output sizes:
    conv3d:            O = (I + pad_before + pad_after - dilation (k - 1) - 1) // stride + 1
    conv_transpose3d:  O = (I - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1
Both loop over the kD * kH * kW taps; each tap is one strided view of every voxel at once.
"""

from __future__ import annotations

import itertools

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._conv_checks import check_groups, padding_pairs, positive
from neuronet.ops._util import as_tuple


class _Taps:
    """Tap t of output position p reads grid index p * stride + t * dilation (per axis)."""

    def __init__(self, kernel, stride, dilation, out):
        self.kernel = tuple(kernel)
        self.stride = tuple(stride)
        self.dilation = tuple(dilation)
        self.out = tuple(out)

    def taps(self):
        return itertools.product(*[range(k) for k in self.kernel])

    def view(self, grid: np.ndarray, tap) -> np.ndarray:
        index = [slice(None), slice(None)]
        for t, s, d, o in zip(tap, self.stride, self.dilation, self.out):
            start = t * d
            index.append(slice(start, start + (o - 1) * s + 1, s))
        return grid[tuple(index)]

    def im2col(self, grid: np.ndarray) -> np.ndarray:
        """grid (N, C, *G) -> cols (C, K, N, *out)."""
        n, c = grid.shape[:2]
        k = int(np.prod(self.kernel))
        cols = np.empty((c, k, n) + self.out, dtype=grid.dtype)
        for i, tap in enumerate(self.taps()):
            cols[:, i] = np.swapaxes(self.view(grid, tap), 0, 1)
        return cols

    def col2im(self, cols: np.ndarray, grid_shape: tuple) -> np.ndarray:
        """cols (C, K, N, *out) -> grid (N, C, *G): each column added where it was read."""
        grid = np.zeros(grid_shape, dtype=cols.dtype)
        for i, tap in enumerate(self.taps()):
            view = self.view(grid, tap)
            view += np.swapaxes(cols[:, i], 0, 1)
        return grid


def _pad(x: np.ndarray, pairs) -> np.ndarray:
    if not any(a or b for a, b in pairs):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pairs))


def _crop(grid: np.ndarray, pairs) -> np.ndarray:
    index = [slice(None), slice(None)]
    for (a, b), n in zip(pairs, grid.shape[2:]):
        index.append(slice(a, n - b))
    return grid[tuple(index)]


class Conv3d(Function):
    """y = conv3d(x, w) + b, grouped, as matrix products over im2col columns (see the module
    docstring);  dL/dx = col2im(w^T dL/dy) unpadded,  dL/dw = dL/dy cols^T,
    dL/db = sum of dL/dy over (N, D, H, W).  Saves: x, w (the columns are rebuilt)."""

    @staticmethod
    def forward(ctx, x, w, b, taps=None, pairs=(), groups=1):
        n = x.shape[0]
        o, cg = w.shape[:2]
        og = o // groups
        k = int(np.prod(taps.kernel))
        cols = taps.im2col(_pad(x, pairs))  # (C, K, N, *out)
        p = int(np.prod(taps.out))
        y = np.empty((o, n * p), dtype=x.dtype)
        for g in range(groups):
            c_cols = cols[g * cg : (g + 1) * cg].reshape(cg * k, n * p)
            y[g * og : (g + 1) * og] = w[g * og : (g + 1) * og].reshape(og, cg * k) @ c_cols
        y = np.moveaxis(y.reshape((o, n) + taps.out), 0, 1)
        if b is not None:
            y = y + b.reshape((1, o) + (1,) * len(taps.out))
        ctx.save_for_backward(x, w)
        ctx.meta = (taps, pairs, groups)
        return np.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved
        taps, pairs, groups = ctx.meta
        n = x.shape[0]
        o, cg = w.shape[:2]
        og = o // groups
        k = int(np.prod(taps.kernel))
        p = int(np.prod(taps.out))
        g_rows = np.moveaxis(grad_out, 1, 0).reshape(o, n * p)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[1]:
            cols = taps.im2col(_pad(x, pairs))
            grad_w = np.empty_like(w)
            for g in range(groups):
                c_cols = cols[g * cg : (g + 1) * cg].reshape(cg * k, n * p)
                grad_w[g * og : (g + 1) * og] = (g_rows[g * og : (g + 1) * og] @ c_cols.T).reshape(
                    (og, cg) + taps.kernel
                )
        if ctx.needs_input_grad[0]:
            grad_cols = np.empty((groups * cg * k, n * p), dtype=grad_out.dtype)
            for g in range(groups):
                wg = w[g * og : (g + 1) * og].reshape(og, cg * k)
                grad_cols[g * cg * k : (g + 1) * cg * k] = wg.T @ g_rows[g * og : (g + 1) * og]
            grid_shape = (n, groups * cg) + tuple(
                s + a + b for s, (a, b) in zip(x.shape[2:], pairs)
            )
            grid = taps.col2im(grad_cols.reshape((groups * cg, k, n) + taps.out), grid_shape)
            grad_x = np.ascontiguousarray(_crop(grid, pairs))
        if ctx.needs_input_grad[2]:
            grad_b = grad_out.sum(axis=(0,) + tuple(range(2, grad_out.ndim)))
        return grad_x, grad_w, grad_b


class ConvTranspose3d(Function):
    """y = conv_transpose3d(x, w) + b: the adjoint of conv3d in its input (col2im of w^T x,
    cropped by the padding);  dL/dx = w im2col(dL/dy padded back),  dL/dw = x im2col(...)^T,
    dL/db = sum of dL/dy over (N, D, H, W).  Saves: x, w."""

    @staticmethod
    def forward(ctx, x, w, b, taps=None, pairs=(), groups=1, full=()):
        n = x.shape[0]
        cin_g = w.shape[0] // groups
        cout_g = w.shape[1]
        k = int(np.prod(taps.kernel))
        p = int(np.prod(taps.out))
        x_rows = np.moveaxis(x, 1, 0).reshape(groups * cin_g, n * p)
        cols = np.empty((groups * cout_g * k, n * p), dtype=x.dtype)
        for g in range(groups):
            wg = w[g * cin_g : (g + 1) * cin_g].reshape(cin_g, cout_g * k)
            cols[g * cout_g * k : (g + 1) * cout_g * k] = wg.T @ x_rows[g * cin_g : (g + 1) * cin_g]
        grid = taps.col2im(
            cols.reshape((groups * cout_g, k, n) + taps.out), (n, groups * cout_g) + full
        )
        y = _crop(grid, pairs)
        if b is not None:
            y = y + b.reshape((1, -1) + (1,) * len(full))
        ctx.save_for_backward(x, w)
        ctx.meta = (taps, pairs, groups, full)
        return np.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, grad_out):
        x, w = ctx.saved
        taps, pairs, groups, full = ctx.meta
        n = x.shape[0]
        cin_g = w.shape[0] // groups
        cout_g = w.shape[1]
        k = int(np.prod(taps.kernel))
        p = int(np.prod(taps.out))
        grid = np.zeros((n, groups * cout_g) + full, dtype=grad_out.dtype)
        inner = [slice(None), slice(None)] + [slice(a, s - b) for (a, b), s in zip(pairs, full)]
        grid[tuple(inner)] = grad_out
        cols = taps.im2col(grid).reshape(groups * cout_g * k, n * p)
        x_rows = np.moveaxis(x, 1, 0).reshape(groups * cin_g, n * p)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            rows = np.empty((groups * cin_g, n * p), dtype=grad_out.dtype)
            for g in range(groups):
                wg = w[g * cin_g : (g + 1) * cin_g].reshape(cin_g, cout_g * k)
                rows[g * cin_g : (g + 1) * cin_g] = wg @ cols[g * cout_g * k : (g + 1) * cout_g * k]
            grad_x = np.moveaxis(rows.reshape((groups * cin_g, n) + taps.out), 0, 1)
            grad_x = np.ascontiguousarray(grad_x)
        if ctx.needs_input_grad[1]:
            grad_w = np.empty_like(w)
            for g in range(groups):
                xg = x_rows[g * cin_g : (g + 1) * cin_g]
                cg = cols[g * cout_g * k : (g + 1) * cout_g * k]
                grad_w[g * cin_g : (g + 1) * cin_g] = (xg @ cg.T).reshape(w[:cin_g].shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad_out.sum(axis=(0,) + tuple(range(2, grad_out.ndim)))
        return grad_x, grad_w, grad_b


def _check(op: str, input, weight, bias) -> None:
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be neuronet Tensors")
    if input.ndim not in (4, 5):
        raise ValueError(
            f"{op}: expected a 4-d (unbatched) or 5-d (batched) input (N, C, D, H, W), got shape "
            f"{tuple(input.shape)}"
        )
    if weight.ndim != 5:
        raise ValueError(f"{op}: expected a 5-d weight, got shape {tuple(weight.shape)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float()")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{op}: input is {input.dtype} but {name} is {t.dtype}")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d convolution (cross-correlation) of (N, C_in, D, H, W) (or unbatched (C_in, D, H, W))
    with weight (C_out, C_in/groups, kD, kH, kW); padding an int, a triple, 'valid' or 'same'.

    Example:
        >>> import neuronet as nt
        >>> nt.functional.conv3d(nt.ones(1, 1, 4, 4, 4), nt.ones(2, 1, 3, 3, 3), padding=1).shape
        (1, 2, 4, 4, 4)
    """
    op = "conv3d"
    _check(op, input, weight, bias)
    batched = input.ndim == 5
    x = input if batched else input.reshape(1, *input.shape)
    check_groups(op, groups, x.shape[1], weight, 1, 0)
    kernel = weight.shape[2:]
    stride = positive(op, "stride", stride, 3)
    dilation = positive(op, "dilation", dilation, 3)
    pairs = padding_pairs(op, padding, 3, kernel, stride, dilation)
    out = tuple(
        (n + a + b - d * (k - 1) - 1) // s + 1
        for n, (a, b), d, k, s in zip(x.shape[2:], pairs, dilation, kernel, stride)
    )
    if min(out) <= 0:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} is too small for kernel {kernel} with "
            f"dilation {dilation} and padding {padding}: the output would be {out}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    taps = _Taps(kernel, stride, dilation, out)
    y = Conv3d.apply(x, weight, bias, taps=taps, pairs=pairs, groups=int(groups))
    return y if batched else y.reshape(*y.shape[1:])


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
) -> Tensor:
    """3-d transposed convolution (the gradient of conv3d with respect to its input) of
    (N, C_in, D, H, W) with weight (C_in, C_out/groups, kD, kH, kW)."""
    op = "conv_transpose3d"
    _check(op, input, weight, bias)
    batched = input.ndim == 5
    x = input if batched else input.reshape(1, *input.shape)
    check_groups(op, groups, x.shape[1], weight, 0, 0)
    kernel = weight.shape[2:]
    stride = positive(op, "stride", stride, 3)
    dilation = positive(op, "dilation", dilation, 3)
    pads = as_tuple(padding, 3, "padding", op)
    extra = as_tuple(output_padding, 3, "output_padding", op)
    for e, s, d in zip(extra, stride, dilation):
        if e < 0 or (e >= s and e >= d):
            raise ValueError(
                f"{op}: output_padding {extra} must be smaller than either stride {stride} or "
                f"dilation {dilation}"
            )
    full = tuple(
        (n - 1) * s + d * (k - 1) + 1 + e
        for n, s, d, k, e in zip(x.shape[2:], stride, dilation, kernel, extra)
    )
    pairs = tuple((p, p) for p in pads)
    if any(f - 2 * p <= 0 for f, p in zip(full, pads)):
        raise ValueError(f"{op}: the padding {pads} leaves no output (full size {full})")
    if bias is not None and bias.shape != (weight.shape[1] * groups,):
        raise ValueError(f"{op}: bias must have shape ({weight.shape[1] * groups},)")
    taps = _Taps(kernel, stride, dilation, x.shape[2:])
    y = ConvTranspose3d.apply(
        x, weight, bias, taps=taps, pairs=pairs, groups=int(groups), full=full
    )
    return y if batched else y.reshape(*y.shape[1:])


__all__ = ["conv3d", "conv_transpose3d"]
