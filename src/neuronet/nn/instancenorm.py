"""Instance normalization layers: InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, and
LocalResponseNorm.

InstanceNorm normalises each (sample, channel) over its spatial positions (Ulyanov et al., 2016).
PyTorch's defaults: ``affine=False`` and ``track_running_stats=False`` (unlike BatchNorm), so by
default the layer has no parameters and no buffers, and behaves the same in train and eval. With
``track_running_stats=True`` it keeps ``running_mean``, ``running_var`` and
``num_batches_tracked`` (as BatchNorm) and normalises with them in eval mode.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops.instance_norm import instance_norm
from neuronet.ops.local_response_norm import local_response_norm


class _InstanceNorm(Module):
    _spatial = 1
    weight: Parameter | None
    bias: Parameter | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = backend.as_dtype(dtype) or backend.DEFAULT_DTYPE
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.empty(num_features, dtype=dtype))
            self.bias = Parameter(np.empty(num_features, dtype=dtype))
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

    def reset_parameters(self) -> None:
        """weight = 1, bias = 0; running_mean = 0, running_var = 1."""
        if self.weight is not None:
            init.ones_(self.weight)
            init.zeros_(self.bias)
        if self.running_mean is not None:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        n = self._spatial
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2):
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"{self.describe()}: expected a {n + 1}-d (unbatched) or {n + 2}-d input, got {got}"
            )
        batched = input.ndim == n + 2
        x = input if batched else input.reshape(1, *input.shape)
        if x.shape[1] != self.num_features and self.affine:
            raise ValueError(
                f"{self.describe()}: expected {self.num_features} channels (dim 1), got shape "
                f"{tuple(input.shape)}"
            )
        use_input_stats = self.training or not self.track_running_stats
        y = instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats,
            self.momentum,
            self.eps,
        )
        return y if batched else y.reshape(*y.shape[1:])

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L). See the module docstring.

    Attributes (affine=True): weight (C,) = 1, bias (C,) = 0.
    """

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) (style transfer's normalisation).

    Example:
        >>> import neuronet as nt
        >>> nt.nn.InstanceNorm2d(3)(nt.randn(2, 3, 4, 4)).shape
        (2, 3, 4, 4)
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W)."""

    _spatial = 3


class LocalResponseNorm(Module):
    """Divide each activation by the activity of ``size`` neighbouring channels:
    y = x / (k + alpha / size * sum of x**2 over the window)**beta (AlexNet). Shape: (N, C, *)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]
