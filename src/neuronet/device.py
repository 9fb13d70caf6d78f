"""Devices: neuronet computes on the CPU, and answers device questions as a CPU-only PyTorch.

``neuronet.device('cpu')`` (also ``'cpu:0'`` or ``device('cpu', 0)``) names the CPU; every
creation function, ``Tensor.to``, ``Module.to`` and ``Module`` layers take ``device=``, so code
written as ``x.to(device)`` runs unchanged. ``neuronet.cuda.is_available()`` is False, and asking
for ``'cuda'`` (or ``'mps'``) raises ``DeviceError`` with the reason, as a PyTorch build without
CUDA raises ``AssertionError: Torch not compiled with CUDA enabled`` (``DeviceError`` is both a
``RuntimeError`` and an ``AssertionError``, so either ``except`` clause catches it).
"""

from __future__ import annotations

__all__ = ["device", "DeviceError", "check_device", "parse_to"]

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia", "privateuseone")


class DeviceError(RuntimeError, AssertionError):
    """A device other than the CPU was asked for; neuronet has no GPU backend."""


class device:
    """A device name: ``device('cpu')``, ``device('cpu:0')``, ``device('cuda', 1)``.

    Any of PyTorch's device types can be named (so ``device('cuda' if cuda.is_available()
    else 'cpu')`` works), but only the CPU can hold tensors.

    Example:
        >>> device("cpu")
        device(type='cpu')
        >>> str(device("cpu", 0))
        'cpu:0'
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # torch.device(0) is cuda:0
        elif isinstance(type, str):
            name, sep, number = type.partition(":")
            if sep:
                if index is not None or not number.isdigit():
                    raise RuntimeError(f"Invalid device string: '{type}'")
                index = int(number)
            type = name
        else:
            raise TypeError(f"device() expects a string, got {type.__class__.__name__}")
        if type not in _KNOWN:
            raise RuntimeError(
                f"Expected one of {', '.join(_KNOWN)} device type at start of device string: {type}"
            )
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def check_device(dev, what: str = "a tensor") -> None:
    """Accept ``None`` or the CPU; raise ``DeviceError`` for anything else."""
    if dev is None:
        return
    dev = device(dev)
    if dev.type == "cpu":
        return
    if dev.type == "cuda":
        reason = "it was not built with CUDA (no GPU backend exists)"
    else:
        reason = f"it has no {dev.type!r} backend"
    raise DeviceError(
        f"cannot put {what} on device {str(dev)!r}: neuronet computes on the CPU only and "
        f"{reason}. Use device='cpu' (or leave it out); neuronet.cuda.is_available() is False, "
        "so `device = 'cuda' if neuronet.cuda.is_available() else 'cpu'` picks the CPU"
    )


def _is_device(value) -> bool:
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        return value.partition(":")[0] in _KNOWN
    return False


def parse_to(args: tuple, kwargs: dict):
    """``(device, dtype, copy)`` from PyTorch's ``.to(...)`` forms: ``to(dtype)``,
    ``to(device, dtype=None)``, ``to(other_tensor)``, ``to(device=..., dtype=...)``, plus
    ``non_blocking`` and ``copy`` (and, for modules, ``memory_format``)."""
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    rest = list(args)
    if rest and hasattr(rest[0], "array") and hasattr(rest[0], "dtype"):  # to(other_tensor)
        other = rest.pop(0)
        dev, dtype = CPU, other.dtype
    elif rest and (_is_device(rest[0]) or isinstance(rest[0], int) and rest[0] is not None):
        if not isinstance(rest[0], bool):
            dev = rest.pop(0)
    if rest:
        dtype = rest.pop(0)
    if rest and isinstance(rest[0], bool):  # to(dtype, non_blocking, copy)
        rest.pop(0)
        if rest:
            copy = bool(rest.pop(0))
    if rest:
        raise TypeError(f"to() received unexpected arguments {rest!r}")
    return dev, dtype, copy
