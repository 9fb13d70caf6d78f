"""Local response normalization: each activation divided by the activity of its neighbouring
channels.

    y[n, c] = x[n, c] / (k + alpha / size * sum over c' in the window of c of x[n, c']**2)**beta
The window holds ``size`` channels, from c - size // 2 to c + (size - 1) // 2, zero-padded at
the ends (PyTorch's layout, which averages over ``size`` including the padding).
Reference: Krizhevsky et al., 2012 (AlexNet).

A composition (square, pad, sliding mean over channels with ``Tensor.unfold``, power, divide),
so the gradient is exact and flows through both x and the normaliser.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops.arithmetic import add, div, mul, pow
from neuronet.ops.padding import pad
from neuronet.ops.rearranging import unfold_dimension
from neuronet.ops.reduction import mean
from neuronet.ops.shape import movedim


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Normalise (N, C, *) across ``size`` neighbouring channels. See ``nn.LocalResponseNorm``."""
    if not isinstance(input, Tensor) or input.ndim < 3:
        got = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"local_response_norm: expected a 3-D or higher input, got {got}")
    if size <= 0:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    if input.numel() == 0:
        return input
    squares = movedim(mul(input, input), 1, -1)  # channels last
    padded = pad(squares, (size // 2, (size - 1) // 2))
    windows = unfold_dimension(padded, padded.ndim - 1, size, 1)  # (..., C, size)
    average = movedim(mean(windows, dim=-1), -1, 1)
    return div(input, pow(add(mul(average, alpha), k), beta))


__all__ = ["local_response_norm"]
