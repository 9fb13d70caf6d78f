"""Losses on embeddings: cosine_embedding_loss, triplet_margin_loss,
triplet_margin_with_distance_loss (PyTorch's definitions, as compositions: exact gradients).

    cosine_embedding   l = 1 - cos(x1, x2) (y = 1),  max(0, cos(x1, x2) - margin) (y = -1),
                       cos = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) over the last dim
    triplet_margin     l = max(0, margin + d(a, p) - d(a, n)),  d = pairwise_distance (p-norm);
                       swap=True uses min(d(a, n), d(p, n)) for the negative distance
                       (Balntas et al., 2016, http://www.bmva.org/bmvc/2016/papers/paper119/)
    triplet_margin_with_distance: the same with any ``distance_function`` (default
                       pairwise_distance)
then 'mean' (the default), 'sum' or 'none' over the samples.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import check_input
from neuronet.ops.arithmetic import add, div, mul, sub
from neuronet.ops.distance import pairwise_distance
from neuronet.ops.indexing import where
from neuronet.ops.margin_loss import _labels, _prepare, apply_reduction
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.unary import clamp, minimum, sqrt

EPSILON = 1e-12


def cosine_embedding_loss(
    input1, input2, target, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"
) -> Tensor:
    """Pull pairs together (y = 1) or push their cosine below margin (y = -1). See
    ``nn.CosineEmbeddingLoss``."""
    op = "cosine_embedding_loss"
    check_input(op, input1)
    reduction = _prepare(op, reduction, size_average, reduce)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ValueError(
            f"{op}: input1 {input1.shape} and input2 {input2.shape} must be the same (N, D) or (D,)"
        )
    target = _labels(op, target, input1)
    if target.shape != input1.shape[:-1]:
        raise ValueError(f"{op}: target must have shape {input1.shape[:-1]}, got {target.shape}")
    dim = input1.ndim - 1
    dot = _sum(mul(input1, input2), dim=dim)
    mag1 = add(_sum(mul(input1, input1), dim=dim), EPSILON)
    mag2 = add(_sum(mul(input2, input2), dim=dim), EPSILON)
    cos = div(dot, sqrt(mul(mag1, mag2)))
    zeros = Tensor(np.zeros((), dtype=input1.dtype))
    y = target.array
    pos = where(Tensor(y == 1), sub(1.0, cos), zeros)
    neg = where(Tensor(y == -1), clamp(sub(cos, margin), min=0), zeros)
    return apply_reduction(add(pos, neg), reduction)


def _triplet(op, anchor, positive, negative, distance, margin, swap, reduction) -> Tensor:
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        check_input(f"{op} ({name})", t)
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return apply_reduction(clamp(add(sub(d_pos, d_neg), margin), min=0), reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction="mean",
) -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance.
    See ``nn.TripletMarginLoss``."""
    op = "triplet_margin_loss"
    reduction = _prepare(op, reduction, size_average, reduce)
    if not (anchor.ndim == positive.ndim == negative.ndim) or anchor.ndim not in (1, 2):
        raise ValueError(
            f"{op}: anchor {anchor.shape}, positive {positive.shape} and negative "
            f"{negative.shape} must all be (N, D) or (D,)"
        )

    def distance(a, b):
        return pairwise_distance(a, b, p, eps)

    return _triplet(op, anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(
    anchor,
    positive,
    negative,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction="mean",
) -> Tensor:
    """The triplet loss with any distance (a callable on two tensors; default
    pairwise_distance). See ``nn.TripletMarginWithDistanceLoss``."""
    op = "triplet_margin_with_distance_loss"
    reduction = _prepare(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: expected margin to be greater than 0, got {margin}")
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(op, anchor, positive, negative, distance, margin, swap, reduction)


__all__ = ["cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss"]
