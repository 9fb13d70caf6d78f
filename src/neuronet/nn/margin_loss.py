"""Margin and embedding loss modules: HingeEmbeddingLoss, MarginRankingLoss, SoftMarginLoss,
MultiMarginLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss, CosineEmbeddingLoss,
TripletMarginLoss, TripletMarginWithDistanceLoss.

Each stores its options (PyTorch's names and defaults; ``weight`` as a buffer) and calls the
loss in ``ops/margin_loss.py`` or ``ops/embedding_loss.py``, where the formulas are.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.loss import _Loss, _WeightedLoss
from neuronet.ops import embedding_loss as E
from neuronet.ops import margin_loss as M


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1. Shape: input and target the same."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            M.hinge_embedding_loss, input, target, margin=self.margin, reduction=self.reduction
        )


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin). Shape: x1, x2, y the same (N,) or ()."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return self._call(
            M.margin_ranking_loss, input1, input2, target, self.margin, reduction=self.reduction
        )


class SoftMarginLoss(_Loss):
    """log(1 + exp(-y x)) for labels y in {1, -1}. Shape: input and target the same."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(M.soft_margin_loss, input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss: sum over j != y of max(0, margin - x[y] + x[j])**p / C.
    Shape: input (N, C) or (C,), target (N,) or () class indices."""

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight=None,
        size_average=None,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("MultiMarginLoss: only p == 1 and p == 2 are supported")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            M.multi_margin_loss,
            input,
            target,
            self.p,
            self.margin,
            self.weight,
            reduction=self.reduction,
        )


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge loss; each target row lists class indices, ended by -1.
    Shape: input (N, C) or (C,), target the same shape (int64)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(M.multilabel_margin_loss, input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Binary cross-entropy with logits per class, averaged over the C classes.
    Shape: input and target (N, C)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return self._call(
            M.multilabel_soft_margin_loss, input, target, self.weight, reduction=self.reduction
        )


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.
    Shape: x1, x2 (N, D) or (D,); y (N,) or ()."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return self._call(
            E.cosine_embedding_loss, input1, input2, target, self.margin, reduction=self.reduction
        )


class TripletMarginLoss(_Loss):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm distance.
    Shape: (N, D) or (D,) each."""

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average=None,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return self._call(
            E.triplet_margin_loss,
            anchor,
            positive,
            negative,
            self.margin,
            self.p,
            self.eps,
            self.swap,
            reduction=self.reduction,
        )


class TripletMarginWithDistanceLoss(_Loss):
    """The triplet loss with any ``distance_function`` (default pairwise_distance)."""

    def __init__(
        self, *, distance_function=None, margin: float = 1.0, swap: bool = False, reduction="mean"
    ):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}"
            )
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return self._call(
            E.triplet_margin_with_distance_loss,
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


__all__ = [
    "HingeEmbeddingLoss",
    "MarginRankingLoss",
    "SoftMarginLoss",
    "MultiMarginLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "CosineEmbeddingLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]
