"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d.

No parameters; each layer stores its hyperparameters as PyTorch does (so ``repr`` matches) and
calls the op in ``neuronet.ops.pooling`` (``neuronet.ops.adaptive_pooling`` for the adaptive
layers). An input the op rejects raises with this layer's path in the model, e.g. "MaxPool2d at
'features.3': max_pool2d: input of shape ... is too small".
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import adaptive_pooling as AP
from neuronet.ops import pooling as P


class _Pool(Module):
    """Runs a pooling op and prefixes its errors with this layer's place in the model."""

    def _pool(self, fn, input, *args, **kwargs):
        try:
            return fn(input, *args, **kwargs)
        except (ValueError, TypeError) as err:
            raise self.relabel(err) from None


class _MaxPoolNd(_Pool):
    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling: y[n, c, l] = max over k of x[n, c, l*stride - padding + k*dilation].

    Args and shape as MaxPool2d, with one spatial axis: (N, C, L) or (C, L) -> (N, C, L_out).
    """

    def forward(self, input: Tensor):
        return self._pool(
            P.max_pool1d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling: y[n, c, oh, ow] = max of x over the (dilated) kH x kW window.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or pair; default kernel_size (non-overlapping windows).
        padding: implicit -inf padding on both sides (at most half the effective kernel).
        dilation: spacing between window cells.
        return_indices: also return the flat index h*W + w of each maximum (int64).
        ceil_mode: round the output size up instead of down.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, OH, OW),
        OH = (H + 2*ph - dh*(kH-1) - 1) // sh + 1 (rounded up with ceil_mode).

    The gradient goes to the first maximum of each window when several cells tie.

    Example:
        >>> import neuronet as nt
        >>> nt.nn.MaxPool2d(2)(nt.randn(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def forward(self, input: Tensor):
        return self._pool(
            P.max_pool2d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool1d(_Pool):
    """1-d average pooling: the mean of each window of ``kernel_size`` cells.

    Args:
        kernel_size, stride (default kernel_size), padding: int or 1-tuple (zero padding).
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the zero padding in the divisor (default True, as PyTorch).

    Shape:
        (N, C, L) or (C, L) -> (N, C, L_out), L_out = (L + 2*padding - kernel_size) // stride + 1.
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(
            P.avg_pool1d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AvgPool2d(_Pool):
    """2-d average pooling: y[n, c, oh, ow] = (sum of x over the kH x kW window) / divisor.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or pair; default kernel_size.
        padding: zero padding on both sides (at most half the kernel).
        ceil_mode: round the output size up instead of down.
        count_include_pad: divide by the window size including zero padding (default True, as
            PyTorch; Keras' 'same' pooling excludes the padding, i.e. False here).
        divisor_override: divide by this number instead.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), OH = (H + 2*ph - kH) // sh + 1.
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(
            P.avg_pool2d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptivePool(_Pool):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average over ``output_size`` adaptive bins: (N, C, L) or (C, L) -> (N, C, output_size).

    Bin i covers [floor(i*L/n), ceil((i+1)*L/n)).
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(AP.adaptive_avg_pool1d, input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average over adaptive bins so the output is ``output_size`` whatever the input size.

    Bin i of an axis of length L split n ways covers [floor(i*L/n), ceil((i+1)*L/n)), so bins
    overlap when n does not divide L. AdaptiveAvgPool2d(1) is global average pooling.

    Args:
        output_size: int, (OH, OW), or a pair with None to keep that axis' size.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).
    """

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(AP.adaptive_avg_pool2d, input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Maximum over ``output_size`` adaptive bins of (N, C, L) or (C, L); see AdaptiveAvgPool1d.

    With return_indices=True also returns the index of each maximum in its input row (int64).
    """

    def forward(self, input: Tensor):
        return self._pool(AP.adaptive_max_pool1d, input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Maximum over adaptive bins so the output is ``output_size``; see AdaptiveAvgPool2d.

    With return_indices=True also returns the flat index h*W + w of each maximum (int64).
    """

    def forward(self, input: Tensor):
        return self._pool(AP.adaptive_max_pool2d, input, self.output_size, self.return_indices)


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
]
