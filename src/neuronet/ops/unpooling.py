"""max_unpool1d/2d/3d: the partial inverse of max pooling.

Each value of ``input`` goes back to the position its max pooling took it from: ``indices``
(from ``max_pool*d(..., return_indices=True)``) holds, per value, the flat index of that position
within its (D, H, W) plane; every other output element is 0. The output size per spatial dim is
(in - 1) * stride - 2 * padding + kernel_size, or ``output_size``.

    y[n, c].flat[indices[n, c, ...]] = x[n, c, ...]       dL/dx = dL/dy[n, c].flat[indices]
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import as_tuple


class MaxUnpool(Function):
    """y = zeros with x written at the flat plane positions ``indices`` (the last write wins);
    dL/dx = dL/dy read at those positions.  Saves: indices."""

    @staticmethod
    def forward(ctx, x, indices, out_spatial=()):
        n, c = x.shape[:2]
        plane = int(np.prod(out_spatial))
        flat = indices.reshape(n, c, -1) + (np.arange(n * c) * plane).reshape(n, c, 1)
        y = np.zeros(n * c * plane, dtype=x.dtype)
        y[flat.ravel()] = x.reshape(-1)
        ctx.save_for_backward(flat)
        ctx.x_shape = x.shape
        return y.reshape((n, c) + tuple(out_spatial))

    @staticmethod
    def backward(ctx, grad_out):
        (flat,) = ctx.saved
        return grad_out.reshape(-1)[flat.ravel()].reshape(ctx.x_shape), None


def _max_unpool(op, spatial, input, indices, kernel_size, stride, padding, output_size):
    if not isinstance(input, Tensor) or input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input")
    idx = indices.array if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.shape != input.shape or idx.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: indices must be an int64 tensor of the input's shape {input.shape}, got "
            f"{idx.shape} {idx.dtype}"
        )
    kernel = as_tuple(kernel_size, spatial, "kernel_size", op)
    stride = kernel if stride is None else as_tuple(stride, spatial, "stride", op)
    pads = as_tuple(padding, spatial, "padding", op)
    batched = input.ndim == spatial + 2
    if output_size is not None:
        out = tuple(int(s) for s in output_size)[-spatial:]
    else:
        out = tuple(
            (n - 1) * s - 2 * p + k
            for n, s, p, k in zip(input.shape[-spatial:], stride, pads, kernel)
        )
    plane = int(np.prod(out))
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        raise ValueError(
            f"{op}: found an invalid max index {int(idx.max())} for an output plane of size "
            f"{out} ({plane} elements)"
        )
    x = input if batched else input.reshape(1, *input.shape)
    i = idx if batched else idx.reshape(1, *idx.shape)
    y = MaxUnpool.apply(x, i.astype(np.int64), out_spatial=out)
    return y if batched else y.reshape(*y.shape[1:])


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, L) values back at their max-pooling positions. See ``nn.MaxUnpool1d``."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, H, W) values back at their max-pooling positions. See ``nn.MaxUnpool2d``."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put (N, C, D, H, W) values back at their max-pooling positions. See ``nn.MaxUnpool3d``."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]
