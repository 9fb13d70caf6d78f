"""LAMB (You et al., 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
minutes"): Adam's moments with a layer-wise trust ratio, pinned to the paper's Algorithm 2."""

from __future__ import annotations

import math

import numpy as np

from neuronet.optim import _fast
from neuronet.optim.adam import adam_denominator, adam_moments, check_adam_options
from neuronet.optim.optimizer import Optimizer, bias_corrections, contiguous


def trust_ratio(w_norm: float, r_norm: float, clamp_value: float | None = None) -> float:
    """phi(||w||) / ||r||, with phi the clamp to [0, clamp_value] (identity when None), and 1
    when either norm is 0 (a zero layer or a zero update is not rescaled)."""
    if clamp_value is not None:
        w_norm = min(w_norm, clamp_value)
    if w_norm > 0.0 and r_norm > 0.0:
        return w_norm / r_norm
    return 1.0


def _excluded(rule, param) -> bool:
    if callable(rule):
        return bool(rule(param))
    return bool(rule)


class LAMB(Optimizer):
    """LAMB: layer-wise adaptive moments for large-batch training (PyTorch has no core version;
    this one follows the paper).

    Algorithm, for each parameter (layer) w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. m <- beta1 * m + (1 - beta1) * g
           v <- beta2 * v + (1 - beta2) * g^2
        3. m_hat <- m / (1 - beta1^t),  v_hat <- v / (1 - beta2^t)          (bias correction)
        4. r <- m_hat / (sqrt(v_hat) + eps) + weight_decay * w   (decay inside the update)
        5. trust <- phi(||w||) / ||r||   if ||w|| > 0 and ||r|| > 0, else 1
           (phi clamps ||w|| to [0, clamp_value]; no clamp by default)
        6. w <- w - lr * trust * r

    With the trust ratio fixed at 1 (``exclude_from_adaptation``) this is exactly AdamW.

    Note: LAMB variants differ (docs/semantics.md, "LAMB"): bias correction is on here (Keras,
    tinygrad, apex) but off in cybertronai/pytorch-lamb; weight decay sits inside r before the trust
    ratio (paper, tinygrad) rather than outside it (Keras); ||w|| is not clamped unless
    ``clamp_value`` is given (pytorch-lamb clamps to 10); eps defaults to 1e-6 (Keras 1e-7).

    Excluding biases and norm parameters (as BERT does): pass
    ``LAMB.param_groups_for(model)`` as params (parameters with ndim <= 1 go to a group with
    ``weight_decay=0`` and no adaptation), or give ``exclude_from_weight_decay`` /
    ``exclude_from_adaptation`` as a callable ``f(param) -> bool`` or a bool, here or per group.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to sqrt(v_hat) (default 1e-6).
        weight_decay: decoupled decay inside the update, lambda in step 4 (default 0).
        clamp_value: upper clamp of ||w|| in the trust ratio (default None: no clamp).
        exclude_from_weight_decay: bool or callable(param) -> bool (default None).
        exclude_from_adaptation: bool or callable(param) -> bool; excluded parameters use
            trust = 1 (default None).
        maximize: maximize the objective.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([3.0, 4.0], dtype=np.float32))       # ||w|| = 5
        >>> w.grad = tensor([1.0, 0.0])
        >>> opt = optim.LAMB([w], lr=0.1)
        >>> opt.step()                  # r ~ (1, 0), trust = 5 / 1: the step is lr * 5
        >>> w.array.round(4)
        array([2.5, 4. ], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-6,
        weight_decay=0.0,
        clamp_value=None,
        *,
        exclude_from_weight_decay=None,
        exclude_from_adaptation=None,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "clamp_value": clamp_value,
            "exclude_from_weight_decay": exclude_from_weight_decay,
            "exclude_from_adaptation": exclude_from_adaptation,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        check_adam_options(options)
        clamp = options["clamp_value"]
        if clamp is not None and not clamp > 0.0:
            raise ValueError(f"Invalid clamp_value: {clamp}; give a positive number or None")

    @classmethod
    def param_groups_for(cls, model, weight_decay: float | None = None) -> list[dict]:
        """Two groups: ``ndim >= 2`` parameters (decayed and adapted), and biases and norm
        parameters (``ndim <= 1``) with ``weight_decay=0`` and no trust-ratio adaptation."""
        groups = super().param_groups_for(model, weight_decay)
        for group in groups:
            if group["params"][0].ndim <= 1:
                group["exclude_from_adaptation"] = True
        return groups

    def init_state(self, param, group) -> dict:
        return {
            "step": 0,
            "exp_avg": np.zeros(param.array.shape, param.array.dtype),
            "exp_avg_sq": np.zeros(param.array.shape, param.array.dtype),
        }

    def update(self, param, grad, state, group) -> None:
        w = param.array
        m = state["exp_avg"]
        v = state["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        wd = 0.0 if _excluded(group["exclude_from_weight_decay"], param) else group["weight_decay"]
        adapt = not _excluded(group["exclude_from_adaptation"], param)
        state["step"] += 1
        bc1, bc2_sqrt = bias_corrections(beta1, beta2, state["step"])
        sign = -1.0 if group["maximize"] else 1.0
        k = _fast.kernels()
        flat_w = contiguous(w)
        if k is not None and flat_w is not None:
            flat_m = m.reshape(-1)
            flat_v = v.reshape(-1)
            w_sq, r_sq = k.lamb_moments(
                p=flat_w,
                g=np.ascontiguousarray(grad).reshape(-1),
                m=flat_m,
                v=flat_v,
                sign=sign,
                one_minus_beta1=float(1 - beta1),
                beta2=float(beta2),
                one_minus_beta2=float(1 - beta2),
                bc1=float(bc1),
                bc2_sqrt=bc2_sqrt,
                eps=float(eps),
                weight_decay=float(wd),
            )
            trust = trust_ratio(math.sqrt(w_sq), math.sqrt(r_sq), group["clamp_value"])
            k.lamb_apply(
                p=flat_w,
                m=flat_m,
                v=flat_v,
                bc1=float(bc1),
                bc2_sqrt=bc2_sqrt,
                eps=float(eps),
                weight_decay=float(wd),
                scale=float(group["lr"] * (trust if adapt else 1.0)),
            )
            return
        r = self.scratch(w)
        tmp = self.scratch(w, slot=1)
        np.multiply(grad, sign, out=r)
        adam_moments(r, m, v, beta1, beta2, tmp)
        np.divide(m, bc1, out=r)
        r /= adam_denominator(v, bc2_sqrt, eps, out=tmp)
        if wd != 0:
            r += np.multiply(w, wd, out=tmp)
        trust = 1.0
        if adapt:
            w_norm = math.sqrt(float(np.dot(w.reshape(-1), w.reshape(-1))))
            r_norm = math.sqrt(float(np.dot(r.reshape(-1), r.reshape(-1))))
            trust = trust_ratio(w_norm, r_norm, group["clamp_value"])
        r *= -group["lr"] * trust
        w += r


__all__ = ["LAMB"]
