"""Conv3d and ConvTranspose3d: the 3-d convolution layers (``ops/conv3d.py``), with PyTorch's
parameter names, shapes and initialisation (as Conv2d, see ``nn/conv.py``)."""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.conv import _ConvNd, _ConvTransposeNd
from neuronet.ops import conv3d as C


def _check_rank(layer, input) -> None:
    if not isinstance(input, Tensor) or input.ndim not in (4, 5):
        got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(
            f"{layer.describe()}: expected a 5-d input (N, C, D, H, W) or unbatched "
            f"(C, D, H, W), got {got}"
        )


class Conv3d(_ConvNd):
    """3-d convolution (cross-correlation) over volumes (video, medical scans).

    Args: as Conv2d, with (d, h, w) triples.

    Shape: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, OD, OH, OW).

    Attributes:
        weight: (out_channels, in_channels/groups, kD, kH, kW), U(-1/sqrt(fan_in), +) with
            fan_in = in_channels/groups * kD * kH * kW.
        bias: (out_channels,), same distribution.

    Example:
        >>> import neuronet as nt
        >>> nt.nn.Conv3d(2, 4, 3, padding=1)(nt.randn(1, 2, 5, 5, 5)).shape
        (1, 4, 5, 5, 5)
    """

    _spatial = 3

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            0,
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:
        _check_rank(self, input)
        self._check_input(input)
        return C.conv3d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (the gradient of Conv3d with respect to its input).

    Shape: (N, C_in, D, H, W) -> (N, C_out, OD, OH, OW),
        OD = (D-1)*sd - 2*pd + dd*(kD-1) + output_padding_d + 1 (and likewise).

    Attributes:
        weight: (in_channels, out_channels/groups, kD, kH, kW), U(-1/sqrt(fan_in), +) with
            fan_in = out_channels/groups * kD * kH * kW (PyTorch reads weight.shape[1]).
        bias: (out_channels,), same distribution.
    """

    _spatial = 3

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding,
            device,
            dtype,
        )

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        _check_rank(self, input)
        self._check_input(input)
        return C.conv_transpose3d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


__all__ = ["Conv3d", "ConvTranspose3d"]
