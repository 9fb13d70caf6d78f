"""Smooth activation layers: SELU, CELU, Mish, LogSigmoid, Softsign, GLU, Softmin.

Each calls its op in ``neuronet.ops.smooth_activations`` (formulas there); no parameters.
``inplace=`` is accepted where PyTorch has it and ignored (a new tensor is returned).

Example:
    >>> import neuronet as nt
    >>> from neuronet import nn
    >>> nn.GLU()(nt.ones(2, 4)).shape
    (2, 2)
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import smooth_activations as S


class SELU(Module):
    """y = scale * (x if x > 0 else alpha * (exp(x) - 1)), the self-normalising constants
    alpha = 1.6733, scale = 1.0507 (Klambauer et al., 2017). Shape: any."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return S.selu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(Module):
    """y = x if x > 0 else alpha * (exp(x / alpha) - 1) (Barron, 2017). Shape: any."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return S.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Mish(Module):
    """y = x * tanh(softplus(x)) (Misra, 2019). Shape: any."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return S.mish(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    """y = log(1 / (1 + exp(-x))), stable for large |x|. Shape: any."""

    def forward(self, input: Tensor) -> Tensor:
        return S.logsigmoid(input)


class Softsign(Module):
    """y = x / (1 + |x|). Shape: any."""

    def forward(self, input: Tensor) -> Tensor:
        return S.softsign(input)


class GLU(Module):
    """Gated linear unit: a * sigmoid(b), a and b the halves of the input along ``dim``.

    Args:
        dim: the dim to halve (default -1); its size must be even.

    Shape: (*, 2M, *) -> (*, M, *).
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return S.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Module):
    """softmax(-x) along ``dim``: weights that favour small entries. Shape: any."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return S.softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


__all__ = ["SELU", "CELU", "Mish", "LogSigmoid", "Softsign", "GLU", "Softmin"]
