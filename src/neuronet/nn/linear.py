"""Dense layers and reshaping layers: Identity, Linear (``Dense``), Flatten, Unflatten.

Linear stores its weight as (out_features, in_features) and computes y = x W^T + b, as PyTorch
(Keras' Dense kernel is (in, out): transpose it when porting weights; docs/semantics.md,
"Parameter layouts").
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.backend import DEFAULT_DTYPE, as_dtype
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import matmul as M
from neuronet.ops import shape as S


class Identity(Module):
    """y = x. A placeholder layer; any constructor arguments are accepted and ignored.

    Shape: any; output is the input itself.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b: a fully connected (dense) layer. ``nn.Dense`` is this class.

    Args:
        in_features: size of each input sample (the last dimension).
        out_features: size of each output sample.
        bias: learn an additive bias b (default True).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input (*, in_features) -> output (*, out_features); * is any number of leading dims.

    Attributes:
        weight: (out_features, in_features), initialised U(-k, k) with k = 1/sqrt(in_features)
            (PyTorch's kaiming_uniform_(a=sqrt(5)); Keras uses glorot uniform).
        bias: (out_features,), U(-k, k) with the same k; None when bias=False.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> nn.Linear(20, 30)(nt.randn(128, 20)).shape
        (128, 30)
    """

    in_features: int
    out_features: int
    weight: Parameter
    bias: Parameter | None

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        check_device(device, "Linear's parameters")
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        dtype = as_dtype(dtype) or DEFAULT_DTYPE
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """Weight and bias from U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        return M.linear(input, self.weight, self.bias)

    def _check_input(self, input) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(f"{self.describe()}: expected a Tensor, got {type(input).__name__}")
        shape = tuple(input.shape)
        if input.ndim == 0 or shape[-1] != self.in_features:
            if len(shape) >= 3 and int(np.prod(shape[1:])) == self.in_features:
                fix = "flatten the input first (nn.Flatten())"
            elif len(shape) >= 1:
                fix = (
                    f"the input has {shape[-1]} features: set in_features={shape[-1]} or "
                    "check the layer before"
                )
            else:
                fix = "give at least one dimension (a batch of vectors)"
            raise ValueError(
                f"{self.describe()}: expected input with last dimension {self.in_features} "
                f"(in_features), got shape {shape}; {fix}"
            )
        if input.dtype != self.weight.dtype:
            weight = str(self.weight.dtype)
            if input.dtype.kind != "f":
                fix = f"the input holds {input.dtype} values: convert it with x.float()"
                if weight != "float32":
                    fix = f"the input holds {input.dtype} values: convert it with x.to({weight!r})"
            else:
                fix = (
                    f"convert the input (x.to({weight!r})) or the model "
                    f"(model.to({str(input.dtype)!r}))"
                )
            raise TypeError(
                f"{self.describe()}: input dtype {input.dtype} does not match the weight dtype "
                f"{weight}; {fix}"
            )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


Dense = Linear


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default.

    Shape: (*, S_start, ..., S_end, *) -> (*, prod(S_start..S_end), *).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        ndim = max(len(shape), 1)
        start = self.start_dim % ndim if -ndim <= self.start_dim < ndim else None
        end = self.end_dim % ndim if -ndim <= self.end_dim < ndim else None
        if start is None or end is None or start > end:
            raise ValueError(
                f"{self.describe()}: cannot flatten dims {self.start_dim}..{self.end_dim} of an "
                f"input of shape {shape}; the input needs at least {self._min_dims()} dimensions"
            )
        if not shape:
            return S.reshape(input, (1,))
        merged = int(np.prod(shape[start : end + 1], dtype=np.int64))
        return S.reshape(input, shape[:start] + (merged,) + shape[end + 1 :])

    def _min_dims(self) -> int:
        need = [d + 1 if d >= 0 else -d for d in (self.start_dim, self.end_dim)]
        return max(need)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28).

    One entry of ``unflattened_size`` may be -1 (inferred).

    Shape: (*, S_dim, *) -> (*, U_1, ..., U_n, *) with prod(U) = S_dim.
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                f"{type(unflattened_size).__name__}"
            )
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        ndim = len(shape)
        if not -ndim <= self.dim < max(ndim, 1) or ndim == 0:
            raise ValueError(
                f"{self.describe()}: dim {self.dim} is out of range for an input of shape {shape}"
            )
        d = self.dim % ndim
        sizes = list(self.unflattened_size)
        known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
        if sizes.count(-1) == 1 and known > 0 and shape[d] % known == 0:
            sizes[sizes.index(-1)] = shape[d] // known
        if sizes.count(-1) or int(np.prod(sizes, dtype=np.int64)) != shape[d]:
            raise ValueError(
                f"{self.describe()}: cannot unflatten dim {self.dim} of size {shape[d]} (input "
                f"shape {shape}) into {self.unflattened_size}; the sizes must multiply to "
                f"{shape[d]}"
            )
        return S.reshape(input, shape[:d] + tuple(sizes) + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ = ["Identity", "Linear", "Dense", "Flatten", "Unflatten"]
