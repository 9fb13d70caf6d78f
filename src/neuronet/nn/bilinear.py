"""Bilinear: y = x1^T W x2 + b, a learned bilinear form per output feature."""

from __future__ import annotations

import math

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops.bilinear import bilinear


class Bilinear(Module):
    """y[..., o] = sum over i, j of x1[..., i] W[o, i, j] x2[..., j] + b[o].

    Shape: x1 (*, in1_features), x2 (*, in2_features) -> (*, out_features).

    Attributes:
        weight: (out_features, in1_features, in2_features), U(-1/sqrt(in1), 1/sqrt(in1)).
        bias: (out_features,), same distribution (PyTorch's bound uses in1_features).
    """

    weight: Parameter
    bias: Parameter | None

    def __init__(
        self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None
    ):
        super().__init__()
        dtype = backend.as_dtype(dtype) or backend.DEFAULT_DTYPE
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight, bias ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


__all__ = ["Bilinear"]
