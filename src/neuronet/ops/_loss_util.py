"""Helpers shared by the loss ops (``loss.py``, ``cross_entropy.py``): reductions and checks."""

from __future__ import annotations

import warnings

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops.shape import cast

REDUCTIONS = ("none", "mean", "sum")


def reduce_loss(ctx, loss: np.ndarray, reduction: str, denominator=None) -> np.ndarray:
    """Reduce per-element losses; remember what backward needs to undo it."""
    ctx.reduction = reduction
    ctx.loss_shape = loss.shape
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        ctx.denominator = 1
        return np.asarray(total, dtype=loss.dtype)
    ctx.denominator = loss.size if denominator is None else denominator
    if ctx.denominator == 0:
        return np.asarray(np.nan, dtype=loss.dtype)
    return np.asarray(total / ctx.denominator, dtype=loss.dtype)


def grad_loss(ctx, grad_out: np.ndarray) -> np.ndarray:
    """dL/d(per-element loss) from dL/d(reduced loss): the backward of ``reduce_loss``."""
    if ctx.reduction == "none":
        return grad_out
    if ctx.reduction == "mean":
        grad_out = grad_out / ctx.denominator
    return np.broadcast_to(grad_out, ctx.loss_shape)


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` pair as a ``reduction`` string."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce are deprecated; use reduction='mean'|'sum'|'none'",
        DeprecationWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(op: str, reduction: str, allowed=REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(
            f"{op}: {reduction!r} is not a valid value for reduction; use one of "
            + ", ".join(repr(r) for r in allowed)
        )


def check_input(op: str, input) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(
            f"{op}: input must be floating point, got dtype {input.dtype}; convert it with .float()"
        )


def target_like(op: str, input: Tensor, target) -> Tensor:
    """The target as a tensor of the input's shape and dtype (never broadcast)."""
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "differ; losses never broadcast (PyTorch would silently compare every pair). "
            "Reshape one to match, e.g. target.reshape(input.shape) or input.squeeze(-1)"
        )
    if target.dtype != input.dtype:
        target = (
            cast(target, input.dtype)
            if target.dtype.kind == "f"
            else Tensor(target.array.astype(input.dtype))
        )
    return target


def constant(op: str, name: str, value, input: Tensor, shape=None):
    """A weight-like argument as an array of the input's dtype (no gradient flows into it)."""
    if value is None:
        return None
    if isinstance(value, Tensor) and value.requires_grad:
        raise RuntimeError(
            f"{op}: {name} requires grad, but the loss is not differentiable with respect to "
            f"{name}; pass {name}.detach()"
        )
    arr = value.array if isinstance(value, Tensor) else np.asarray(value)
    arr = arr.astype(input.dtype, copy=False)
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {tuple(arr.shape)}")
    if shape is None:
        try:
            fits = np.broadcast_shapes(arr.shape, input.shape) == input.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{op}: {name} of shape {tuple(arr.shape)} cannot be broadcast to the input "
                f"shape {tuple(input.shape)}"
            )
    return arr
