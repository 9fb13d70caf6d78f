"""The bilinear map y = x1^T W x2 + b, PyTorch's ``F.bilinear``.

    y[..., o] = sum over i, j of x1[..., i] * W[o, i, j] * x2[..., j] + b[o]
An ``einsum`` (with its exact gradients: dL/dx1 = W x2 dL/dy, dL/dx2 = x1 W dL/dy,
dL/dW = dL/dy outer x1 outer x2 summed over the batch) plus the bias.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops.arithmetic import add
from neuronet.ops.einsum import einsum


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """x1 (*, in1), x2 (*, in2), weight (out, in1, in2), bias (out,) -> (*, out).
    See ``nn.Bilinear``."""
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a Tensor, got {type(t).__name__}")
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be (out, in1, in2), got shape {weight.shape}")
    out, in1, in2 = weight.shape
    if input1.shape[-1:] != (in1,) or input2.shape[-1:] != (in2,):
        raise ValueError(
            f"bilinear: input1 {input1.shape} and input2 {input2.shape} must end in {in1} and "
            f"{in2} features (weight {weight.shape})"
        )
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(
            f"bilinear: input1 {input1.shape} and input2 {input2.shape} must have the same batch "
            "dims"
        )
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        if bias.shape != (out,):
            raise ValueError(f"bilinear: bias must have shape ({out},), got {bias.shape}")
        y = add(y, bias)
    return y


__all__ = ["bilinear"]
