"""Adam (Kingma & Ba, 2015), with L2 weight decay and the AMSGrad variant, PyTorch's form.

The moment helpers here are shared with AdamW (same class, decoupled decay) and LAMB (the same
moments under a layer-wise trust ratio).
"""

from __future__ import annotations

import numpy as np

from neuronet.optim import _fast
from neuronet.optim.optimizer import (
    Optimizer,
    bias_corrections,
    contiguous,
    decayed_grad,
    lerp_,
)


def adam_moments(
    g: np.ndarray, m: np.ndarray, v: np.ndarray, beta1: float, beta2: float, tmp: np.ndarray
) -> None:
    """Update Adam's moments in place, in torch's operation order::

        m <- m + (1 - beta1) * (g - m)     (= beta1*m + (1-beta1)*g, torch.lerp)
        v <- beta2 * v + ((1 - beta2) * g) * g

    ``tmp`` is a work array of g's shape."""
    lerp_(m, g, 1 - beta1, tmp)
    v *= beta2
    np.multiply(g, 1 - beta2, out=tmp)
    tmp *= g
    v += tmp


def adam_denominator(v: np.ndarray, bc2_sqrt: float, eps: float, out: np.ndarray) -> np.ndarray:
    """``out <- sqrt(v) / sqrt(1 - beta2**t) + eps`` (eps outside the root, as torch)."""
    np.sqrt(v, out=out)
    out /= bc2_sqrt
    out += eps
    return out


def check_adam_options(options: dict) -> None:
    if not 0.0 <= options["lr"]:
        raise ValueError(f"Invalid learning rate: {options['lr']}")
    if not 0.0 <= options["eps"]:
        raise ValueError(f"Invalid epsilon value: {options['eps']}")
    betas = options["betas"]
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= options["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")


class Adam(Optimizer):
    """Adam: adaptive moment estimation (Kingma & Ba, 2015), PyTorch's formulation.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. w <- w * (1 - lr * weight_decay)               if decoupled_weight_decay (AdamW)
           g <- g + weight_decay * w                      otherwise (L2 penalty in the gradient)
        3. m <- beta1 * m + (1 - beta1) * g
           v <- beta2 * v + (1 - beta2) * g^2
        4. v_max <- max(v_max, v); use v_max for v       if amsgrad (max of the raw moment)
        5. w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Note: eps is added to the bias-corrected sqrt(v_hat) (Algorithm 1 of the paper), default
    1e-8. Keras/TF use the "epsilon hat" form with eps=1e-7, which is larger early in training.
    ``weight_decay`` here is an L2 penalty added to the gradient; use ``AdamW`` for decoupled
    decay (Keras applies decoupled decay in every optimizer).

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2), the moments' decay rates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        amsgrad: use the AMSGrad variant (default False).
        maximize: maximize the objective.
        decoupled_weight_decay: apply weight decay as AdamW does (default False).

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` when amsgrad.

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0], dtype=np.float32))
        >>> w.grad = tensor([0.3, -2.0])
        >>> opt = optim.Adam([w], lr=0.1)
        >>> opt.step()                  # the first step moves each weight by about lr
        >>> w.array.round(4)
        array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        check_adam_options(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        check_adam_options(options)

    def init_state(self, param, group) -> dict:
        state = {
            "step": 0,
            "exp_avg": np.zeros(param.array.shape, param.array.dtype),
            "exp_avg_sq": np.zeros(param.array.shape, param.array.dtype),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros(param.array.shape, param.array.dtype)
        return state

    def update(self, param, grad, state, group) -> None:
        w = param.array
        m = state["exp_avg"]
        v = state["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        wd = group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        amsgrad = group["amsgrad"]
        state["step"] += 1
        bc1, bc2_sqrt = bias_corrections(beta1, beta2, state["step"])
        step_size = lr / bc1
        vmax = state.get("max_exp_avg_sq") if amsgrad else None
        if amsgrad and vmax is None:  # amsgrad switched on after the first step
            vmax = state["max_exp_avg_sq"] = np.zeros(w.shape, w.dtype)
        k = _fast.kernels()
        flat_w = contiguous(w)
        if k is not None and flat_w is not None:
            k.adam(
                p=flat_w,
                g=np.ascontiguousarray(grad).reshape(-1),
                m=m.reshape(-1),
                v=v.reshape(-1),
                vmax=(vmax if amsgrad else v).reshape(-1),  # unused without amsgrad
                sign=-1.0 if group["maximize"] else 1.0,
                weight_decay=float(wd),
                decoupled_decay=float(1 - lr * wd),
                one_minus_beta1=float(1 - beta1),
                beta2=float(beta2),
                one_minus_beta2=float(1 - beta2),
                eps=float(group["eps"]),
                bc2_sqrt=bc2_sqrt,
                neg_step_size=-float(step_size),
                amsgrad=bool(amsgrad),
                decoupled=bool(decoupled),
            )
            return
        g = self.scratch(w)
        tmp = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, tmp)
        adam_moments(g, m, v, beta1, beta2, tmp)
        if amsgrad:
            np.maximum(vmax, v, out=vmax)
        denom = adam_denominator(vmax if amsgrad else v, bc2_sqrt, group["eps"], out=tmp)
        np.divide(m, denom, out=tmp)
        tmp *= -step_size
        w += tmp


__all__ = ["Adam"]
