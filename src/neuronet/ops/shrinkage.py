"""Shrinkage and thresholds: hardshrink, softshrink, tanhshrink, threshold.

Conventions at the kinks (PyTorch's): the gradient passes only where |x| > lambd (hard and soft
shrink) or x > threshold; the boundary points themselves get 0.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.unary import _floating


class HardShrink(Function):
    """y = x where |x| > lambd, else 0;  dL/dx = dL/dy where |x| > lambd, else 0.  Saves: x."""

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return np.where((x > lambd) | (x < -lambd), x, 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (np.where((x > ctx.lambd) | (x < -ctx.lambd), grad_out, 0),)


class SoftShrink(Function):
    """y = x - lambd (x > lambd), x + lambd (x < -lambd), 0 otherwise;
    dL/dx = dL/dy where |x| > lambd, else 0.  Saves: x."""

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (np.where((x > ctx.lambd) | (x < -ctx.lambd), grad_out, 0),)


class TanhShrink(Function):
    """y = x - tanh(x);  dL/dx = dL/dy * tanh(x)**2.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x - np.tanh(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        t = np.tanh(x)
        return (grad_out * t * t,)


class Threshold(Function):
    """y = x where x > threshold, else value;  dL/dx = dL/dy where x > threshold, else 0.
    Saves: x."""

    @staticmethod
    def forward(ctx, x, threshold=0.0, value=0.0):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return np.where(x > threshold, x, value).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (np.where(x > ctx.threshold, grad_out, 0),)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0. See ``nn.Hardshrink``."""
    return HardShrink.apply(_floating(input, "hardshrink"), lambd=float(lambd))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrink toward 0 by lambd (0 inside [-lambd, lambd]). See ``nn.Softshrink``.

    Example:
        >>> import neuronet as nt
        >>> nt.functional.softshrink(nt.tensor([-1.0, 0.2, 2.0])).tolist()
        [-0.5, 0.0, 1.5]
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0, got {lambd}")
    return SoftShrink.apply(_floating(input, "softshrink"), lambd=float(lambd))


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x). See ``nn.Tanhshrink``."""
    return TanhShrink.apply(_floating(input, "tanhshrink"))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``. See ``nn.Threshold``. (``inplace`` is accepted
    for PyTorch compatibility; a new tensor is returned, as by the other activations.)"""
    x = _floating(input, "threshold")
    return Threshold.apply(x, threshold=float(threshold), value=float(value))


__all__ = ["hardshrink", "softshrink", "tanhshrink", "threshold"]
