"""Creating tensors: from data, filled with a constant, ranges, identity, and random draws.

Names, argument order and defaults are PyTorch's; floating results are float32 unless a
``dtype`` says otherwise; random draws take ``generator=`` (see ``neuronet.random``).
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor, _coerce
from neuronet.random import resolve


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"a tensor size must be a non-negative int, got {size!r}")
    return tuple(int(s) for s in size)


def _float_dtype(dtype):
    return backend.as_dtype(dtype) or backend.DEFAULT_DTYPE


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (lists, scalars, arrays or a Tensor).

    Python floats become float32, Python ints int64, bools bool; NumPy arrays keep their dtype.

    Example:
        >>> tensor([[1.0, 2.0]]).shape
        (1, 2)
    """
    return Tensor(_coerce(data, dtype), requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    backend.as_dtype(array.dtype)
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = backend.bool_
        elif isinstance(fill_value, int):
            dtype = backend.int64
    return Tensor(np.full(_shape((size,)), fill_value, dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if ints else backend.DEFAULT_DTYPE
    return Tensor(np.arange(start, end, step, dtype=backend.as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def _like(t: Tensor, dtype):
    return backend.as_dtype(dtype) or t.dtype


def zeros_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.zeros(t.shape, dtype=_like(t, dtype)), requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.ones(t.shape, dtype=_like(t, dtype)), requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.full(t.shape, fill_value, dtype=_like(t, dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dtype = _float_dtype(dtype)
    return Tensor(resolve(generator).uniform(_shape(size), dtype=dtype), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    dtype = _float_dtype(dtype)
    return Tensor(resolve(generator).normal(_shape(size), dtype=dtype), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` also works, as in PyTorch)."""
    if high is None:
        raise TypeError(
            "randint needs high and size: randint(low, high, size) or randint(high, size=...)"
        )
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    data = resolve(generator).integers(low, high, _shape((size,)) if size != () else ())
    return Tensor(np.asarray(data, dtype=backend.as_dtype(dtype) or backend.int64))


def rand_like(t: Tensor, generator=None, dtype=None) -> Tensor:
    return rand(*t.shape, generator=generator, dtype=dtype or t.dtype)


def randn_like(t: Tensor, generator=None, dtype=None) -> Tensor:
    return randn(*t.shape, generator=generator, dtype=dtype or t.dtype)


def randint_like(t: Tensor, low, high=None, generator=None) -> Tensor:
    return randint(low, high, t.shape, generator=generator, dtype=t.dtype)


def randperm(n: int, generator=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    return Tensor(resolve(generator).permutation(n).astype(np.int64))
