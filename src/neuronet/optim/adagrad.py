"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's form: accumulator starts at 0, eps outside
the square root, optional learning-rate decay."""

from __future__ import annotations

import numpy as np

from neuronet.optim import _fast
from neuronet.optim.optimizer import Optimizer, contiguous, decayed_grad


class Adagrad(Optimizer):
    """Adagrad: per-coordinate step sizes shrinking with the sum of squared gradients.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. g <- g + weight_decay * w                      (L2 penalty)
        3. clr <- lr / (1 + (t - 1) * lr_decay)
        4. sum <- sum + g^2                               (starts at initial_accumulator_value)
        5. w <- w - clr * g / (sqrt(sum) + eps)

    Note: PyTorch's defaults: the accumulator starts at 0 and eps=1e-10 sits outside the root;
    Keras starts it at 0.1 and puts eps inside.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay per step (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        initial_accumulator_value: starting value of ``sum`` (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective.

    State per parameter: ``step`` and ``sum``, created when the optimizer is built (as torch).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, 1.0], dtype=np.float32))
        >>> w.grad = tensor([3.0, -0.5])
        >>> optim.Adagrad([w], lr=0.1).step()   # first step: w -= lr * sign(g)
        >>> w.array
        array([0.9, 1.1], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0.0,
        weight_decay=0.0,
        initial_accumulator_value=0.0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self.init_state(p, group)

    def check_options(self, options: dict) -> None:
        if not 0.0 <= options["lr"]:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if not 0.0 <= options["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {options['lr_decay']}")
        if not 0.0 <= options["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")
        if not 0.0 <= options["initial_accumulator_value"]:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {options['initial_accumulator_value']}"
            )
        if not 0.0 <= options["eps"]:
            raise ValueError(f"Invalid epsilon value: {options['eps']}")

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {"step": 0, "sum": np.full(shape, group["initial_accumulator_value"], dtype)}

    def update(self, param, grad, state, group) -> None:
        w = param.array
        acc = state["sum"]
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        k = _fast.kernels()
        flat_w = contiguous(w)
        if k is not None and flat_w is not None:
            k.adagrad(
                p=flat_w,
                g=np.ascontiguousarray(grad).reshape(-1),
                state_sum=acc.reshape(-1),
                sign=-1.0 if group["maximize"] else 1.0,
                clr=float(clr),
                eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]),
            )
            return
        g = self.scratch(w)
        std = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, std)
        np.multiply(g, g, out=std)
        acc += std
        np.sqrt(acc, out=std)
        std += group["eps"]
        np.divide(g, std, out=std)
        std *= -clr
        w += std


__all__ = ["Adagrad"]
