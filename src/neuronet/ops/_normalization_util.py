"""Helpers of ``normalization.py``: input validation, and the buffers and flags around the fused
numba kernels (``_normalization_kernels.py``). The math itself is in ``normalization.py``."""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor


def recording(ctx) -> bool:
    """True when this call builds a graph (so saved arrays must not be overwritten)."""
    return is_grad_enabled() and any(ctx.needs_input_grad)


# ---- the fused (numba) bodies: buffers and flags around the kernels ---------------------------


def flat(a, dtype):
    """(a flattened, True), or (an empty array, False) for an absent weight or bias."""
    if a is None:
        return np.empty(0, dtype=dtype), False
    return np.ascontiguousarray(a).reshape(-1), True


def outputs(ctx, x: np.ndarray):
    """x_hat and y buffers; one buffer serves both when no graph will keep x_hat."""
    x_hat = np.empty_like(x)
    return x_hat, (np.empty_like(x) if recording(ctx) else x_hat)


def fused_grads(ctx, kernel, grad_out, x_hat, inv_std, weight, param_shape, *flags):
    """Call a ``*_backward`` kernel; returns dL/dx (shaped as x) and the parameter grads."""
    w, has_w = flat(weight, x_hat.dtype)
    need = ctx.needs_input_grad
    grad_x = np.empty_like(x_hat) if need[0] else np.empty((0,) * x_hat.ndim, x_hat.dtype)
    grad_w = np.empty(math.prod(param_shape), dtype=x_hat.dtype)
    grad_b = np.empty_like(grad_w)
    grad_y = np.ascontiguousarray(grad_out).reshape(x_hat.shape)
    kernel(grad_y, x_hat, inv_std, w, has_w, *flags, bool(need[0]), grad_x, grad_w, grad_b)
    grad_x = grad_x.reshape(ctx.x_shape) if need[0] else None
    grad_w = grad_w.reshape(param_shape) if need[1] else None
    grad_b = grad_b.reshape(param_shape) if len(need) > 2 and need[2] else None
    return grad_x, grad_w, grad_b


# ---- validation helpers -------------------------------------------------------------------------


def check_input(op: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be floating point, got dtype {input.dtype}; convert it with .float()"
        )


def check_param(op: str, name: str, value, shape: tuple, input: Tensor) -> None:
    """``value`` is None or a tensor of ``shape`` with the input's dtype."""
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        raise ValueError(
            f"{op}: {name} must have shape {tuple(shape)} to match the input of shape "
            f"{tuple(input.shape)}, got {tuple(value.shape)}"
        )
    if value.dtype != input.dtype:
        raise TypeError(
            f"{op}: {name} has dtype {value.dtype} but the input is {input.dtype}; all inputs "
            f"must share one dtype (convert with .to({str(input.dtype)!r}))"
        )


def as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def check_trailing(op: str, input: Tensor, shape: tuple) -> None:
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[-k:]) != shape:
        raise ValueError(
            f"{op}: normalized_shape={shape} expects an input of shape (*, "
            f"{', '.join(map(str, shape))}), got {tuple(input.shape)}; normalized_shape must "
            "equal the input's last dimensions"
        )
