"""Loss modules: each stores its options and calls the fused loss in ``neuronet.functional``.

Call them as ``loss = criterion(prediction, target)``. ``weight`` and ``pos_weight`` are
registered as buffers (so they are in ``state_dict`` and follow ``.double()``), as in PyTorch.
An error from the loss is re-raised prefixed with the module's path in the model
(``"CrossEntropyLoss at 'criterion': cross_entropy: target 7 is out of bounds ..."``).

Aliases: ``nn.MAELoss`` is ``nn.L1Loss``.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import cross_entropy as CE
from neuronet.ops import loss as L
from neuronet.ops._loss_util import legacy_reduction


def _as_buffer(value, name: str):
    if value is None or isinstance(value, Tensor):
        return value
    arr = np.asarray(value)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    return Tensor(arr)


class _Loss(Module):
    reduction: str

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)

    def _call(self, fn, *args, **kwargs) -> Tensor:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, IndexError, RuntimeError) as err:
            raise self.relabel(err) from None

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    weight: Tensor | None

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight, "weight"))


class MSELoss(_Loss):
    """Mean squared error: l = mean((input - target)**2)  (sum or per element by ``reduction``).

    Shape: input and target the same shape (any); output scalar, or the input's shape for
    reduction='none'. Shapes that differ raise instead of broadcasting.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(L.mse_loss, input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error (MAE): l = mean(|input - target|). ``nn.MAELoss`` is this class.

    Shape: as MSELoss.
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(L.l1_loss, input, target, reduction=self.reduction)


MAELoss = L1Loss


class HuberLoss(_Loss):
    """Huber loss: 0.5 * d**2 if |d| < delta, else delta * (|d| - 0.5 * delta), d = input - target.

    Args:
        reduction: 'mean' | 'sum' | 'none'.
        delta: where the quadratic part turns linear (> 0).

    Shape: as MSELoss.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(L.huber_loss, input, target, reduction=self.reduction, delta=self.delta)

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), "" if self.delta == 1.0 else f"delta={self.delta}"]
        return ", ".join(p for p in parts if p)


class SmoothL1Loss(_Loss):
    """Smooth L1: 0.5 * d**2 / beta if |d| < beta, else |d| - 0.5 * beta, d = input - target.

    SmoothL1Loss(beta) = HuberLoss(delta=beta) / beta (docs/semantics.md, "Losses with clamps and
    variants"); beta = 0 is L1Loss.

    Shape: as MSELoss.
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(L.smooth_l1_loss, input, target, reduction=self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), "" if self.beta == 1.0 else f"beta={self.beta}"]
        return ", ".join(p for p in parts if p)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities: l = -w * (t * log(x) + (1 - t) * log(1 - x)),
    logs clamped at -100. Prefer BCEWithLogitsLoss on raw scores (it is exact where this
    saturates).

    Args:
        weight: rescales each element's loss; broadcasts to the input's shape (a buffer).

    Shape: input and target the same shape, values in [0, 1] (checked).
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            L.binary_cross_entropy, input, target, weight=self.weight, reduction=self.reduction
        )


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step, on logits x:
    l = -w * (p * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))), p = pos_weight.

    Args:
        weight: rescales each element's loss; broadcasts to the input's shape (a buffer).
        pos_weight: weight of positive examples per class, broadcast along the last dimension
            (shape (C,)); n_negative / n_positive balances a rare class (a buffer).

    Shape: input and target the same shape.
    """

    weight: Tensor | None
    pos_weight: Tensor | None

    def __init__(
        self,
        weight=None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight=None,
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight, "weight"))
        self.register_buffer("pos_weight", _as_buffer(pos_weight, "pos_weight"))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            L.binary_cross_entropy_with_logits,
            input,
            target,
            weight=self.weight,
            pos_weight=self.pos_weight,
            reduction=self.reduction,
        )


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy on **logits** (log-softmax inside), fused and stable:
    l_i = (1 - eps) * -w[t_i] * log p_i[t_i] + (eps / C) * sum_c -w[c] * log p_i[c].

    Args:
        weight: per-class weights, shape (C,) (a buffer).
        ignore_index: samples whose target equals it are skipped (default -100).
        reduction: 'mean' divides by the summed weights of the counted samples; 'sum'; 'none'.
        label_smoothing: eps in [0, 1].

    Shape: input (N, C), (N, C, d1, ...) or (C,); target class indices (N,), (N, d1, ...) or
    () as int64, or class probabilities of the input's shape.

    Note: Keras' CategoricalCrossentropy expects probabilities by default; this expects logits.
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            CE.cross_entropy,
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(p for p in parts if p)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood on log-probabilities: l_i = -w[t_i] * input[i, t_i].
    ``NLLLoss()(LogSoftmax(dim=1)(x), t)`` equals ``CrossEntropyLoss()(x, t)``.

    Args and Shape: as CrossEntropyLoss, class-index targets only.
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            CE.nll_loss,
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class KLDivLoss(_Loss):
    """Pointwise KL divergence, input = log q: l = t * (log t - input) (or exp(t) * (t - input)
    with log_target=True, t = log p).

    Use reduction='batchmean' for the mathematical KL divergence per sample; 'mean' (the
    default, as torch) averages over every element and warns.

    Shape: input and target the same shape.
    """

    def __init__(
        self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            L.kl_div, input, target, reduction=self.reduction, log_target=self.log_target
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), "log_target=True" if self.log_target else ""]
        return ", ".join(p for p in parts if p)


__all__ = [
    "MSELoss",
    "L1Loss",
    "MAELoss",
    "HuberLoss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "KLDivLoss",
]
