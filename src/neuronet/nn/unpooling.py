"""MaxUnpool1d/2d/3d: put pooled maxima back where MaxPool took them from (zeros elsewhere)."""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import unpooling as U
from neuronet.ops._util import as_tuple


class _MaxUnpoolNd(Module):
    _fn = None
    _dims = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = as_tuple(kernel_size, self._dims, "kernel_size", name)
        self.stride = as_tuple(
            stride if stride is not None else kernel_size, self._dims, "stride", name
        )
        self.padding = as_tuple(padding, self._dims, "padding", name)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return type(self)._fn(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: (N, C, L_in) -> (N, C, L_out) with
    L_out = (L_in - 1) * stride - 2 * padding + kernel_size (or output_size)."""

    _fn = staticmethod(U.max_unpool1d)
    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d (pass the indices from return_indices=True).

    Example:
        >>> import neuronet as nt
        >>> pool = nt.nn.MaxPool2d(2, return_indices=True)
        >>> y, idx = pool(nt.randn(1, 1, 4, 4))
        >>> nt.nn.MaxUnpool2d(2)(y, idx).shape
        (1, 1, 4, 4)
    """

    _fn = staticmethod(U.max_unpool2d)
    _dims = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d."""

    _fn = staticmethod(U.max_unpool3d)
    _dims = 3


__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]
