"""Adadelta (Zeiler, 2012), PyTorch's form: the update's scale comes from running averages of
squared gradients and of squared updates, so the learning rate (default 1.0) only rescales it."""

from __future__ import annotations

import numpy as np

from neuronet.optim.optimizer import Optimizer, decayed_grad


class Adadelta(Optimizer):
    """Adadelta: steps sized by the ratio of two running root-mean-squares.

    Algorithm, for each parameter w with gradient g::

        1. g <- -g                                        if maximize
        2. g <- g + weight_decay * w                      (L2 penalty)
        3. s <- rho * s + (1 - rho) * g^2                 (square_avg)
        4. d <- sqrt(u + eps) / sqrt(s + eps) * g         (u: acc_delta)
        5. u <- rho * u + (1 - rho) * d^2
        6. w <- w - lr * d

    Note: PyTorch's defaults (lr=1.0, rho=0.9, eps=1e-6); Keras uses lr=1e-3, rho=0.95, eps=1e-7.

    Args:
        params: parameters or parameter groups.
        lr: scales the update (default 1.0).
        rho: decay rate of both running averages (default 0.9).
        eps: added inside both square roots (default 1e-6).
        weight_decay: L2 penalty coefficient (default 0).
        maximize: maximize the objective.

    State per parameter: ``step``, ``square_avg`` (s), ``acc_delta`` (u).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0], dtype=np.float32))
        >>> w.grad = tensor([2.0])
        >>> optim.Adadelta([w]).step()  # d = sqrt(1e-6) / sqrt(0.4 + 1e-6) * 2
        >>> w.array.round(5)
        array([0.99684], dtype=float32)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        if not 0.0 <= options["lr"]:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']}")
        if not 0.0 <= options["eps"]:
            raise ValueError(f"Invalid epsilon value: {options['eps']}")
        if not 0.0 <= options["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {
            "step": 0,
            "square_avg": np.zeros(shape, dtype),
            "acc_delta": np.zeros(shape, dtype),
        }

    def update(self, param, grad, state, group) -> None:
        w = param.array
        rho, eps = group["rho"], group["eps"]
        s, u = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        g = self.scratch(w)
        d = self.scratch(w, slot=1)
        tmp = self.scratch(w, slot=2)
        decayed_grad(w, grad, group, g, tmp)
        s *= rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - rho
        s += tmp
        np.add(s, eps, out=tmp)
        np.sqrt(tmp, out=tmp)  # std
        np.add(u, eps, out=d)
        np.sqrt(d, out=d)
        d /= tmp
        d *= g  # the update, before lr
        u *= rho
        np.multiply(d, d, out=tmp)
        tmp *= 1 - rho
        u += tmp
        d *= -group["lr"]
        w += d


__all__ = ["Adadelta"]
