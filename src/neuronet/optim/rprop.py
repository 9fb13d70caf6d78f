"""Rprop (Riedmiller & Braun, 1993), PyTorch's form: each weight has its own step size, grown
while its gradient keeps its sign and shrunk when the sign flips; only the sign of the
gradient moves the weight (a full-batch method: mini-batch noise flips signs)."""

from __future__ import annotations

import numpy as np

from neuronet.optim.optimizer import Optimizer, decayed_grad


class Rprop(Optimizer):
    """Rprop: resilient backpropagation.

    Algorithm, for each parameter w with gradient g (steps d start at ``lr``, p at 0)::

        1. g <- -g                                        if maximize
        2. f <- eta_plus if g * p > 0, eta_minus if g * p < 0, else 1
        3. d <- clamp(d * f, step_min, step_max)
        4. g <- 0 where the sign flipped (f = eta_minus)
        5. w <- w - sign(g) * d;  p <- g

    Args:
        params: parameters or parameter groups.
        lr: the initial step size (default 1e-2).
        etas: (eta_minus, eta_plus), the shrink and growth factors (default (0.5, 1.2)).
        step_sizes: (step_min, step_max), the step sizes' bounds (default (1e-6, 50)).
        maximize: maximize the objective.

    State per parameter: ``step``, ``prev`` (p), ``step_size`` (d).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, 1.0], dtype=np.float32))
        >>> w.grad = tensor([3.0, -0.5])
        >>> optim.Rprop([w], lr=0.1).step()   # the first step: lr against the gradient's sign
        >>> w.array
        array([0.9, 1.1], dtype=float32)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False):
        defaults = {
            "lr": lr,
            "etas": tuple(etas),
            "step_sizes": tuple(step_sizes),
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        if not 0.0 <= options["lr"]:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        etas, sizes = options["etas"], options["step_sizes"]
        if len(etas) != 2 or not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        if len(sizes) != 2 or not 0.0 <= sizes[0] <= sizes[1]:
            raise ValueError(f"Invalid step sizes: {sizes!r} (expected 0 <= min <= max)")

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        return {
            "step": 0,
            "prev": np.zeros(shape, dtype),
            "step_size": np.full(shape, group["lr"], dtype),
        }

    def update(self, param, grad, state, group) -> None:
        w = param.array
        eta_minus, eta_plus = group["etas"]
        step_min, step_max = group["step_sizes"]
        prev, size = state["prev"], state["step_size"]
        state["step"] += 1
        g = self.scratch(w)
        factor = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, factor)  # maximize only: Rprop has no decay
        np.multiply(g, prev, out=factor)
        np.sign(factor, out=factor)
        flipped = factor < 0
        factor[factor > 0] = eta_plus
        factor[flipped] = eta_minus
        factor[factor == 0] = 1.0
        size *= factor
        np.clip(size, step_min, step_max, out=size)
        g[flipped] = 0
        np.copyto(prev, g)
        np.sign(g, out=factor)
        factor *= size
        w -= factor


__all__ = ["Rprop"]
