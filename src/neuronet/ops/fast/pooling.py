"""Compiled max pooling over non-overlapping blocks: the numba path of ``ops/pooling.py``.

For stride equal to the kernel with no padding or dilation (``Windows.blocks()``), the kernels
of ``pooling_kernels.py`` read each window once and produce the maximum and its tap together;
the backward writes every input cell once. Semantics are the reference's (PyTorch's): ties go to
the first tap in row-major order, a NaN wins. ``max_pool1d/2d`` choose it when
``backend.fast.numba`` and ``applies``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops._util import shaped
from neuronet.ops.pooling import MaxPool, _batch4d, max_pool_outputs


def applies(windows) -> bool:
    """Blocks (stride = kernel, no padding or dilation) of at most 256 taps (uint8 indices)."""
    return windows.blocks() and windows.kH * windows.kW <= 256


class CompiledMaxPool(MaxPool):
    """``MaxPool`` over non-overlapping blocks, one compiled pass each way.

    y = max over the window;  dL/dx = dL/dy at the window's (first) maximum, 0 elsewhere.
    Saves: the winning tap of each window (uint8).
    """

    @staticmethod
    def forward(ctx, x, spatial, windows, return_indices):
        from neuronet.ops.fast import pooling_kernels

        x4 = _batch4d(x, spatial)
        best = np.empty(x4.shape[:2] + (windows.OH, windows.OW), dtype=x.dtype)
        arg = np.empty(best.shape, dtype=np.uint8)
        if windows.kH == windows.kW == 2:
            pooling_kernels.max_2x2(x4, best, arg)
        else:
            pooling_kernels.max_blocks(x4, windows.kH, windows.kW, best, arg)
        return max_pool_outputs(ctx, x, spatial, windows, return_indices, best, arg)

    @staticmethod
    def backward(ctx, grad_out, *unused):
        from neuronet.ops.fast import pooling_kernels

        (arg,) = ctx.saved
        windows = ctx.windows
        in_shape, x4_shape = ctx.shapes
        grad_y = grad_out.reshape(arg.shape)
        grad_x = np.zeros(x4_shape, dtype=grad_y.dtype)
        pooling_kernels.max_blocks_backward(grad_y, arg, windows.kH, windows.kW, grad_x)
        return (shaped(grad_x, in_shape),)
