"""The result of an op on an empty input: an empty array that stays in the graph."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function


class EmptyResult(Function):
    """y = an empty array of ``shape`` (an op on zero elements computes nothing);
    dL/d(each input) = 0 (nothing depended on them: PyTorch's zero gradients).
    Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, *xs, shape=(0,), dtype=None):
        ctx.shapes = [None if x is None else (x.shape, x.dtype) for x in xs]
        dtype = dtype or next(x.dtype for x in xs if x is not None)
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return tuple(
            None if s is None or not need else np.zeros(s[0], dtype=s[1])
            for s, need in zip(ctx.shapes, ctx.needs_input_grad)
        )
