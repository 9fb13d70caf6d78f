"""Spatial transformers: grid_sample (sample an image at arbitrary points) and affine_grid (the
points of an affine map). Reference: Jaderberg et al., 2015, https://arxiv.org/abs/1506.02025.

``grid_sample(input, grid)`` reads input (N, C, H, W) at grid (N, Ho, Wo, 2) (or 3-d: input
(N, C, D, H, W), grid (N, Do, Ho, Wo, 3)); grid[..., 0] is x (along W), [..., 1] y, [..., 2] z,
normalised to [-1, 1]. PyTorch's rules, per axis of size n:
- unnormalise: i = (g + 1) / 2 * (n - 1) with align_corners=True (-1 and 1 are the centres of
  the corner pixels), else i = ((g + 1) n - 1) / 2 (they are the corners' outer edges);
- padding_mode 'zeros': taps outside the image read 0; 'border': i is clipped to [0, n - 1];
  'reflection': i is reflected at the borders (at the pixel centres with align_corners, else at
  the outer edges) and then clipped;
- mode 'bilinear' weights the 2 (or 2^3) neighbours by (1 - t) and t; 'nearest' rounds i half
  to even; 'bicubic' (4-d only) uses 4 x 4 neighbours with Keys' weights (a = -0.75), reflecting
  or clipping each tap's coordinate instead of i.
The output is (N, C, Ho, Wo). Gradients: input gets each output's gradient times the tap
weights at the taps read; grid gets the derivative of the interpolation along each axis times
di/dg (0 where clipping cuts, sign-flipped where reflection mirrors); 'nearest' gives grid 0.
"""

from __future__ import annotations

import itertools

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.interpolation import CUBIC_A, _cubic_weights
from neuronet.ops.matmul import matmul
from neuronet.ops.shape import reshape, transpose


def _unnormalize(g: np.ndarray, n: int, align: bool) -> tuple:
    if align:
        return (g + 1) / 2 * (n - 1), np.full(g.shape, (n - 1) / 2)
    return ((g + 1) * n - 1) / 2, np.full(g.shape, n / 2)


def _clip(i: np.ndarray, n: int) -> tuple:
    """(clipped coordinate, its derivative): 0 outside (0, n - 1), as PyTorch."""
    inside = (i > 0) & (i < n - 1)
    return np.clip(i, 0, n - 1), inside.astype(i.dtype)


def _reflect(i: np.ndarray, twice_low: float, twice_high: float) -> tuple:
    if twice_low == twice_high:
        return np.zeros_like(i), np.zeros_like(i)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    sign_in = np.where(i < low, -1.0, 1.0)
    dist = np.abs(i - low)
    extra = np.fmod(dist, span)
    flips = np.floor(dist / span)
    even = flips % 2 == 0
    out = np.where(even, extra + low, span - extra + low)
    return out, sign_in * np.where(even, 1.0, -1.0)


def _coordinate(i: np.ndarray, n: int, padding: str, align: bool) -> tuple:
    """Apply the padding mode to source coordinate i; (coordinate, derivative)."""
    if padding == "border":
        return _clip(i, n)
    if padding == "reflection":
        if align:
            r, dr = _reflect(i, 0, 2 * (n - 1))
        else:
            r, dr = _reflect(i, -1, 2 * n - 1)
        c, dc = _clip(r, n)
        return c, dr * dc
    return i, np.ones_like(i)


def _taps_1d(mode: str, i: np.ndarray, n: int, padding: str, align: bool) -> list:
    """[(integer index, weight, d weight / d i, valid)] for one axis."""
    if mode == "nearest":
        idx = np.rint(i).astype(np.int64)
        return [(idx, np.ones_like(i), np.zeros_like(i), (idx >= 0) & (idx < n))]
    if mode == "bilinear":
        i0 = np.floor(i)
        t = i - i0
        out = []
        for k, w, dw in ((0, 1 - t, -np.ones_like(t)), (1, t, np.ones_like(t))):
            idx = i0.astype(np.int64) + k
            out.append((idx, w, dw, (idx >= 0) & (idx < n)))
        return out
    i0 = np.floor(i)
    t = i - i0
    w = np.moveaxis(_cubic_weights(t.reshape(-1)).reshape(t.shape + (4,)), -1, 0)
    dw = _cubic_slopes(t)
    out = []
    for k in range(4):  # each tap's coordinate gets the padding rule, then is truncated
        coord, _ = _coordinate(i0 + (k - 1), n, padding, align)
        idx = np.trunc(coord).astype(np.int64)
        out.append((idx, w[k], dw[k], (idx >= 0) & (idx < n)))
    return out


def _cubic_slopes(t: np.ndarray) -> np.ndarray:
    """d/dt of the 4 cubic-convolution weights (a = -0.75) at offsets -1, 0, 1, 2."""
    a = CUBIC_A

    def near(x):  # derivative of ((a + 2) x - (a + 3)) x^2 + 1
        return 3 * (a + 2) * x * x - 2 * (a + 3) * x

    def far(x):  # derivative of ((a x - 5 a) x + 8 a) x - 4 a
        return 3 * a * x * x - 10 * a * x + 8 * a

    return np.stack([far(t + 1), near(t), -near(1 - t), -far(2 - t)])


class GridSample(Function):
    """y[n, c, p] = sum over taps of (product over axes of w_a) * x[n, c, tap index];
    dL/dx = those weights times dL/dy, added at the taps;
    dL/dgrid_a = sum over c of dL/dy * sum over taps of (dw_a * other weights) * x[tap] * di/dg.
    Saves: x, grid."""

    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding="zeros", align=False):
        y, _ = _sample(x, grid, mode, padding, align, None)
        ctx.save_for_backward(x, grid)
        ctx.params = (mode, padding, align)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        x, grid = ctx.saved
        mode, padding, align = ctx.params
        _, grads = _sample(x, grid, mode, padding, align, grad_out)
        grad_x, grad_grid = grads
        return (
            grad_x if ctx.needs_input_grad[0] else None,
            grad_grid if ctx.needs_input_grad[1] else None,
        )


def _sample(x, grid, mode, padding, align, grad_out):
    """The forward (and, with grad_out, both gradients) of grid sampling."""
    n, c = x.shape[:2]
    sizes = x.shape[2:]  # (H, W) or (D, H, W)
    k = len(sizes)
    out_shape = grid.shape[1:-1]
    q = int(np.prod(out_shape))
    g = grid.reshape(n, q, k)
    axes = []
    for a in range(k):  # spatial axis a reads grid component k - 1 - a
        i, di = _unnormalize(g[..., k - 1 - a], sizes[a], align)
        if mode != "bicubic":
            i, dc = _coordinate(i, sizes[a], padding, align)
            di = di * dc
        axes.append((_taps_1d(mode, i, sizes[a], padding, align), di))
    flat_x = x.reshape(n, c, -1)
    y = np.zeros((n, c, q), dtype=x.dtype)
    grad_x = np.zeros(n * c * flat_x.shape[2], dtype=x.dtype) if grad_out is not None else None
    d_coord = [np.zeros((n, q)) for _ in range(k)] if grad_out is not None else None
    g_out = grad_out.reshape(n, c, q) if grad_out is not None else None
    strides = [int(np.prod(sizes[a + 1 :])) for a in range(k)]
    for combo in itertools.product(*[range(len(t)) for t, _ in axes]):
        taps = [axes[a][0][combo[a]] for a in range(k)]
        weight = np.ones((n, q))
        valid = np.ones((n, q), dtype=bool)
        flat = np.zeros((n, q), dtype=np.int64)
        for a, (idx, w, _, ok) in enumerate(taps):
            weight = weight * w
            valid &= ok
            flat += np.clip(idx, 0, sizes[a] - 1) * strides[a]
        values = np.take_along_axis(flat_x, flat[:, None, :], axis=2) * valid[:, None, :]
        y += (weight[:, None, :] * values).astype(x.dtype)
        if grad_out is None:
            continue
        contrib = g_out * (weight * valid)[:, None, :]
        index = (np.arange(n * c).reshape(n, c, 1) * flat_x.shape[2] + flat[:, None, :]).ravel()
        grad_x += np.bincount(index, contrib.ravel(), minlength=grad_x.size).astype(x.dtype)
        dot = np.sum(g_out * values, axis=1)  # (N, Q)
        for a in range(k):
            others = np.ones((n, q))
            for b, (_, w, _, _) in enumerate(taps):
                if b != a:
                    others = others * w
            d_coord[a] += dot * taps[a][2] * others
    y = y.reshape((n, c) + out_shape)
    if grad_out is None:
        return y, None
    grad_grid = np.zeros_like(g)
    for a in range(k):
        grad_grid[..., k - 1 - a] = d_coord[a] * axes[a][1]
    return y, (grad_x.reshape(x.shape), grad_grid.reshape(grid.shape).astype(grid.dtype))


def grid_sample(
    input: Tensor, grid: Tensor, mode="bilinear", padding_mode="zeros", align_corners=None
) -> Tensor:
    """Sample ``input`` at the normalised points of ``grid`` (see the module docstring).

    Example:
        >>> import neuronet as nt
        >>> img = nt.arange(4.0).reshape(1, 1, 2, 2)
        >>> corners = nt.tensor([[[[-1.0, -1.0], [1.0, 1.0]]]])
        >>> nt.functional.grid_sample(img, corners, align_corners=True).tolist()
        [[[[0.0, 3.0]]]]
    """
    op = "grid_sample"
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        raise TypeError(f"{op}: input and grid must be Tensors")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != input.ndim - 2:
        raise ValueError(
            f"{op}: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input (N, C, D, H, W) "
            f"with grid (N, Do, Ho, Wo, 3); got {input.shape} and {grid.shape}"
        )
    if grid.shape[0] != input.shape[0]:
        raise ValueError(f"{op}: grid and input must have the same batch size")
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if mode == "bicubic" and input.ndim != 4:
        raise ValueError(f"{op}: bicubic interpolation only supports 4-D input")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection'")
    if grid.dtype != input.dtype:
        raise TypeError(f"{op}: input ({input.dtype}) and grid ({grid.dtype}) must share a dtype")
    return GridSample.apply(input, grid, mode=mode, padding=padding_mode, align=bool(align_corners))


def _base_line(n: int, align: bool, dtype) -> np.ndarray:
    if n <= 1:
        return np.zeros(n, dtype=dtype)
    line = np.linspace(-1, 1, n)
    return (line if align else line * (n - 1) / n).astype(dtype)


def affine_grid(theta: Tensor, size, align_corners=None) -> Tensor:
    """The sampling grid of an affine map: theta (N, 2, 3) and size (N, C, H, W) give
    (N, H, W, 2); theta (N, 3, 4) and size (N, C, D, H, W) give (N, D, H, W, 3). Each point is
    theta @ (x, y[, z], 1) over the normalised base coordinates (see grid_sample)."""
    op = "affine_grid"
    if not isinstance(theta, Tensor) or theta.dtype.kind != "f":
        raise TypeError(f"{op}: theta must be a floating-point Tensor")
    size = tuple(int(s) for s in size)
    k = len(size) - 2
    if k not in (2, 3) or theta.shape != (size[0], k, k + 1):
        raise ValueError(
            f"{op}: expected theta (N, 2, 3) with size (N, C, H, W), or (N, 3, 4) with size "
            f"(N, C, D, H, W); got theta {theta.shape} and size {size}"
        )
    align = bool(align_corners)
    spatial = size[2:]
    lines = [_base_line(s, align, theta.dtype) for s in spatial]  # D, H, W order
    mesh = np.meshgrid(*lines, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial, theta.dtype)], axis=-1)
    base = Tensor(base.reshape(1, -1, k + 1))  # (1, P, k + 1): (x, y[, z], 1)
    grid = matmul(base, transpose(theta, 1, 2))  # (N, P, k)
    return reshape(grid, (size[0],) + spatial + (k,))


__all__ = ["grid_sample", "affine_grid"]
