"""Helpers of ``normalization.py`` and ``batch_norm.py``: input validation, and whether a call
records a graph. The math itself is in ``normalization.py``."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor


def recording(ctx) -> bool:
    """True when this call builds a graph (so saved arrays must not be overwritten)."""
    return is_grad_enabled() and any(ctx.needs_input_grad)


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
