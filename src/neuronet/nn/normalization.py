"""Normalization layers: BatchNorm1d/2d/3d, LayerNorm, GroupNorm, RMSNorm.

Each layer owns the affine parameters (``weight``, ``bias``) and, for batch norm, the running
statistics (buffers ``running_mean``, ``running_var``, ``num_batches_tracked``), with PyTorch's
names, shapes, defaults and initialisation, so state dicts move between the two unchanged. The
math lives in ``neuronet.ops.normalization``.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import normalization as ops
from neuronet.ops.batch_norm import batch_norm


def _dtype(dtype, device) -> np.dtype:
    check_device(device, "a layer's parameters")
    return backend.as_dtype(dtype) or backend.DEFAULT_DTYPE


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d/3d; subclasses set the accepted input ranks."""

    weight: Parameter | None
    bias: Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    _ranks: tuple = ()  # accepted input ndim
    _layout: str = ""  # how the error message spells the expected input

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        dtype = _dtype(dtype, device)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.empty(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._version += 1

    def reset_parameters(self) -> None:
        """Running statistics reset; weight = 1, bias = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self.describe()}: expected {self._layout} with C={self.num_features}, "
                f"got shape {tuple(input.shape)}; the channel dimension (dim 1) must equal "
                "num_features (check the previous layer's output channels)"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1
            self.num_batches_tracked._version += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.array)
        use_batch_stats = self.training or self.running_mean is None
        if use_batch_stats and input.array.size // input.shape[1] <= 1:
            raise ValueError(
                f"{self.describe()}: Expected more than 1 value per channel when training, got "
                f"input size {tuple(input.shape)}; use a batch of more than one sample, or call "
                ".eval() to use the running statistics"
            )
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a (N, C) or (N, C, L) input, per channel.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    In training, E[x] and Var[x] are the batch's mean and biased variance over N (and L), and the
    running statistics are updated with the batch's **unbiased** variance:
    ``running = (1 - momentum) * running + momentum * batch`` (``momentum=None``: cumulative
    average, weight 1 / num_batches_tracked). In eval mode the running statistics are used
    (the batch's when ``track_running_stats=False``). Reference: Ioffe & Szegedy, 2015.

    Note: Keras' ``BatchNormalization(momentum=0.99, epsilon=1e-3)`` weights the *old* value by
    momentum and keeps a biased running variance; PyTorch's and neuronet's ``momentum=0.1``
    weights the new batch.

    Args:
        num_features: C.
        eps: added to the variance. Default 1e-5.
        momentum: weight of the new batch in the running average, or None for a cumulative
            average. Default 0.1.
        affine: learn ``weight`` and ``bias``. Default True.
        track_running_stats: keep running statistics (and use them in eval mode). Default True.
        bias: learn ``bias`` (when affine). Default True.
        dtype: parameter dtype (float32 default); device: 'cpu' only.

    Shape: input (N, C) or (N, C, L); output the same.

    Attributes:
        weight: (C,), initialised to 1.       bias: (C,), initialised to 0.
        running_mean: (C,) buffer, 0.         running_var: (C,) buffer, 1.
        num_batches_tracked: int64 scalar buffer, 0.

    Example:
        >>> import neuronet as nt
        >>> bn = nt.nn.BatchNorm1d(3)
        >>> bn(nt.randn(8, 3)).shape
        (8, 3)
    """

    _ranks = (2, 3)
    _layout = "2-D input (N, C) or 3-D input (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a (N, C, H, W) input, per channel (statistics over N, H, W).

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    Everything else (training vs eval, the unbiased running variance, momentum=None, the
    arguments and attributes) is as in ``BatchNorm1d``.

    Shape: input (N, C, H, W); output the same.

    Example:
        >>> import neuronet as nt
        >>> bn = nt.nn.BatchNorm2d(4)
        >>> bn(nt.randn(2, 4, 5, 5)).shape
        (2, 4, 5, 5)
    """

    _ranks = (4,)
    _layout = "4-D input (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over a (N, C, D, H, W) input, per channel (statistics over N, D, H,
    W); otherwise as ``BatchNorm1d``.

    Shape: input (N, C, D, H, W); output the same.
    """

    _ranks = (5,)
    _layout = "5-D input (N, C, D, H, W)"


def _normalized_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_trailing(module: Module, input: Tensor, shape: tuple) -> None:
    k = len(shape)
    if input.ndim < k or tuple(input.shape[-k:]) != shape:
        raise ValueError(
            f"{module.describe()}: expected input of shape (*, {', '.join(map(str, shape))}), "
            f"got {tuple(input.shape)}; normalized_shape={shape} must equal the input's last "
            f"{k} dimension(s)"
        )


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dimensions of each sample.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    E[x] and the biased Var[x] are taken over the last len(normalized_shape) dimensions; weight
    and bias are per element of normalized_shape. The same in training and eval mode.
    Reference: Ba et al., 2016. Note: Keras' LayerNormalization defaults to epsilon=1e-3.

    Args:
        normalized_shape: int or tuple, the trailing shape to normalise over.
        eps: added to the variance. Default 1e-5.
        elementwise_affine: learn ``weight`` (and ``bias``). Default True.
        bias: learn ``bias`` (when elementwise_affine). Default True.

    Shape: input (*, *normalized_shape); output the same.

    Attributes:
        weight: normalized_shape, initialised to 1.   bias: normalized_shape, initialised to 0.

    Example:
        >>> import neuronet as nt
        >>> ln = nt.nn.LayerNorm(16)
        >>> ln(nt.randn(2, 5, 16)).shape
        (2, 5, 16)
    """

    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = _dtype(dtype, device)
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input, self.normalized_shape)
        return ops.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalization: the C channels of each sample are split into ``num_groups`` groups,
    each normalised over its channels and spatial positions; the affine map is per channel.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias

    num_groups=1 normalises each sample over all of (C, *); num_groups=C is instance norm.
    Independent of the batch size, so the same in training and eval. Reference: Wu & He, 2018.

    Args:
        num_groups: G; must divide num_channels.
        num_channels: C.
        eps: added to the variance. Default 1e-5.
        affine: learn per-channel ``weight`` and ``bias``. Default True.
        bias: learn ``bias`` (when affine). Default True.

    Shape: input (N, C, *); output the same.

    Attributes:
        weight: (C,), initialised to 1.   bias: (C,), initialised to 0.

    Example:
        >>> import neuronet as nt
        >>> gn = nt.nn.GroupNorm(2, 6)
        >>> gn(nt.randn(3, 6, 4, 4)).shape
        (3, 6, 4, 4)
    """

    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels must be divisible by num_groups, got "
                f"num_channels={num_channels} and num_groups={num_groups}"
            )
        dtype = _dtype(dtype, device)
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(np.empty(num_channels, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(num_channels, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(
                f"{self.describe()}: expected input (N, C, *) with C={self.num_channels}, got "
                f"shape {tuple(input.shape)}; the channel dimension (dim 1) must equal "
                "num_channels"
            )
        return ops.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dimensions.

    y = x / sqrt(mean(x**2) + eps) * weight

    No mean subtraction and no bias. ``eps=None`` uses the machine epsilon of the input's dtype
    (``numpy.finfo(dtype).eps``, as PyTorch's ``torch.finfo``). Reference: Zhang & Sennrich, 2019.

    Args:
        normalized_shape: int or tuple, the trailing shape to normalise over.
        eps: added to the mean square, or None (dtype epsilon). Default None.
        elementwise_affine: learn ``weight``. Default True.

    Shape: input (*, *normalized_shape); output the same.

    Attributes:
        weight: normalized_shape, initialised to 1.

    Example:
        >>> import neuronet as nt
        >>> nt.nn.RMSNorm(8)(nt.randn(4, 8)).shape
        (4, 8)
    """

    weight: Parameter | None

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = _dtype(dtype, device)
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight = 1."""
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input, self.normalized_shape)
        return ops.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "RMSNorm"]
