"""Compiled ReLU backward and GELU: the numba paths of ``ops/activation.py`` (same formulas).

- ``CompiledReLU``: dL/dx = dL/dy where y > 0, else 0, as a branch-free select
  (``activation_kernels.relu_backward``); NumPy's ``where`` mispredicts a branch per element
  on a random sign pattern.
- ``CompiledGELU``: y = x * Phi(x) and dL/dx = dL/dy * (Phi(x) + x * phi(x)) in one pass each,
  Phi recomputed in backward instead of saved. float32 takes erf from Abramowitz & Stegun 7.1.26
  (absolute error <= 1.5e-7, as PyTorch's vectorised CPU erf), float64 the C library's.

``ops/activation.py``'s ``relu`` and ``gelu`` choose them when ``backend.fast.numba``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.activation import GELU, ReLU


class CompiledReLU(ReLU):
    """``ReLU`` with the backward as one compiled select.  dL/dx = dL/dy where y > 0, else 0.
    Saves: y."""

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved
        if not (y.flags.c_contiguous and grad_out.dtype == y.dtype):
            return ReLU.backward(ctx, grad_out)
        from neuronet.ops.fast import activation_kernels

        grad_out = np.ascontiguousarray(grad_out)
        grad_x = np.empty_like(y)
        activation_kernels.relu_backward(y.reshape(-1), grad_out.reshape(-1), grad_x.reshape(-1))
        return (grad_x,)


class CompiledGELU(GELU):
    """``GELU`` (exact) in one compiled pass each way, for float32 and float64 arrays.

    y = x * Phi(x);  dL/dx = dL/dy * (Phi(x) + x * phi(x)).  Saves: x (backward recomputes Phi).
    """

    @staticmethod
    def forward(ctx, x):
        from neuronet.ops.fast import activation_kernels as k

        x = np.ascontiguousarray(x)
        y = np.empty_like(x)
        if x.dtype == np.float32:
            k.gelu_forward_f32(x.reshape(-1), y.reshape(-1))
        else:
            k.gelu_forward_f64(x.reshape(-1), y.reshape(-1))
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        from neuronet.ops.fast import activation_kernels as k

        (x,) = ctx.saved
        grad_out = np.ascontiguousarray(grad_out, dtype=x.dtype)
        grad_x = np.empty_like(x)
        if x.dtype == np.float32:
            k.gelu_backward_f32(x.reshape(-1), grad_out.reshape(-1), grad_x.reshape(-1))
        else:
            k.gelu_backward_f64(x.reshape(-1), grad_out.reshape(-1), grad_x.reshape(-1))
        return (grad_x,)
