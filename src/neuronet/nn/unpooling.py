"""MaxUnpool1d/2d/3d: put pooled maxima back where MaxPool took them from (zeros elsewhere)."""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import unpooling as U


class _MaxUnpoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

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


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d."""

    _fn = staticmethod(U.max_unpool3d)


__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]
