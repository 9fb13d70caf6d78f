"""Multi-class losses: cross_entropy (fused log-softmax + NLL) and nll_loss.

The class dimension is dim 1: input (N, C), (N, C, d1, d2, ...) or a single sample (C,).
Class-index targets have the input's shape without dim 1 ((N,), (N, d1, ...), or ()), and
int dtype; probability targets (cross_entropy only) have the input's shape.

PyTorch's rules (docs/semantics.md, "Cross-entropy input and label smoothing"), which Keras and
others differ from:
- ``cross_entropy`` takes **logits**, never probabilities (Keras' default from_logits=False
  expects probabilities).
- Label smoothing eps mixes the one-hot target with the uniform distribution:
  l = (1 - eps) * NLL + (eps / C) * sum_c -w_c * log p_c (a term per class, each weighted).
- ``reduction='mean'`` divides by the summed weights w[t_i] of the non-ignored samples (not by
  N), for both terms; samples whose target is ``ignore_index`` count nowhere.
- With probability targets, t <- (1 - eps) * t + eps / C and 'mean' divides by the number of
  samples N * d1 * ...
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import (
    check_input,
    check_reduction,
    constant,
    grad_loss,
    legacy_reduction,
    reduce_loss,
    target_like,
)
from neuronet.ops.softmax import log_softmax_array


def _class_shape(ndim: int) -> tuple:
    """Reshape for a (C,) vector so it broadcasts along dim 1 of an ndim-dimensional input."""
    return (1, -1) + (1,) * (ndim - 2)


def _gather(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """a[i, index[i, ...], ...]: the entry of each sample's target class (dim 1)."""
    return np.take_along_axis(a, index[:, None], axis=1)[:, 0]


class CrossEntropy(Function):
    """Class-index cross-entropy on logits x (class dim 1), target classes t, class weights w:
        logp_i   = log_softmax(x_i)
        nll_i    = -w[t_i] * logp_i[t_i]
        smooth_i = -sum_c w[c] * logp_i[c]
        l_i      = ((1 - eps) * nll_i + (eps / C) * smooth_i) * v_i,   v_i = [t_i != ignore_index]
    'mean' = sum_i l_i / sum_i w[t_i] * v_i.

    With q_i = dL/dl_i * v_i and p_i = softmax(x_i) = exp(logp_i):
    dL/dx_i = q_i * ((1 - eps) * w[t_i] + (eps / C) * sum_c w[c]) * p_i
              - q_i * (1 - eps) * w[t_i] * onehot(t_i) - q_i * (eps / C) * w

    Saves: logp, t (ignored samples mapped to class 0), w[t_i] * v_i, v_i.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight, ignore_index, label_smoothing):
        unbatched = x.ndim == 1
        if unbatched:
            x = x[None]
            t = t[None]
        n_classes = x.shape[1]
        logp = log_softmax_array(x, 1)
        valid = t != ignore_index
        t = np.where(valid, t, 0)
        mask = valid.astype(x.dtype)
        w_t = mask if weight is None else weight[t] * mask
        loss = _gather(logp, t)
        loss *= w_t
        loss *= -(1 - label_smoothing)
        if label_smoothing > 0:
            if weight is None:
                smooth = logp.sum(axis=1)
            else:
                smooth = (logp * weight.reshape(_class_shape(x.ndim))).sum(axis=1)
            smooth *= mask
            smooth *= -(label_smoothing / n_classes)
            loss += smooth
        ctx.eps = label_smoothing
        ctx.weight = weight
        ctx.unbatched = unbatched
        ctx.save_for_backward(logp, t, w_t, mask)
        out = reduce_loss(ctx, loss, reduction, w_t.sum())
        return out.reshape(()) if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, grad_out):
        logp, t, w_t, mask = ctx.saved
        eps = ctx.eps
        n_classes = logp.shape[1]
        if ctx.unbatched and ctx.reduction == "none":
            grad_out = grad_out[None]
        q = grad_loss(ctx, grad_out)
        grad_nll = q * w_t
        grad_nll *= 1 - eps
        coef = grad_nll
        if eps > 0:
            w_sum = n_classes if ctx.weight is None else ctx.weight.sum()
            grad_smooth = q * mask
            grad_smooth *= eps / n_classes
            coef = grad_nll + grad_smooth * w_sum
        grad_x = np.exp(logp)
        grad_x *= coef[:, None]
        index = t[:, None]
        picked = np.take_along_axis(grad_x, index, axis=1)
        np.put_along_axis(grad_x, index, picked - grad_nll[:, None], axis=1)
        if eps > 0:
            w = 1 if ctx.weight is None else ctx.weight.reshape(_class_shape(logp.ndim))
            grad_x -= grad_smooth[:, None] * w
        if ctx.unbatched:
            grad_x = grad_x[0]
        return grad_x, None


class CrossEntropyProbs(Function):
    """Cross-entropy with class-probability targets t (the input's shape), class weights w:
        s_i = (1 - eps) * t_i + eps / C        (label smoothing)
        l_i = -sum_c w[c] * s_ic * logp_ic,     logp_i = log_softmax(x_i);  'mean' divides by N

    dL/dx_i = q_i * (p_i * sum_c w[c] * s_ic - w * s_i),   q_i = dL/dl_i,  p_i = softmax(x_i)
    dL/dt_i = -(1 - eps) * q_i * w * logp_i

    Saves: logp, w * s.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight, label_smoothing):
        unbatched = x.ndim == 1
        if unbatched:
            x = x[None]
            t = t[None]
        n_classes = x.shape[1]
        logp = log_softmax_array(x, 1)
        ws = t
        if label_smoothing > 0:
            ws = t * (1 - label_smoothing) + label_smoothing / n_classes
        if weight is not None:
            ws = ws * weight.reshape(_class_shape(x.ndim))
        loss = -(logp * ws).sum(axis=1)
        ctx.eps = label_smoothing
        ctx.weight = weight
        ctx.unbatched = unbatched
        ctx.save_for_backward(logp, ws)
        out = reduce_loss(ctx, loss, reduction)
        return out.reshape(()) if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, grad_out):
        logp, ws = ctx.saved
        if ctx.unbatched and ctx.reduction == "none":
            grad_out = grad_out[None]
        q = grad_loss(ctx, grad_out)[:, None]
        grad_x = None
        grad_t = None
        if ctx.needs_input_grad[0]:
            grad_x = np.exp(logp)
            grad_x *= ws.sum(axis=1, keepdims=True)
            grad_x -= ws
            grad_x *= q
        if ctx.needs_input_grad[1]:
            grad_t = logp * q
            grad_t *= -(1 - ctx.eps)
            if ctx.weight is not None:
                grad_t *= ctx.weight.reshape(_class_shape(logp.ndim))
        if ctx.unbatched:
            grad_x = None if grad_x is None else grad_x[0]
            grad_t = None if grad_t is None else grad_t[0]
        return grad_x, grad_t


class NLLLoss(Function):
    """Negative log-likelihood on log-probabilities x (class dim 1), target classes t:
        l_i = -w[t_i] * x_i[t_i] * v_i,   v_i = [t_i != ignore_index];
    'mean' = sum_i l_i / sum_i w[t_i] * v_i.

    dL/dx_i = -dL/dl_i * w[t_i] * v_i * onehot(t_i)

    Saves: t (ignored samples mapped to class 0), w[t_i] * v_i, the input's shape.
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight, ignore_index):
        unbatched = x.ndim == 1
        if unbatched:
            x = x[None]
            t = t[None]
        valid = t != ignore_index
        t = np.where(valid, t, 0)
        w_t = valid.astype(x.dtype) if weight is None else weight[t] * valid
        loss = _gather(x, t)
        loss *= w_t
        np.negative(loss, out=loss)
        ctx.unbatched = unbatched
        ctx.x_meta = (x.shape, x.dtype)
        ctx.save_for_backward(t, w_t)
        out = reduce_loss(ctx, loss, reduction, w_t.sum())
        return out.reshape(()) if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, grad_out):
        t, w_t = ctx.saved
        if ctx.unbatched and ctx.reduction == "none":
            grad_out = grad_out[None]
        grad_picked = -grad_loss(ctx, grad_out) * w_t
        shape, dtype = ctx.x_meta
        grad_x = np.zeros(shape, dtype=dtype)
        np.put_along_axis(grad_x, t[:, None], grad_picked[:, None].astype(dtype), axis=1)
        if ctx.unbatched:
            grad_x = grad_x[0]
        return grad_x, None


def _class_targets(op: str, input: Tensor, target, weight, ignore_index):
    """Validate class-index targets and class weights; return (target array, weight array)."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    t = target.array if isinstance(target, Tensor) else np.asarray(target)
    n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    expected = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index targets must be integers, got dtype {t.dtype} with shape "
            f"{tuple(t.shape)}; use target.long() for class indices, or pass one-hot "
            f"probabilities of the input's shape {tuple(input.shape)}"
        )
    if t.shape != expected:
        raise ValueError(
            f"{op}: input of shape {tuple(input.shape)} (classes along dim 1, C = {n_classes}) "
            f"needs a target of shape {expected}, got {tuple(t.shape)}; for an (N, C) input "
            "the target holds one class index per sample"
        )
    out_of_range = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if out_of_range.any():
        bad = int(t[out_of_range].flat[0])
        raise IndexError(
            f"{op}: target {bad} is out of bounds for C = {n_classes} classes (valid class "
            f"indices are 0..{n_classes - 1}; samples with target == ignore_index "
            f"({ignore_index}) are skipped)"
        )
    w = constant(op, "weight", weight, input, (n_classes,))
    return t, w


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
) -> Tensor:
    """Cross-entropy between logits ``input`` (classes along dim 1) and ``target``.

    ``target`` is either class indices (int64, the input's shape without dim 1) or class
    probabilities (float, the input's shape). One fused op: log-softmax and the negative
    log-likelihood, stable for logits of any size.

    Args:
        weight: per-class weights, shape (C,).
        ignore_index: class-index targets equal to it contribute nothing (not even to the mean's
            denominator).
        reduction: 'mean' (weighted mean over counted samples), 'sum' or 'none'.
        label_smoothing: eps in [0, 1]; see the module docstring for the formula.

    Example:
        >>> import neuronet as nt
        >>> logits = nt.tensor([[2.0, 0.0, 0.0]])
        >>> round(nt.cross_entropy(logits, nt.tensor([0])).item(), 4)
        0.2395
    """
    op = "cross_entropy"
    check_input(op, input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    eps = float(label_smoothing)
    shape = getattr(target, "shape", None)
    is_float = getattr(target, "dtype", np.dtype("int64")).kind == "f"
    if is_float and shape == input.shape and input.ndim >= 1:
        if ignore_index >= 0:
            raise ValueError(
                f"{op}: ignore_index={ignore_index} is not supported with probability targets"
            )
        n_classes = input.shape[0] if input.ndim == 1 else input.shape[1]
        w = constant(op, "weight", weight, input, (n_classes,))
        target = target_like(op, input, target)
        return CrossEntropyProbs.apply(
            input, target, reduction=reduction, weight=w, label_smoothing=eps
        )
    t, w = _class_targets(op, input, target, weight, ignore_index)
    return CrossEntropy.apply(
        input,
        t,
        reduction=reduction,
        weight=w,
        ignore_index=ignore_index,
        label_smoothing=eps,
    )


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
) -> Tensor:
    """Negative log-likelihood: -input[i, target[i]] averaged, for log-probabilities ``input``.

    ``nll_loss(log_softmax(x, dim=1), t)`` equals ``cross_entropy(x, t)``. Shapes, ``weight``
    and ``ignore_index`` as in ``cross_entropy`` (class-index targets only).
    """
    op = "nll_loss"
    check_input(op, input)
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    t, w = _class_targets(op, input, target, weight, ignore_index)
    return NLLLoss.apply(input, t, reduction=reduction, weight=w, ignore_index=ignore_index)


__all__ = ["cross_entropy", "nll_loss"]
