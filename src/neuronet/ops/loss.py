"""Losses: regression (MSE, L1, Huber, smooth L1), binary and multi-class cross-entropy, NLL, KL.

Every loss is one fused ``Function`` with a hand-written backward and PyTorch's signature and
``reduction``: ``'mean'`` (default), ``'sum'`` or ``'none'`` (the per-element losses).

Conventions (PyTorch's; docs/semantics.md, "Cross-entropy input and label smoothing", "KL
divergence", "Losses with clamps and variants"):
- The prediction and the target must have the same shape. PyTorch only warns and broadcasts;
  neuronet raises, because a (N, 1) prediction against a (N,) target silently gives an (N, N)
  loss.
- ``cross_entropy`` takes **logits** (log-softmax is inside) and either class indices (int64) or
  class probabilities (same shape as the input). ``nll_loss`` takes log-probabilities.
- Weighted means divide by the summed weights of the counted samples (cross_entropy, nll_loss,
  and mse/l1 with ``weight``); huber_loss with ``weight`` divides by the element count, as torch.
- ``binary_cross_entropy`` clamps each log at -100; ``binary_cross_entropy_with_logits`` uses
  the log-sum-exp form and is stable for any logit. With numba on (``backend.fast.numba``) the
  latter takes the one-pass forward of ``ops/fast/loss.py`` (same formulas).
- ``weight`` and ``pos_weight`` are constants: passing one that requires grad raises. (torch
  raises too for the cross-entropies, NLL and BCE; its Python-level weighted mse/l1/huber would
  differentiate the weight.)
"""

from __future__ import annotations

import warnings

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import (
    REDUCTIONS,
    check_input,
    check_reduction,
    constant,
    grad_loss,
    legacy_reduction,
    reduce_loss,
    target_like,
)
from neuronet.ops.cross_entropy import cross_entropy, nll_loss


# ---- regression ---------------------------------------------------------------------------
class MSELoss(Function):
    """l = w * (x - t)**2 per element, then reduced.

    dL/dx = 2 * (x - t) * w * dL/dl,   dL/dt = -dL/dx

    Saves: x - t, w.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight=None):
        diff = x - t
        loss = diff * diff
        if weight is not None:
            loss *= weight
        ctx.weight = weight
        ctx.save_for_backward(diff)
        denominator = None if weight is None else weight.sum()
        return reduce_loss(ctx, loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad_out):
        (diff,) = ctx.saved
        grad_l = grad_loss(ctx, grad_out)
        grad_x = diff * grad_l
        grad_x *= 2
        if ctx.weight is not None:
            grad_x *= ctx.weight
        grad_t = -grad_x if ctx.needs_input_grad[1] else None
        return grad_x, grad_t


class L1Loss(Function):
    """l = w * |x - t| per element, then reduced.

    dL/dx = sign(x - t) * w * dL/dl,   dL/dt = -dL/dx   (sign(0) = 0: zero gradient at the kink)

    Saves: x - t, w.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight=None):
        diff = x - t
        loss = np.abs(diff)
        if weight is not None:
            loss *= weight
        ctx.weight = weight
        ctx.save_for_backward(diff)
        denominator = None if weight is None else weight.sum()
        return reduce_loss(ctx, loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad_out):
        (diff,) = ctx.saved
        grad_x = np.sign(diff)
        grad_x *= grad_loss(ctx, grad_out)
        if ctx.weight is not None:
            grad_x *= ctx.weight
        grad_t = -grad_x if ctx.needs_input_grad[1] else None
        return grad_x, grad_t


class HuberLoss(Function):
    """With d = x - t:  l = 0.5 * d**2 if |d| < delta,  else delta * (|d| - 0.5 * delta);
    ``smooth_l1_loss(beta)`` is the same curve divided by beta (scale = 1/beta; its beta = 0
    case is ``L1Loss``). Multiplied by w, then reduced.

    dL/dx = clip(d, -delta, delta) * scale * w * dL/dl,   dL/dt = -dL/dx

    Saves: d, w.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, delta, scale=1.0, weight=None):
        diff = x - t
        abs_diff = np.abs(diff)
        quadratic = abs_diff < delta
        loss = np.where(quadratic, 0.5 * diff * diff, delta * (abs_diff - 0.5 * delta))
        if scale != 1.0:
            loss *= scale
        if weight is not None:
            loss *= weight
        ctx.delta = delta
        ctx.scale = scale
        ctx.weight = weight
        ctx.save_for_backward(diff)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, grad_out):
        (diff,) = ctx.saved
        grad_x = np.clip(diff, -ctx.delta, ctx.delta)
        if ctx.scale != 1.0:
            grad_x *= ctx.scale
        grad_x *= grad_loss(ctx, grad_out)
        if ctx.weight is not None:
            grad_x *= ctx.weight
        grad_t = -grad_x if ctx.needs_input_grad[1] else None
        return grad_x, grad_t


def _regression(fn, op, input, target, reduction, weight=None, **params) -> Tensor:
    check_input(op, input)
    check_reduction(op, reduction)
    target = target_like(op, input, target)
    if weight is not None:
        params["weight"] = constant(op, "weight", weight, input, input.shape)
    return fn.apply(input, target, reduction=reduction, **params)


def mse_loss(
    input, target, size_average=None, reduce=None, reduction="mean", weight=None
) -> Tensor:
    """Mean squared error: mean((input - target)**2). With ``weight`` (input's shape), the mean
    is sum(w * (input - target)**2) / sum(w), as torch."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _regression(MSELoss, "mse_loss", input, target, reduction, weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None) -> Tensor:
    """Mean absolute error (MAE): mean(|input - target|). ``weight`` as in ``mse_loss``."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _regression(L1Loss, "l1_loss", input, target, reduction, weight)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None) -> Tensor:
    """Huber loss: quadratic for |input - target| < delta, linear (slope delta) beyond.

    With ``weight``, 'mean' is mean(w * l) over all elements (torch; unlike mse_loss).
    """
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    delta = float(delta)
    return _regression(HuberLoss, "huber_loss", input, target, reduction, weight, delta=delta)


def smooth_l1_loss(
    input, target, size_average=None, reduce=None, reduction="mean", beta=1.0
) -> Tensor:
    """Smooth L1: 0.5 * d**2 / beta for |d| < beta, else |d| - 0.5 * beta (d = input - target).

    smooth_l1_loss(beta) = huber_loss(delta=beta) / beta; beta = 0 gives the L1 loss.
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    reduction = legacy_reduction(size_average, reduce, reduction)
    beta = float(beta)
    if beta == 0:
        return _regression(L1Loss, "smooth_l1_loss", input, target, reduction)
    return _regression(
        HuberLoss, "smooth_l1_loss", input, target, reduction, delta=beta, scale=1.0 / beta
    )


# ---- binary cross-entropy ------------------------------------------------------------------
class BinaryCrossEntropy(Function):
    """l = -w * (t * log(x) + (1 - t) * log(1 - x)), each log clamped at -100 (PyTorch), so
    x = 0 or 1 gives a finite loss (100 per wrong element) instead of inf.

    dL/dx = w * (x - t) / max(x * (1 - x), 1e-12) * dL/dl
    dL/dt = w * (log(1 - x) - log(x)) * dL/dl   (the clamped logs)

    Saves: x, t, and the two clamped logs.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight=None):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = np.subtract(log_x, log_1mx, out=np.empty_like(x))  # an array even when 0-d
        loss *= t
        loss += log_1mx
        np.negative(loss, out=loss)
        if weight is not None:
            loss *= weight
        ctx.weight = weight
        ctx.save_for_backward(x, t, log_x, log_1mx)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, grad_out):
        x, t, log_x, log_1mx = ctx.saved
        grad_l = grad_loss(ctx, grad_out)
        if ctx.weight is not None:
            grad_l = grad_l * ctx.weight
        grad_x = None
        grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = x - t
            grad_x /= np.maximum(x * (1 - x), 1e-12)
            grad_x *= grad_l
        if ctx.needs_input_grad[1]:
            grad_t = (log_1mx - log_x) * grad_l
        return grad_x, grad_t


class BinaryCrossEntropyWithLogits(Function):
    """With sp = softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))  (stable for any x):
        l = w * ((1 - t) * x + (1 + (p - 1) * t) * sp)     (p = pos_weight, 1 if absent)
    which equals -w * (p * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))).

    dL/dx = w * ((1 + (p - 1) * t) * sigmoid(x) - p * t) * dL/dl,   sigmoid(x) = exp(-sp)
    dL/dt = w * ((p - 1) * sp - x) * dL/dl

    Saves: x, t, sp.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight=None, pos_weight=None):
        sp = np.abs(x, out=np.empty_like(x))  # an array even when 0-d
        np.negative(sp, out=sp)
        np.exp(sp, out=sp)
        np.log1p(sp, out=sp)
        sp += np.maximum(-x, 0)
        if pos_weight is None:
            loss = (1 - t) * x + sp
        else:
            loss = (1 + (pos_weight - 1) * t) * sp
            loss += (1 - t) * x
        if weight is not None:
            loss *= weight
        ctx.weight = weight
        ctx.pos_weight = pos_weight
        ctx.save_for_backward(x, t, sp)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, grad_out):
        x, t, sp = ctx.saved
        sigmoid = np.exp(-sp) if ctx.needs_input_grad[0] else None
        return bce_logits_grads(ctx, grad_out, x, t, sp, sigmoid)


def bce_logits_grads(ctx, grad_out, x, t, sp, sigmoid):
    """(dL/dx, dL/dt) of ``BinaryCrossEntropyWithLogits`` given sp = softplus(-x) and
    sigmoid(x) (its docstring has the formulas); ``None`` for an input that needs none."""
    pw = ctx.pos_weight
    grad_l = grad_loss(ctx, grad_out)
    if ctx.weight is not None:
        grad_l = grad_l * ctx.weight
    grad_x = None
    grad_t = None
    if ctx.needs_input_grad[0]:
        if pw is None:
            grad_x = sigmoid - t
        else:
            grad_x = (1 + (pw - 1) * t) * sigmoid
            grad_x -= pw * t
        grad_x *= grad_l
    if ctx.needs_input_grad[1]:
        grad_t = -x if pw is None else (pw - 1) * sp - x
        grad_t = grad_t * grad_l
    return grad_x, grad_t


def _check_probabilities(op: str, name: str, arr: np.ndarray, fix: str) -> None:
    inside = (arr >= 0) & (arr <= 1)
    if inside.all():
        return
    bad = arr[~inside].flat[0]
    what = "NaN" if np.isnan(bad) else f"the value {bad:g}, outside [0, 1]"
    raise ValueError(f"{op}: {name} contains {what}; {fix}")


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
) -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and targets in [0, 1].

    Each log is clamped at -100 (PyTorch; Keras clips the probabilities with epsilon instead).
    Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is exact where this one
    saturates. ``weight`` broadcasts to the input's shape.
    """
    op = "binary_cross_entropy"
    check_input(op, input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    target = target_like(op, input, target)
    _check_probabilities(
        op,
        "input",
        input.array,
        "it expects probabilities: apply sigmoid first, or pass the raw logits to "
        "binary_cross_entropy_with_logits",
    )
    _check_probabilities(op, "target", target.array, "targets must be probabilities in [0, 1]")
    w = constant(op, "weight", weight, input)
    return BinaryCrossEntropy.apply(input, target, reduction=reduction, weight=w)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, on raw logits ``input``.

    ``pos_weight`` (broadcast along the last dimension, usually shape (C,)) multiplies the
    positive term: pos_weight = n_negative / n_positive balances a rare class. ``weight``
    broadcasts to the input's shape.
    """
    op = "binary_cross_entropy_with_logits"
    check_input(op, input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    target = target_like(op, input, target)
    if np.isnan(target.array).any():
        raise ValueError(f"{op}: target contains NaN; clean the labels (targets must be in [0, 1])")
    w = constant(op, "weight", weight, input)
    pw = constant(op, "pos_weight", pos_weight, input)
    fn = BinaryCrossEntropyWithLogits
    if backend.fast.numba and input.dtype in (np.float32, np.float64):
        fn = fast_loss.CompiledBinaryCrossEntropyWithLogits
    return fn.apply(input, target, reduction=reduction, weight=w, pos_weight=pw)


# ---- KL divergence ----------------------------------------------------------------------------
class KLDiv(Function):
    """Pointwise KL term, ``input`` x = log q (log-probabilities), target t = p:
        l = t * (log(t) - x)         (0 where t = 0, as xlogy)
        l = exp(t) * (t - x)         with log_target=True (t = log p)

    dL/dx = -t * dL/dl               (-exp(t) * dL/dl with log_target)
    dL/dt = (log(t) + 1 - x) * dL/dl   ((1 + t - x) * exp(t) * dL/dl with log_target); at t = 0
            the log(t) term is taken as 0.

    Saves: x, t (and exp(t) with log_target).
    """

    @staticmethod
    def forward(ctx, x, t, reduction, log_target, denominator=None):
        if log_target:
            p = np.exp(t)
            loss = (t - x) * p
        else:
            p = t
            log_t = np.log(t, out=np.zeros_like(t), where=t > 0)
            loss = (log_t - x) * t
        ctx.log_target = log_target
        ctx.save_for_backward(x, t, p)
        return reduce_loss(ctx, loss, reduction, denominator)

    @staticmethod
    def backward(ctx, grad_out):
        x, t, p = ctx.saved
        grad_l = grad_loss(ctx, grad_out)
        grad_x = -p * grad_l if ctx.needs_input_grad[0] else None
        grad_t = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                grad_t = (1 + t - x) * p * grad_l
            else:
                grad_t = np.log(t, out=np.zeros_like(t), where=t > 0)
                grad_t += 1 - x
                grad_t *= grad_l
        return grad_x, grad_t


def kl_div(
    input, target, size_average=None, reduce=None, reduction="mean", log_target=False
) -> Tensor:
    """KL(target || exp(input)) summed pointwise: ``input`` holds log-probabilities.

    reduction='batchmean' (sum / batch size) is the mathematical KL divergence per sample;
    'mean' averages over *all* elements (PyTorch's default, which it warns about; so does
    neuronet). Keras' KLDivergence takes probabilities for both arguments.
    """
    op = "kl_div"
    check_input(op, input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction, REDUCTIONS + ("batchmean",))
    target = target_like(op, input, target)
    denominator = None
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and matches the KL "
            "divergence definition",
            UserWarning,
            stacklevel=2,
        )
    if reduction == "batchmean":
        reduction = "mean"
        denominator = input.shape[0] if input.ndim else 1
    return KLDiv.apply(
        input, target, reduction=reduction, log_target=bool(log_target), denominator=denominator
    )


__all__ = [
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
]


from neuronet.ops.fast import loss as fast_loss  # noqa: E402  (it subclasses this module's Functions)
