"""Negative log-likelihood losses of a distribution's parameters: gaussian_nll_loss and
poisson_nll_loss (PyTorch's definitions, as compositions: exact gradients).

    gaussian_nll   l = 0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps))
                   (+ 0.5 log(2 pi) with full=True); var has input's shape, or one dim fewer or
                   one size-1 dim (a shared variance); target has input's shape, or one size-1
                   dim. As PyTorch, the clamp at eps is applied
                   without gradient: var's gradient is the formula's at the clamped value.
    poisson_nll    l = exp(input) - target * input               (log_input=True, the default)
                   l = input - target * log(input + eps)         (log_input=False)
                   + target log(target) - target + 0.5 log(2 pi target) where target > 1
                   (Stirling's term, full=True)
then 'mean' (the default), 'sum' or 'none'.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._loss_util import check_input
from neuronet.ops.arithmetic import add, div, mul, sub
from neuronet.ops.indexing import where
from neuronet.ops.margin_loss import _prepare, _same_shape, apply_reduction
from neuronet.ops.shape import unsqueeze
from neuronet.ops.unary import exp, log


def _no_grad_clamp_min(t: Tensor, eps: float) -> Tensor:
    """t clamped at eps in value, with t's own gradient (PyTorch's clamp_ under no_grad)."""
    shift = np.maximum(t.array, eps) - t.array
    return add(t, Tensor(shift.astype(t.dtype)))


def _one_size_one_dim(shape: tuple, like: tuple) -> bool:
    """True when ``shape`` is ``like`` with one dim of size 1 (PyTorch's shared variance)."""
    return len(shape) == len(like) and sum(v for i, v in zip(like, shape) if i != v) == 1


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction="mean"):
    """The Gaussian negative log-likelihood of target under N(input, var). See
    ``nn.GaussianNLLLoss``."""
    op = "gaussian_nll_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction)
    if not isinstance(var, Tensor):
        var = Tensor(np.full(input.shape, var, dtype=input.dtype))
    if target.shape != input.shape and not _one_size_one_dim(target.shape, input.shape):
        raise ValueError(
            f"{op}: target {target.shape} must have the input's shape {input.shape}, or that shape "
            "with one dim of size 1 (no other broadcasting)"
        )
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = unsqueeze(var, -1)
        elif not _one_size_one_dim(var.shape, input.shape):
            raise ValueError(
                f"{op}: var is of incorrect size {var.shape} for input {input.shape}: give it the "
                "input's shape, one dim fewer, or one size-1 dim"
            )
    if np.any(var.array < 0):
        raise ValueError(f"{op}: var has negative entry/entries")
    var = _no_grad_clamp_min(var, eps)
    diff = sub(input, target)
    loss = mul(add(log(var), div(mul(diff, diff), var)), 0.5)
    if full:
        loss = add(loss, 0.5 * math.log(2 * math.pi))
    return apply_reduction(loss, reduction)


def poisson_nll_loss(
    input,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction="mean",
) -> Tensor:
    """The Poisson negative log-likelihood of counts target under rate exp(input) (or input).
    See ``nn.PoissonNLLLoss``."""
    op = "poisson_nll_loss"
    check_input(op, input)
    reduction = _prepare(op, reduction, size_average, reduce)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target, dtype=input.dtype))
    _same_shape(op, input=input, target=target)
    if log_input:
        loss = sub(exp(input), mul(target, input))
    else:
        loss = sub(input, mul(target, log(add(input, eps))))
    if full:  # Stirling's term, where target > 1 (differentiable in target, as PyTorch)
        big = Tensor(target.array > 1)
        safe = where(big, target, Tensor(np.ones((), dtype=input.dtype)))
        stirling = add(sub(mul(safe, log(safe)), safe), mul(log(mul(safe, 2 * math.pi)), 0.5))
        loss = add(loss, where(big, stirling, Tensor(np.zeros((), dtype=input.dtype))))
    return apply_reduction(loss, reduction)


__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]
