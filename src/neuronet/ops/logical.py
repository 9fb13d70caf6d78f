"""Predicates and logic: isnan, isinf, isposinf, isneginf, isfinite, signbit, logical_and/or/
xor/not, isclose, allclose, equal, isin.

All return bool tensors (``allclose`` and ``equal`` a Python bool) and have no gradient. The
logical ops treat any non-zero value as True, as PyTorch. ``isclose`` tests
|input - other| <= atol + rtol * |other| (infinities are close only to themselves; NaN only to
NaN with ``equal_nan=True``), PyTorch's and NumPy's rule.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import broadcastable, promote


def _array(input, op: str) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{op}: expected a Tensor, got {type(input).__name__}; wrap the data with "
            "neuronet.tensor(...)"
        )
    return input.array


def _float_test(fn, input, op: str) -> Tensor:
    x = _array(input, op)
    if x.dtype.kind != "f":
        return Tensor(
            np.zeros(x.shape, dtype=bool) if fn is not np.isfinite else np.ones(x.shape, bool)
        )
    return Tensor(np.asarray(fn(x)))


def isnan(input: Tensor) -> Tensor:
    """True where an element is NaN."""
    return _float_test(np.isnan, input, "isnan")


def isinf(input: Tensor) -> Tensor:
    """True where an element is +inf or -inf."""
    return _float_test(np.isinf, input, "isinf")


def isposinf(input: Tensor) -> Tensor:
    """True where an element is +inf."""
    return _float_test(np.isposinf, input, "isposinf")


def isneginf(input: Tensor) -> Tensor:
    """True where an element is -inf."""
    return _float_test(np.isneginf, input, "isneginf")


def isfinite(input: Tensor) -> Tensor:
    """True where an element is neither inf nor NaN (always True for integers)."""
    return _float_test(np.isfinite, input, "isfinite")


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set: negative numbers, -0.0 and negative NaN."""
    return Tensor(np.asarray(np.signbit(_array(input, "signbit"))))


def _logical(fn, input, other, op: str) -> Tensor:
    a = _array(input, op)
    b = other.array if isinstance(other, Tensor) else np.asarray(other)
    broadcastable(op, input, Tensor(b))
    return Tensor(np.asarray(fn(a.astype(bool), b.astype(bool))))


def logical_and(input: Tensor, other) -> Tensor:
    """Element-wise AND of the truth values (non-zero is True)."""
    return _logical(np.logical_and, input, other, "logical_and")


def logical_or(input: Tensor, other) -> Tensor:
    """Element-wise OR of the truth values (non-zero is True)."""
    return _logical(np.logical_or, input, other, "logical_or")


def logical_xor(input: Tensor, other) -> Tensor:
    """Element-wise XOR of the truth values (non-zero is True)."""
    return _logical(np.logical_xor, input, other, "logical_xor")


def logical_not(input: Tensor) -> Tensor:
    """Element-wise NOT of the truth values (True where an element is 0)."""
    return Tensor(np.asarray(np.logical_not(_array(input, "logical_not"))))


def isclose(input: Tensor, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan=False):
    """True where |input - other| <= atol + rtol * |other| (broadcasting)."""
    _array(input, "isclose")
    if rtol < 0 or atol < 0:
        raise ValueError(
            f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}"
        )
    a, b = promote(input, other, op="isclose")
    broadcastable("isclose", a, b)
    return Tensor(
        np.asarray(np.isclose(a.array, b.array, rtol=rtol, atol=atol, equal_nan=equal_nan))
    )


def allclose(input: Tensor, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan=False) -> bool:
    """True when every element is ``isclose`` (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and the same values (a Python bool)."""
    a = _array(input, "equal")
    b = _array(other, "equal")
    return a.shape == b.shape and bool(np.array_equal(a, b))


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """True where an element of ``elements`` is among ``test_elements`` (a tensor or a number;
    at least one of the two a tensor), in ``elements``' shape; ``invert`` negates it."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: elements or test_elements must be a Tensor")
    a = elements.array if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements.array if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor(np.isin(a, b, assume_unique=assume_unique, invert=invert))


__all__ = [
    "isin",
    "isnan",
    "isinf",
    "isposinf",
    "isneginf",
    "isfinite",
    "signbit",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isclose",
    "allclose",
    "equal",
]
