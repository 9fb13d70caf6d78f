"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

Each layer holds ``weight`` and ``bias`` with PyTorch's names and shapes (docs/semantics.md,
"Parameter layouts") and calls the op in ``neuronet.ops.conv``. The default initialisation is
PyTorch's (docs/semantics.md, "Default initialization"): kaiming_uniform_(a=sqrt(5)), i.e. weight ~
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.shape[1] * prod(kernel_size), and bias ~
U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import conv as C
from neuronet.ops._util import as_tuple


class _ConvNd(Module):
    """What Conv1d/2d and ConvTranspose1d/2d share: hyperparameters, parameters, init, checks."""

    _spatial = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        output_padding=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        name = type(self).__name__
        check_device(device, f"{name}'s parameters")
        n = self._spatial
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(
                f"{name}: in_channels must be divisible by groups (in_channels={in_channels}, "
                f"groups={groups})"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"{name}: out_channels must be divisible by groups (out_channels={out_channels}, "
                f"groups={groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros' is "
                "(pad the input yourself for reflect/replicate/circular padding)"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, n, "kernel_size", name)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size!r}")
        self.stride = as_tuple(stride, n, "stride", name)
        self.dilation = as_tuple(dilation, n, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self.transposed:
                allowed = "an int or a tuple" if self.transposed else "'same', 'valid'"
                raise ValueError(f"{name}: invalid padding string {padding!r}; use {allowed}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions "
                    f"(stride={self.stride}); use stride=1 or give the padding as numbers"
                )
            self.padding = padding
        else:
            self.padding = as_tuple(padding, n, "padding", name)
        self.output_padding = as_tuple(output_padding, n, "output_padding", name)
        self.groups = groups
        self.padding_mode = padding_mode
        dtype = backend.as_dtype(dtype) or backend.DEFAULT_DTYPE
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

        fan_in = weight.shape[1] * prod(kernel_size); kaiming_uniform_ with a=sqrt(5) gives
        exactly that bound for the weight.
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def extra_repr(self) -> str:
        n = self._spatial
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _check_input(self, input) -> None:
        n = self._spatial
        dims = "(N, C, L) or unbatched (C, L)" if n == 1 else "(N, C, H, W) or unbatched (C, H, W)"
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{self.describe()}: expected a neuronet Tensor, got {type(input).__name__}; wrap "
                "arrays with neuronet.tensor(...)"
            )
        shape = tuple(input.shape)
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(
                f"{self.describe()}: expected a {n + 2}-d input {dims}, got shape {shape}; "
                + (
                    "flatten extra dimensions into the batch, or add the channel axis with "
                    ".unsqueeze(1) for single-channel data"
                    if input.ndim != n
                    else "add the channel axis with .unsqueeze(1) (or .unsqueeze(0) if unbatched)"
                )
            )
        channels = shape[-n - 1]
        if channels != self.in_channels and input.ndim == n + 1 and self.in_channels == 1:
            raise ValueError(
                f"{self.describe()}: expected a {n + 2}-d input {dims} with 1 channel "
                f"(in_channels=1), got shape {shape}, read as one unbatched input with "
                f"{channels} channels; if it is a batch of {shape[0]} single-channel inputs, "
                f"add the channel axis: x.unsqueeze(1) -> {(shape[0], 1) + shape[1:]}"
            )
        if channels != self.in_channels:
            raise ValueError(
                f"{self.describe()}: expected input with {self.in_channels} channels "
                f"(in_channels), got shape {shape}; set in_channels={channels}, or check the "
                "layout: channels come first, (N, C, "
                + ("L)" if n == 1 else "H, W); NHWC data needs .permute(0, 3, 1, 2)")
            )
        if self.transposed or isinstance(self.padding, str):
            return
        padded = tuple(s + 2 * p for s, p in zip(shape[-n:], self.padding))
        reach = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
        if any(p < r for p, r in zip(padded, reach)):
            raise ValueError(
                f"{self.describe()}: input of shape {shape} is smaller than the kernel: size "
                f"{padded} after padding, but the (dilated) kernel spans {reach}; use a larger "
                "input, more padding, or remove a downsampling layer before this one"
            )


class Conv1d(_ConvNd):
    """1-d convolution: y[n, o] = bias[o] + sum over c in o's group of weight[o, c] ⋆ x[n, c].

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, 'valid' or 'same' (stride 1 only; the odd cell goes right).
        groups: split the channels into independent groups (in_channels = depthwise).
        bias: learn an additive bias (default True).
        padding_mode: only 'zeros'.

    Shape:
        input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out),
        L_out = (L + 2*padding - dilation*(kernel_size-1) - 1) // stride + 1.

    Attributes:
        weight: (out_channels, in_channels/groups, kernel_size), U(-1/sqrt(fan_in), +) with
            fan_in = in_channels/groups * kernel_size.
        bias: (out_channels,), same distribution.
    """

    _spatial = 1

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
        self._check_input(input)
        return C.conv1d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """2-d convolution: y[n, o] = bias[o] + sum over c in o's group of weight[o, c] ⋆ x[n, c].

    ⋆ is cross-correlation (the kernel is not flipped), as in every deep-learning framework.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, dilation: int or (h, w).
        padding: int, (ph, pw), 'valid' or 'same' (stride 1 only; total dilation*(k-1) per
            axis, the odd cell on the right/bottom, as PyTorch).
        groups: split the channels into independent groups (groups=in_channels: depthwise).
        bias: learn an additive bias (default True).
        padding_mode: only 'zeros'.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, OH, OW),
        OH = (H + 2*ph - dh*(kH-1) - 1) // sh + 1, and likewise OW.

    Attributes:
        weight: (out_channels, in_channels/groups, kH, kW), U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            with fan_in = in_channels/groups * kH * kW (kaiming_uniform_, a=sqrt(5)).
        bias: (out_channels,), same distribution.

    Example:
        >>> import neuronet as nt
        >>> conv = nt.nn.Conv2d(3, 8, 3, padding=1)
        >>> conv(nt.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
    """

    _spatial = 2

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
        self._check_input(input)
        return C.conv2d(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class _ConvTransposeNd(_ConvNd):
    transposed = True

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """output_padding that gives ``output_size`` (PyTorch's rule), or the layer's own."""
        if output_size is None:
            return self.output_padding
        n = self._spatial
        wanted = tuple(output_size)[-n:]
        if len(wanted) != n:
            raise ValueError(
                f"{self.describe()}: output_size must give the last {n} sizes, got {output_size}"
            )
        result = []
        for i in range(n):
            size = input.shape[-n + i]
            k = self.kernel_size[i]
            lowest = (
                (size - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (k - 1) + 1
            )
            highest = lowest + self.stride[i] - 1
            if not lowest <= wanted[i] <= highest:
                raise ValueError(
                    f"{self.describe()}: requested output size {wanted} is not reachable from "
                    f"input shape {tuple(input.shape)}; size {i} must be in [{lowest}, {highest}]"
                )
            result.append(wanted[i] - lowest)
        return tuple(result)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (the gradient of Conv1d with respect to its input).

    Shape:
        input (N, C_in, L) or (C_in, L) -> output (N, C_out, L_out),
        L_out = (L-1)*stride - 2*padding + dilation*(kernel_size-1) + output_padding + 1.

    Attributes:
        weight: (in_channels, out_channels/groups, kernel_size), U(-1/sqrt(fan_in), +) with
            fan_in = out_channels/groups * kernel_size (PyTorch reads weight.shape[1]).
        bias: (out_channels,), same distribution.
    """

    _spatial = 1

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
        self._check_input(input)
        return C.conv_transpose1d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution ("deconvolution"): the gradient of Conv2d w.r.t. its input.

    Each input pixel adds a weighted copy of the kernel to the output, so stride s upsamples
    by about s (decoders, segmentation heads, autoencoders).

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias: as Conv2d.
        padding: int or pair: cells cut from both ends of each output axis, so that
            ConvTranspose2d(..., padding=p) maps back the shapes of Conv2d(..., padding=p).
        output_padding: extra rows/columns on the bottom/right (< stride or dilation); or pass
            ``output_size`` to ``forward`` to choose it.

    Shape:
        input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, OH, OW),
        OH = (H-1)*sh - 2*ph + dh*(kH-1) + output_padding_h + 1.

    Attributes:
        weight: (in_channels, out_channels/groups, kH, kW), U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            with fan_in = out_channels/groups * kH * kW (PyTorch reads weight.shape[1]).
        bias: (out_channels,), same distribution.
    """

    _spatial = 2

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
        self._check_input(input)
        return C.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]
