"""Piecewise-linear approximations used by mobile networks: hardswish and hardsigmoid.

    hardsigmoid(x) = relu6(x + 3) / 6           (0 below -3, 1 above 3)
    hardswish(x)   = x * relu6(x + 3) / 6       (0 below -3, x above 3)
Reference: Howard et al., Searching for MobileNetV3, 2019, https://arxiv.org/abs/1905.02244.

Gradients at the kinks follow PyTorch: hardsigmoid passes dL/dy / 6 strictly inside (-3, 3);
hardswish uses x / 3 + 1/2 on [-3, 3] (so -1/2 at x = -3 and 3/2 at x = 3), 0 below, 1 above.
``inplace=True`` is accepted for PyTorch compatibility; a new tensor is returned.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.unary import _floating


class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6;  dL/dx = dL/dy / 6 where -3 < x < 3, else 0.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (np.clip(x + 3, 0, 6) / 6).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (np.where((x > -3) & (x < 3), grad_out / 6, 0).astype(grad_out.dtype),)


class Hardswish(Function):
    """y = x * min(max(x + 3, 0), 6) / 6;
    dL/dx = 0 (x < -3), dL/dy * (x / 3 + 1/2) (-3 <= x <= 3), dL/dy (x > 3).  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        slope = np.where(x < -3, 0, np.where(x <= 3, x / 3 + 0.5, 1))
        return ((grad_out * slope).astype(grad_out.dtype),)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6. See ``nn.Hardsigmoid``."""
    return Hardsigmoid.apply(_floating(input, "hardsigmoid"))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6. See ``nn.Hardswish``.

    Example:
        >>> import neuronet as nt
        >>> nt.functional.hardswish(nt.tensor([-4.0, 0.0, 1.0, 4.0])).tolist()
        [-0.0, 0.0, 0.6666666865348816, 4.0]
    """
    return Hardswish.apply(_floating(input, "hardswish"))


__all__ = ["hardsigmoid", "hardswish"]
