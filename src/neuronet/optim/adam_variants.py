"""Three variants of Adam, PyTorch's forms: Adamax (Kingma & Ba, 2015, section 7: the infinity
norm for the second moment), NAdam (Dozat, 2016: Nesterov momentum, with a momentum schedule)
and RAdam (Liu et al., 2020: the adaptive step switched on only once the variance of its
estimate is bounded, and rectified until then). Their moments are Adam's (``adam.py``)."""

from __future__ import annotations

import math

import numpy as np

from neuronet.optim.adam import adam_moments, check_adam_options
from neuronet.optim.optimizer import Optimizer, decayed_grad, lerp_


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. g <- g + weight_decay * w                      (L2 penalty)
        3. m <- beta1 * m + (1 - beta1) * g
        4. u <- max(beta2 * u, |g| + eps)                 (exp_inf)
        5. w <- w - lr / (1 - beta1^t) * m / u

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to |g| (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        maximize: maximize the objective.

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0], dtype=np.float32))
        >>> w.grad = tensor([0.3, -2.0])
        >>> optim.Adamax([w], lr=0.1).step()  # the first step moves each weight by about lr
        >>> w.array.round(4)
        array([ 0.9, -0.9], dtype=float32)
    """

    def __init__(
        self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        check_adam_options(options)

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {"step": 0, "exp_avg": np.zeros(shape, dtype), "exp_inf": np.zeros(shape, dtype)}

    def update(self, param, grad, state, group) -> None:
        w = param.array
        beta1, beta2 = group["betas"]
        m, u = state["exp_avg"], state["exp_inf"]
        state["step"] += 1
        g = self.scratch(w)
        tmp = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, tmp)
        lerp_(m, g, 1 - beta1, tmp)
        np.abs(g, out=tmp)
        tmp += group["eps"]
        u *= beta2
        np.maximum(u, tmp, out=u)
        clr = group["lr"] / (1 - beta1 ** state["step"])
        np.divide(m, u, out=tmp)
        tmp *= -clr
        w += tmp


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum, whose momentum coefficient warms up over the steps.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. w <- w * (1 - lr * weight_decay)               if decoupled_weight_decay
           g <- g + weight_decay * w                      otherwise (L2 penalty)
        3. mu_t <- beta1 * (1 - 0.96^(t * momentum_decay) / 2)   (and mu_{t+1} alike)
           P <- P * mu_t                                  (mu_product, starts at 1)
        4. m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
        5. d <- sqrt(v / (1 - beta2^t)) + eps
           w <- w - lr (1 - mu_t) / (1 - P) * g / d - lr mu_{t+1} / (1 - P mu_{t+1}) * m / d

    Note: as PyTorch, the running product P is kept in float32 whatever the parameters' dtype.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay coefficient (default 0).
        momentum_decay: the momentum schedule's rate (default 4e-3).
        maximize: maximize the objective.
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).

    State per parameter: ``step``, ``mu_product`` (P), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0], dtype=np.float32))
        >>> w.grad = tensor([0.3, -2.0])
        >>> optim.NAdam([w], lr=0.1).step()  # the first step: about lr, as Adam's
        >>> w.array.round(3)
        array([ 0.894, -0.894], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        check_adam_options(options)
        if not 0.0 <= options["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {options['momentum_decay']}")

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {
            "step": 0,
            "mu_product": np.array(1.0, np.float32),
            "exp_avg": np.zeros(shape, dtype),
            "exp_avg_sq": np.zeros(shape, dtype),
        }

    def update(self, param, grad, state, group) -> None:
        w = param.array
        beta1, beta2 = group["betas"]
        lr, psi = group["lr"], group["momentum_decay"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        t = state["step"]
        g = self.scratch(w)
        tmp = self.scratch(w, slot=1)
        denom = self.scratch(w, slot=2)
        decayed_grad(w, grad, group, g, tmp)
        bc2 = 1 - beta2**t
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        product = np.float32(state["mu_product"]) * np.float32(mu)  # float32, as torch keeps it
        state["mu_product"] = np.array(product, np.float32)
        product = float(product)
        adam_moments(g, m, v, beta1, beta2, tmp)
        np.divide(v, bc2, out=denom)
        np.sqrt(denom, out=denom)
        denom += group["eps"]
        np.divide(g, denom, out=tmp)
        tmp *= -lr * (1.0 - mu) / (1.0 - product)
        w += tmp
        np.divide(m, denom, out=tmp)
        tmp *= -lr * mu_next / (1.0 - product * mu_next)
        w += tmp


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is rectified by the variance of its estimate, and left
    out (plain momentum SGD with bias correction) while that variance is unbounded.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. w <- w * (1 - lr * weight_decay)               if decoupled_weight_decay
           g <- g + weight_decay * w                      otherwise (L2 penalty)
        3. m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g^2
        4. m_hat <- m / (1 - beta1^t)
           rho_inf <- 2 / (1 - beta2) - 1;  rho_t <- rho_inf - 2 t beta2^t / (1 - beta2^t)
        5. if rho_t > 5:
               r <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
               w <- w - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r
           else:
               w <- w - lr * m_hat

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to sqrt(v) (default 1e-8).
        weight_decay: weight decay coefficient (default 0).
        maximize: maximize the objective.
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0], dtype=np.float32))
        >>> w.grad = tensor([2.0])
        >>> optim.RAdam([w], lr=0.1).step()  # rho_1 = 1 <= 5: w -= lr * m_hat = lr * g
        >>> w.array.round(4)
        array([0.8], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        check_adam_options(options)

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {"step": 0, "exp_avg": np.zeros(shape, dtype), "exp_avg_sq": np.zeros(shape, dtype)}

    def update(self, param, grad, state, group) -> None:
        w = param.array
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        t = state["step"]
        g = self.scratch(w)
        tmp = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, tmp)
        adam_moments(g, m, v, beta1, beta2, tmp)
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bc2
        step = np.divide(m, bc1, out=g)  # m_hat (g is no longer needed)
        step *= lr
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            np.sqrt(v, out=tmp)
            tmp += group["eps"]
            np.divide(bc2**0.5, tmp, out=tmp)  # the adaptive learning rate
            step *= tmp
            step *= rect
        w -= step


__all__ = ["Adamax", "NAdam", "RAdam"]
