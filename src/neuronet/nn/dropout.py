"""Dropout layers: Dropout, Dropout1d, Dropout2d, AlphaDropout.

Active only in training mode (``module.train()``); in eval mode they return the input unchanged.
The math is in ``neuronet.ops.dropout``.

neuronet addition: each layer accepts ``generator=`` (a ``neuronet.Generator``) in ``__init__``
to draw its masks from its own stream, so one layer's randomness can be made reproducible
independently of everything else. PyTorch's layers have no such argument and always draw from
the global generator; without ``generator`` neuronet does the same (``neuronet.manual_seed``).
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import dropout as ops


class _DropoutNd(Module):
    """Shared by the dropout layers: validates p and stores p, inplace and the generator."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got "
                f"{p!r}"
            )
        self.p = float(p)
        self.inplace = inplace
        self.generator = generator

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zero each element with probability ``p`` and scale the others by
    1 / (1 - p); in eval mode, the identity.

    y = x * m / (1 - p),  m ~ Bernoulli(1 - p) per element

    Args:
        p: probability of an element being zeroed. Default 0.5.
        inplace: write into the input when autograd allows it. Default False.
        generator: a ``neuronet.Generator`` for the masks (neuronet addition; default: the global
            generator).

    Shape: input any; output the same.

    Example:
        >>> import neuronet as nt
        >>> drop = nt.nn.Dropout(0.2, generator=nt.Generator(0))
        >>> drop(nt.ones(3, 4)).shape
        (3, 4)
        >>> bool((drop.eval()(nt.ones(3, 4)).array == 1).all())
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        return ops.dropout(input, self.p, self.training, self.inplace, self.generator)


class Dropout1d(_DropoutNd):
    """During training, zero whole channels of a (N, C, L) or (C, L) input with probability
    ``p`` (one draw per channel), scaling the kept ones by 1 / (1 - p). Arguments as
    ``Dropout``."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{self.describe()}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                f"{tuple(input.shape)}; for element-wise dropout use Dropout"
            )
        return ops.dropout1d(input, self.p, self.training, self.inplace, self.generator)


class Dropout2d(_DropoutNd):
    """During training, zero whole channels (feature maps) of a (N, C, H, W) or (C, H, W) input
    with probability ``p`` (one draw per channel), scaling the kept ones by 1 / (1 - p).

    y[n, c] = x[n, c] * m[n, c] / (1 - p),  m ~ Bernoulli(1 - p) per (sample, channel)

    Note: a 3-D input is one unbatched image (C, H, W), as PyTorch documents; PyTorch 2.x's
    implementation still treats 3-D input as (N, C, L) with a warning (use Dropout1d for that).

    Args: as ``Dropout``.

    Shape: input (N, C, H, W) or (C, H, W); output the same.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(
                f"{self.describe()}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got "
                f"shape {tuple(input.shape)}; for element-wise dropout use Dropout"
            )
        return ops.dropout2d(input, self.p, self.training, self.inplace, self.generator)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for self-normalising networks (use with SELU): dropped units take SELU's
    negative saturation value and an affine correction keeps zero mean and unit variance.
    Training mode only; eval mode is the identity. Arguments as ``Dropout``.
    Reference: Klambauer et al., 2017, "Self-Normalizing Neural Networks".

    Shape: input any; output the same.
    """

    def forward(self, input: Tensor) -> Tensor:
        return ops.alpha_dropout(input, self.p, self.training, self.inplace, self.generator)


__all__ = ["Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"]
