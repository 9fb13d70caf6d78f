"""Padding layers, PyTorch's names: ZeroPad1d/2d/3d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d,
ReplicationPad1d/2d/3d, CircularPad1d/2d/3d. Each calls ``F.pad`` with its mode.

``padding`` is an int (the same on every side of the last 1, 2 or 3 dims) or a tuple in F.pad's
order: (left, right) for 1d, (left, right, top, bottom) for 2d, (left, right, top, bottom,
front, back) for 3d. Negative amounts crop.

Example:
    >>> import neuronet as nt
    >>> from neuronet import nn
    >>> nn.ReflectionPad1d(2)(nt.tensor([[[1.0, 2.0, 3.0]]])).tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]]
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops.padding import pad


class _PadNd(Module):
    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        n = 2 * self._dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a tuple of {n} ints, got "
                f"{padding}"
            )
        self.padding = padding
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        value = self.value if self._mode == "constant" else None
        try:
            return pad(input, self.padding, self._mode, value)
        except ValueError as err:
            raise ValueError(f"{self.describe()}: {err}") from None

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("ConstantPad"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ZeroPad1d(_PadNd):
    """Pads with zeros.

    Pads the last 1 dim: any input."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(_PadNd):
    """Pads with zeros.

    Pads the last 2 dims: any input."""

    _dims = 2
    _mode = "constant"

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad3d(_PadNd):
    """Pads with zeros.

    Pads the last 3 dims: any input."""

    _dims = 3
    _mode = "constant"

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_PadNd):
    """Pads with the constant ``value``.

    Pads the last 1 dim: any input."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Pads with the constant ``value``.

    Pads the last 2 dims: any input."""

    _dims = 2
    _mode = "constant"

    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ConstantPad3d(_PadNd):
    """Pads with the constant ``value``.

    Pads the last 3 dims: any input."""

    _dims = 3
    _mode = "constant"

    def __init__(self, padding, value: float):
        super().__init__(padding, value)


class ReflectionPad1d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated).

    Pads the last 1 dim: (N, C, W) or (C, W)."""

    _dims = 1
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated).

    Pads the last 2 dims: (N, C, H, W) or (C, H, W)."""

    _dims = 2
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReflectionPad3d(_PadNd):
    """Pads with the reflection of the input (the edge is not repeated).

    Pads the last 3 dims: (N, C, D, H, W) or (C, D, H, W)."""

    _dims = 3
    _mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pads by repeating the edge values.

    Pads the last 1 dim: (N, C, W) or (C, W)."""

    _dims = 1
    _mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Pads by repeating the edge values.

    Pads the last 2 dims: (N, C, H, W) or (C, H, W)."""

    _dims = 2
    _mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad3d(_PadNd):
    """Pads by repeating the edge values.

    Pads the last 3 dims: (N, C, D, H, W) or (C, D, H, W)."""

    _dims = 3
    _mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """Pads by wrapping around (values from the other end).

    Pads the last 1 dim: (N, C, W) or (C, W)."""

    _dims = 1
    _mode = "circular"

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """Pads by wrapping around (values from the other end).

    Pads the last 2 dims: (N, C, H, W) or (C, H, W)."""

    _dims = 2
    _mode = "circular"

    def __init__(self, padding):
        super().__init__(padding)


class CircularPad3d(_PadNd):
    """Pads by wrapping around (values from the other end).

    Pads the last 3 dims: (N, C, D, H, W) or (C, D, H, W)."""

    _dims = 3
    _mode = "circular"

    def __init__(self, padding):
        super().__init__(padding)


__all__ = [
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]
