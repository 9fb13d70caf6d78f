"""Margin and soft-margin losses: hinge_embedding_loss, margin_ranking_loss, soft_margin_loss,
multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss.

PyTorch's definitions, written as compositions of differentiable ops (exact gradients). With
y in {1, -1} (a label or a preferred ordering) and per-element losses l:
    hinge_embedding    l = x (y = 1),  max(0, margin - x) (y = -1)
    margin_ranking     l = max(0, -y (x1 - x2) + margin)
    soft_margin        l = log(1 + exp(-y x))
    multi_margin       l_n = sum over j != y_n of max(0, margin - x[y_n] + x[j])**p * w[y_n] / C
    multilabel_margin  l_n = sum over targets j and non-targets i of max(0, 1 - (x[j] - x[i])) / C
                       (the targets of a row are its entries up to the first -1)
    multilabel_soft    l_n = -sum over c of w_c (t_c log sigmoid(x_c)
                                             + (1 - t_c) log sigmoid(-x_c)) / C
then 'mean' (the default), 'sum' or 'none' over the samples. Kinks as PyTorch: the clamps of
hinge_embedding and margin_ranking pass the gradient at 0, the sums of multi_margin and
multilabel_margin count only z > 0. Inputs and targets must have the same shape: losses never
broadcast (see ``docs/ops.md``).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import check_input, check_reduction, legacy_reduction
from neuronet.ops.activation import relu
from neuronet.ops.arithmetic import add, div, mul, neg, sub
from neuronet.ops.exp_log import logaddexp
from neuronet.ops.indexing import gather, where
from neuronet.ops.reduction import mean
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.shape import reshape, unsqueeze
from neuronet.ops.smooth_activations import logsigmoid
from neuronet.ops.unary import clamp


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """'none': as is; 'sum': the total; 'mean': the average (NaN for no elements)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _sum(loss)
    return mean(loss)


def _prepare(op: str, reduction, size_average=None, reduce_=None) -> str:
    reduction = legacy_reduction(size_average, reduce_, reduction)
    check_reduction(op, reduction)
    return reduction


def _same_shape(op: str, **tensors) -> None:
    shapes = {name: tuple(t.shape) for name, t in tensors.items() if isinstance(t, Tensor)}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(
            f"{op}: {listed} must have the same shape; losses never broadcast (PyTorch would "
            "silently compare every pair). Reshape one to match"
        )


def _labels(op: str, target, input: Tensor) -> Tensor:
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    return target if target.dtype == input.dtype else Tensor(target.array.astype(input.dtype))


def hinge_embedding_loss(
    input, target, margin: float = 1.0, size_average=None, reduce=None, reduction="mean"
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x usually a distance). See
    ``nn.HingeEmbeddingLoss``."""
    op = "hinge_embedding_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    target = _labels(op, target, input)
    _same_shape(op, input=input, target=target)
    zeros = Tensor(np.zeros((), dtype=input.dtype))
    y = target.array
    pushed = where(Tensor(y != 1), clamp(sub(margin, input), min=0), zeros)
    kept = where(Tensor(y != -1), input, zeros)
    return apply_reduction(add(pushed, kept), reduction)


def margin_ranking_loss(
    input1, input2, target, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"
) -> Tensor:
    """max(0, -y (x1 - x2) + margin): y = 1 asks for x1 > x2, y = -1 for x2 > x1. See
    ``nn.MarginRankingLoss``."""
    op = "margin_ranking_loss"
    check_input(op, input1)
    reduction = _prepare(op, reduction, size_average, reduce)
    target = _labels(op, target, input1)
    _same_shape(op, input1=input1, input2=input2, target=target)
    loss = clamp(add(mul(neg(target), sub(input1, input2)), margin), min=0)
    return apply_reduction(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean") -> Tensor:
    """log(1 + exp(-y x)), the logistic loss for labels y in {1, -1} (computed without
    overflow). See ``nn.SoftMarginLoss``."""
    op = "soft_margin_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    target = _labels(op, target, input)
    _same_shape(op, input=input, target=target)
    loss = logaddexp(Tensor(np.zeros((), dtype=input.dtype)), neg(mul(target, input)))
    return apply_reduction(loss, reduction)


def _class_scores(op: str, input: Tensor, target, target_ndim: int) -> tuple:
    """input as (N, C) and target as int64 (N,) or (N, C); (0-d and 1-D inputs are one sample)."""
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be an int64 tensor of class indices")
    x = input if input.ndim == 2 else reshape(input, (1, -1))
    t = target.array.astype(np.int64)
    t = t.reshape(x.shape[0], -1) if target_ndim == 2 else t.reshape(-1)
    if t.shape[0] != x.shape[0] or (target_ndim == 2 and t.shape != x.shape):
        raise ValueError(f"{op}: input {input.shape} and target {target.shape} do not match")
    return x, t


def multi_margin_loss(
    input,
    target,
    p: int = 1,
    margin: float = 1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
) -> Tensor:
    """The multi-class hinge loss (see the module docstring); p is 1 or 2. See
    ``nn.MultiMarginLoss``."""
    op = "multi_margin_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got {p}")
    x, t = _class_scores(op, input, target, 1)
    n, c = x.shape
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"{op}: target values must be in [0, {c - 1}]")
    chosen = gather(x, 1, t.reshape(-1, 1))  # x[y], (N, 1)
    z = relu(add(sub(margin, chosen), x))
    if p == 2:
        z = mul(z, z)
    others = Tensor(np.arange(c)[None, :] != t[:, None])
    z = where(others, z, Tensor(np.zeros((), dtype=x.dtype)))
    if weight is not None:
        w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight, dtype=x.dtype))
        z = mul(z, unsqueeze(gather(w, 0, t), 1))
    loss = div(_sum(z, dim=1), c)
    if input.ndim < 2:
        loss = reshape(loss, ())
    return apply_reduction(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss (see the module docstring); target rows list class indices,
    ended by -1. See ``nn.MultiLabelMarginLoss``."""
    op = "multilabel_margin_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    x, t = _class_scores(op, input, target, 2)
    n, c = x.shape
    count = np.zeros((n, c), dtype=x.dtype)  # how often each class is listed (before a -1)
    is_target = np.zeros((n, c), dtype=bool)
    for row in range(n):
        for j in t[row]:
            if j < 0:
                break
            if j >= c:
                raise IndexError(f"{op}: target values must be in [-1, {c - 1}], got {j}")
            count[row, j] += 1
            is_target[row, j] = True
    margins = relu(add(sub(1.0, unsqueeze(x, 2)), unsqueeze(x, 1)))  # 1 - x[j] + x[i], (N, C, C)
    pairs = count[:, :, None] * ~is_target[:, None, :]
    loss = div(_sum(mul(margins, Tensor(pairs.astype(x.dtype))), dim=(1, 2)), c)
    if input.ndim < 2:
        loss = reshape(loss, ())
    return apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
) -> Tensor:
    """Binary cross-entropy with logits per class, averaged over the C classes (see the module
    docstring). See ``nn.MultiLabelSoftMarginLoss``."""
    op = "multilabel_soft_margin_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    target = _labels(op, target, input)
    _same_shape(op, input=input, target=target)
    loss = neg(add(mul(target, logsigmoid(input)), mul(sub(1.0, target), logsigmoid(neg(input)))))
    if weight is not None:
        loss = mul(loss, weight)
    c = input.shape[-1] if input.ndim else 1
    loss = div(_sum(loss, dim=-1) if input.ndim else loss, c)
    return apply_reduction(loss, reduction)


__all__ = [
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "soft_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
]
