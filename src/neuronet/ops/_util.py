"""Helpers shared by the op families: undoing broadcasting, turning operands into arrays and
checking integer arguments."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting.

    A forward that broadcast an input of ``shape`` up to ``grad.shape`` used each input element
    several times, so its gradient is the sum over the copies: over the leading axes that were
    added, and over every axis where ``shape`` has size 1.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def check_operand(value, op: str) -> None:
    """A Tensor, a number, a bool or a numeric NumPy array; anything else is a TypeError naming
    the op (as PyTorch refuses ``tensor + [1, 2]``)."""
    if isinstance(value, (Tensor, bool, int, float, np.number, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
    ):
        return
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise TypeError(
        f"{op}: the other operand must be a Tensor, a number or a numeric NumPy array, got "
        f"{type(value).__name__} {shown}; wrap lists with neuronet.tensor(...)"
    )


def operand(value, like: Tensor, op: str = "operand"):
    """A Tensor for ``value``: Python and NumPy scalars take ``like``'s dtype (never upcast);
    see ``check_operand`` for what is accepted."""
    if isinstance(value, Tensor):
        return value
    check_operand(value, op)
    if isinstance(value, (bool, int, float, np.number)) and like.array.dtype.kind == "f":
        return Tensor(np.asarray(value, dtype=like.array.dtype))
    if isinstance(value, (bool, int, float)) and like.array.dtype.kind in "iu":
        if isinstance(value, float):
            return Tensor(np.asarray(value, dtype=np.float32))
        return Tensor(np.asarray(value, dtype=like.array.dtype))
    return Tensor(np.asarray(value))


def broadcast_error(op: str, a: Tensor, b: Tensor) -> ValueError:
    return ValueError(
        f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
        "(NumPy/PyTorch rules: trailing dimensions must be equal or 1); reshape or unsqueeze one "
        "operand so the dimensions line up"
    )


def normalize_dims(dim, ndim: int, op: str):
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dimension {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a value in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])"
            )
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dimension {dims} repeats an axis")
    return tuple(sorted(out))


def as_tuple(value, n: int, name: str, op: str) -> tuple:
    """``value`` (an int, or a sequence of 1 or n ints) as a tuple of n Python ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:
        value = tuple(value) * n  # (p,) means p for every spatial dim, as torch
    if isinstance(value, (tuple, list)) and len(value) == n:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            return tuple(int(v) for v in value)
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def shaped(a: np.ndarray, shape: tuple) -> np.ndarray:
    """``a`` with ``shape``; no new view when it already has it (views get copied by backward)."""
    return a if a.shape == shape else a.reshape(shape)


def swap_last(a: np.ndarray) -> np.ndarray:
    """The last two axes swapped (a view)."""
    return np.swapaxes(a, -1, -2)
