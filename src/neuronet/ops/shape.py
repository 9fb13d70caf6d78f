"""Shape ops: cast (dtype conversion); reshape, transpose and friends are added by their owner."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor


class Cast(Function):
    """y = x converted to another dtype;  dL/dx = dL/dy converted back to x's dtype.

    Only float-to-float casts carry a gradient; a cast to int or bool has none.
    """

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.astype(ctx.in_dtype), None


def cast(input: Tensor, dtype) -> Tensor:
    """``input`` as ``dtype`` (a copy; differentiable between float dtypes)."""
    dtype = np.dtype(dtype)
    if input.dtype == dtype:
        return input
    if dtype.kind != "f" or input.dtype.kind != "f":
        return Tensor(input.data.astype(dtype))
    return Cast.apply(input, dtype)


__all__ = ["cast"]
