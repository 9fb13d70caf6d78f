"""Creating tensors: from data, filled with a constant, ranges, identity, and random draws.

Names, argument order and defaults are PyTorch's; floating results are float32 unless a
``dtype`` says otherwise; random draws take ``generator=`` (see ``neuronet.random``). Every
function takes PyTorch's ``device=`` (``'cpu'``, ``neuronet.device('cpu')`` or None; a GPU
raises ``DeviceError``, as a CPU-only PyTorch does) and ``layout=`` (strided only).
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor, _coerce
from neuronet.device import check_device
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


def _floating(name: str, dtype):
    """``dtype`` (default float32) if it is a floating type, as PyTorch's random draws need."""
    dtype = _float_dtype(dtype)
    if np.dtype(dtype).kind != "f":
        raise TypeError(
            f"{name}: dtype must be floating point (float32 or float64), got {np.dtype(dtype)}; "
            "use randint for random integers"
        )
    return dtype


def _number(name: str, label: str, value) -> None:
    if not isinstance(value, (int, float, np.number)):  # bools count, as in torch
        raise TypeError(f"{name}: {label} must be a number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{name}: {label} must be finite, got {value!r}")


def _made(array: np.ndarray, requires_grad: bool, device, layout=None) -> Tensor:
    """The new tensor, after checking the PyTorch keywords every creation function takes:
    ``device`` (the CPU only; see ``neuronet.device``) and ``layout`` (strided only)."""
    check_device(device)
    if layout is not None and str(layout) not in ("strided", "torch.strided"):
        raise ValueError(f"layout={layout!r} is not supported; neuronet tensors are strided")
    return Tensor(array, requires_grad)


def tensor(data, dtype=None, requires_grad: bool = False, *, device=None, pin_memory=False):
    """A new tensor holding a copy of ``data`` (lists, scalars, arrays or a Tensor).

    Python floats become float32, Python ints int64, bools bool; NumPy arrays keep their dtype.
    ``device`` may be ``'cpu'`` (or None); ``pin_memory`` is accepted and does nothing (there
    is no GPU to copy to).

    Example:
        >>> tensor([[1.0, 2.0]]).shape
        (1, 2)
    """
    return _made(_coerce(data, dtype), requires_grad, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    backend.as_dtype(array.dtype)
    return Tensor(array)


def zeros(*size, dtype=None, requires_grad=False, device=None, layout=None, out=None) -> Tensor:
    _no_out(out, "zeros")
    return _made(np.zeros(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device, layout)


def ones(*size, dtype=None, requires_grad=False, device=None, layout=None, out=None) -> Tensor:
    _no_out(out, "ones")
    return _made(np.ones(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device, layout)


def full(size, fill_value, dtype=None, requires_grad=False, *, device=None, layout=None) -> Tensor:
    if dtype is None:
        if isinstance(fill_value, bool):
            dtype = backend.bool_
        elif isinstance(fill_value, int):
            dtype = backend.int64
    if not isinstance(fill_value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"full: fill_value must be a number or a bool, got {fill_value!r}")
    array = np.full(_shape((size,)), fill_value, dtype=_float_dtype(dtype))
    return _made(array, requires_grad, device, layout)


def empty(
    *size,
    dtype=None,
    requires_grad=False,
    device=None,
    layout=None,
    pin_memory=False,
    memory_format=None,
) -> Tensor:
    return _made(np.empty(_shape(size), dtype=_float_dtype(dtype)), requires_grad, device, layout)


def arange(
    start, end=None, step=1, dtype=None, requires_grad=False, *, device=None, layout=None
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if ints else backend.DEFAULT_DTYPE
    for label, value in (("start", start), ("end", end), ("step", step)):
        _number("arange", label, value)
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    array = np.arange(start, end, step, dtype=backend.as_dtype(dtype))
    return _made(array, requires_grad, device, layout)


def linspace(
    start, end, steps, dtype=None, requires_grad=False, *, device=None, layout=None
) -> Tensor:
    start = start.item() if isinstance(start, Tensor) else start  # 0-d tensors, as torch
    end = end.item() if isinstance(end, Tensor) else end
    _number("linspace", "start", start)
    _number("linspace", "end", end)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    array = np.linspace(start, end, steps, dtype=_float_dtype(dtype))
    return _made(array, requires_grad, device, layout)


def logspace(
    start, end, steps, base=10.0, dtype=None, requires_grad=False, *, device=None, layout=None
) -> Tensor:
    """``steps`` values base ** t for t evenly spaced from ``start`` to ``end`` (both included),
    computed in float64 and converted to ``dtype`` (float32 by default), as PyTorch."""
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    _number("logspace", "start", start)
    _number("logspace", "end", end)
    _number("logspace", "base", base)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"logspace: steps must be a non-negative int, got {steps!r}")
    with np.errstate(over="ignore"):
        values = np.power(float(base), np.linspace(start, end, steps, dtype=np.float64))
    return _made(values.astype(_float_dtype(dtype)), requires_grad, device, layout)


def eye(n, m=None, dtype=None, requires_grad=False, *, device=None, layout=None) -> Tensor:
    _shape((n,) if m is None else (n, m))
    return _made(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device, layout)


def _like(t: Tensor, dtype):
    return backend.as_dtype(dtype) or t.dtype


def zeros_like(
    t: Tensor, dtype=None, requires_grad=False, *, device=None, layout=None, memory_format=None
) -> Tensor:
    return _made(np.zeros(t.shape, dtype=_like(t, dtype)), requires_grad, device, layout)


def ones_like(
    t: Tensor, dtype=None, requires_grad=False, *, device=None, layout=None, memory_format=None
) -> Tensor:
    return _made(np.ones(t.shape, dtype=_like(t, dtype)), requires_grad, device, layout)


def full_like(
    t: Tensor,
    fill_value,
    dtype=None,
    requires_grad=False,
    *,
    device=None,
    layout=None,
    memory_format=None,
) -> Tensor:
    array = np.full(t.shape, fill_value, dtype=_like(t, dtype))
    return _made(array, requires_grad, device, layout)


def empty_like(
    t: Tensor, dtype=None, requires_grad=False, *, device=None, layout=None, memory_format=None
) -> Tensor:
    return _made(np.empty(t.shape, dtype=_like(t, dtype)), requires_grad, device, layout)


def rand(
    *size,
    generator=None,
    dtype=None,
    requires_grad=False,
    device=None,
    layout=None,
    pin_memory=False,
) -> Tensor:
    """Uniform samples on [0, 1)."""
    dtype = _floating("rand", dtype)
    array = resolve(generator).uniform(_shape(size), dtype=dtype)
    return _made(array, requires_grad, device, layout)


def randn(
    *size,
    generator=None,
    dtype=None,
    requires_grad=False,
    device=None,
    layout=None,
    pin_memory=False,
) -> Tensor:
    """Standard normal samples."""
    dtype = _floating("randn", dtype)
    array = resolve(generator).normal(_shape(size), dtype=dtype)
    return _made(array, requires_grad, device, layout)


def randint(
    low,
    high=None,
    size=(),
    generator=None,
    dtype=None,
    *,
    device=None,
    layout=None,
    requires_grad=False,
) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` also works, as in PyTorch)."""
    if high is None:
        raise TypeError(
            "randint needs high and size: randint(low, high, size) or randint(high, size=...)"
        )
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    _number("randint", "low", low)
    _number("randint", "high", high)
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    data = resolve(generator).integers(low, high, _shape((size,)) if size != () else ())
    array = np.asarray(data, dtype=backend.as_dtype(dtype) or backend.int64)
    return _made(array, requires_grad, device, layout)


def rand_like(
    t: Tensor,
    generator=None,
    dtype=None,
    *,
    device=None,
    layout=None,
    requires_grad=False,
    memory_format=None,
) -> Tensor:
    return rand(
        *t.shape,
        generator=generator,
        dtype=dtype or t.dtype,
        device=device,
        layout=layout,
        requires_grad=requires_grad,
    )


def randn_like(
    t: Tensor,
    generator=None,
    dtype=None,
    *,
    device=None,
    layout=None,
    requires_grad=False,
    memory_format=None,
) -> Tensor:
    return randn(
        *t.shape,
        generator=generator,
        dtype=dtype or t.dtype,
        device=device,
        layout=layout,
        requires_grad=requires_grad,
    )


def randint_like(
    t: Tensor,
    low,
    high=None,
    generator=None,
    *,
    dtype=None,
    device=None,
    layout=None,
    requires_grad=False,
    memory_format=None,
) -> Tensor:
    """``randint_like(t, high)`` or ``randint_like(t, low, high)``, as PyTorch."""
    if high is None:
        low, high = 0, low
    return randint(
        low,
        high,
        t.shape,
        generator=generator,
        dtype=dtype or t.dtype,
        device=device,
        layout=layout,
        requires_grad=requires_grad,
    )


def randperm(
    n: int,
    generator=None,
    *,
    dtype=None,
    device=None,
    layout=None,
    requires_grad=False,
    pin_memory=False,
) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    array = resolve(generator).permutation(n).astype(backend.as_dtype(dtype) or np.int64)
    return _made(array, requires_grad, device, layout)


def _no_out(out, name: str) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported; assign the result instead")


# ---- Tensor.new_*: PyTorch's factory methods, a new tensor with self's dtype by default ---------
# (``layout`` strided only, ``pin_memory`` a no-op on the CPU, as in the functions above.)
def new_tensor(
    self, data, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
) -> Tensor:
    """A copy of ``data`` as a new tensor of self's dtype (or ``dtype``), not in self's graph."""
    data = data.array if isinstance(data, Tensor) else data
    out = tensor(data, dtype=_like(self, dtype), requires_grad=requires_grad, device=device)
    return _made(out.array, requires_grad, device, layout)


def new_zeros(
    self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
) -> Tensor:
    """``zeros(*size)`` of self's dtype (or ``dtype``); size as ints or one tuple."""
    return zeros(
        *size, dtype=_like(self, dtype), requires_grad=requires_grad, device=device, layout=layout
    )


def new_ones(
    self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
) -> Tensor:
    """``ones(*size)`` of self's dtype (or ``dtype``); size as ints or one tuple."""
    return ones(
        *size, dtype=_like(self, dtype), requires_grad=requires_grad, device=device, layout=layout
    )


def new_empty(
    self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
) -> Tensor:
    """``empty(*size)`` of self's dtype (or ``dtype``): values are uninitialised."""
    return empty(
        *size, dtype=_like(self, dtype), requires_grad=requires_grad, device=device, layout=layout
    )


def new_full(
    self,
    size,
    fill_value,
    dtype=None,
    device=None,
    requires_grad=False,
    layout=None,
    pin_memory=False,
) -> Tensor:
    """``full(size, fill_value)`` of self's dtype (or ``dtype``), whatever the fill's type."""
    return full(size, fill_value, _like(self, dtype), requires_grad, device=device, layout=layout)
