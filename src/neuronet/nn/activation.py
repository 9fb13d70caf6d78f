"""Activation layers: modules that apply one element-wise (or softmax) op from ``functional``.

They hold no parameters; use them inside ``nn.Sequential``. ``inplace=`` is accepted where
PyTorch has it and ignored: neuronet always returns a new tensor. ``nn.Swish`` is ``nn.SiLU``.

Example:
    >>> import neuronet as nt
    >>> from neuronet import nn
    >>> nn.ReLU()(nt.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import activation as A
from neuronet.ops import softmax as S


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """y = max(x, 0), element-wise.

    Args:
        inplace: accepted for PyTorch compatibility; ignored.

    Shape: any; output has the input's shape.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.relu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class ReLU6(Module):
    """y = min(max(x, 0), 6), element-wise (MobileNet's bounded ReLU).

    Shape: any; output has the input's shape.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.relu6(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """y = x if x >= 0 else negative_slope * x.

    Args:
        negative_slope: slope for x < 0 (default 0.01; Keras' LeakyReLU default is 0.3).
        inplace: accepted and ignored.

    Shape: any; output has the input's shape.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace}"


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1)  (Clevert et al., 2015).

    Args:
        alpha: the negative saturation value is -alpha (default 1.0).
        inplace: accepted and ignored.

    Shape: any; output has the input's shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace}"


class GELU(Module):
    """y = x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))  (exact, the default), or with
    approximate='tanh': 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))).

    Note: JAX/Flax default to the tanh form, and GPT-2 checkpoints were trained with it; they
    differ from the exact form by up to ~5e-4 (docs/semantics.md, "GELU").

    Shape: any; output has the input's shape.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return A.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """y = x * sigmoid(x), a.k.a. swish (``nn.Swish`` is this class).

    Shape: any; output has the input's shape.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return A.silu(input)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


Swish = SiLU


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), stable for any x.

    Shape: any; output has the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return A.sigmoid(input)


class Tanh(Module):
    """y = tanh(x).

    Shape: any; output has the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return A.tanh(input)


class Softplus(Module):
    """y = log(1 + exp(beta * x)) / beta, and y = x where beta * x > threshold (for stability).

    Shape: any; output has the input's shape.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxBase(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def _dim(self) -> int:
        if self.dim is None:
            raise ValueError(
                f"{self.describe()}: dim is None, so it is unclear which dimension to normalise; "
                f"construct it as nn.{type(self).__name__}(dim=-1) (the class dimension)"
            )
        return self.dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``dim`` (stable: the maximum is subtracted first).

    Args:
        dim: the dimension whose entries sum to 1 (required; PyTorch's implicit choice is
            deprecated, here it is an error).

    Shape: any; output has the input's shape.

    Note: for classification, feed logits to ``nn.CrossEntropyLoss`` directly; it applies
    log-softmax itself.
    """

    def forward(self, input: Tensor) -> Tensor:
        return S.softmax(input, self._dim())


class LogSoftmax(_SoftmaxBase):
    """y_i = x_i - log(sum_j exp(x_j)) along ``dim``, in one stable step. Pair with NLLLoss.

    Shape: any; output has the input's shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return S.log_softmax(input, self._dim())


__all__ = [
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Swish",
    "Sigmoid",
    "Tanh",
    "Softplus",
    "Softmax",
    "LogSoftmax",
]
