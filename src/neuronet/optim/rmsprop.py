"""RMSprop (Hinton, Coursera lecture 6e), PyTorch's form: eps outside the square root."""

from __future__ import annotations

import numpy as np

from neuronet.optim import _fast
from neuronet.optim.optimizer import Optimizer, contiguous, decayed_grad, lerp_


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    Algorithm, for each parameter w with gradient g::

        1. g <- -g                                        if maximize
        2. g <- g + weight_decay * w                      (L2 penalty)
        3. s <- alpha * s + (1 - alpha) * g^2             (square_avg)
        4. if centered:  a <- alpha * a + (1 - alpha) * g (grad_avg);  d <- sqrt(s - a^2) + eps
           else:         d <- sqrt(s) + eps
        5. if momentum > 0:  b <- momentum * b + g / d;  w <- w - lr * b
           else:             w <- w - lr * g / d

    Note: eps is added outside the square root with eps=1e-8 and alpha=0.99 (PyTorch);
    Keras/TF put eps inside the root, with rho=0.9 and eps=1e-7.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the squared-gradient average (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty coefficient (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance (default False).
        maximize: maximize the objective.

    State per parameter: ``step``, ``square_avg``, plus ``momentum_buffer`` when momentum > 0
    and ``grad_avg`` when centered.

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0], dtype=np.float32))
        >>> w.grad = tensor([2.0])
        >>> optim.RMSprop([w], lr=0.01).step()   # s = 0.01 * 4: w -= 0.01 * 2 / 0.2
        >>> w.array.round(4)
        array([0.9], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        if not 0.0 <= options["lr"]:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if not 0.0 <= options["eps"]:
            raise ValueError(f"Invalid epsilon value: {options['eps']}")
        if not 0.0 <= options["momentum"]:
            raise ValueError(f"Invalid momentum value: {options['momentum']}")
        if not 0.0 <= options["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")
        if not 0.0 <= options["alpha"]:
            raise ValueError(f"Invalid alpha value: {options['alpha']}")

    def init_state(self, param, group) -> dict:
        shape, dtype = param.array.shape, param.array.dtype
        state = {"step": 0, "square_avg": np.zeros(shape, dtype)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros(shape, dtype)
        if group["centered"]:
            state["grad_avg"] = np.zeros(shape, dtype)
        return state

    def update(self, param, grad, state, group) -> None:
        w = param.array
        alpha = group["alpha"]
        momentum = group["momentum"]
        centered = group["centered"]
        for key, wanted in (("momentum_buffer", momentum > 0), ("grad_avg", centered)):
            if wanted and key not in state:  # option switched on after the first step
                state[key] = np.zeros(w.shape, w.dtype)
        state["step"] += 1
        sa = state["square_avg"]
        ga = state.get("grad_avg") if centered else None
        buf = state.get("momentum_buffer") if momentum > 0 else None
        k = _fast.kernels()
        flat_w = contiguous(w)
        if k is not None and flat_w is not None:
            k.rmsprop(
                p=flat_w,
                g=np.ascontiguousarray(grad).reshape(-1),
                square_avg=sa.reshape(-1),
                grad_avg=(sa if ga is None else ga).reshape(-1),  # unused unless centered
                buf=(sa if buf is None else buf).reshape(-1),  # unused without momentum
                sign=-1.0 if group["maximize"] else 1.0,
                lr=float(group["lr"]),
                alpha=float(alpha),
                one_minus_alpha=float(1 - alpha),
                eps=float(group["eps"]),
                weight_decay=float(group["weight_decay"]),
                momentum=float(momentum),
                centered=centered,
            )
            return
        g = self.scratch(w)
        avg = self.scratch(w, slot=1)
        decayed_grad(w, grad, group, g, avg)
        sa *= alpha
        np.multiply(g, 1 - alpha, out=avg)
        avg *= g
        sa += avg
        if centered:
            lerp_(ga, g, 1 - alpha, avg)
            np.multiply(ga, ga, out=avg)
            np.subtract(sa, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(sa, out=avg)
        avg += group["eps"]
        np.divide(g, avg, out=avg)
        if buf is not None:
            buf *= momentum
            buf += avg
            np.multiply(buf, -group["lr"], out=avg)
        else:
            avg *= -group["lr"]
        w += avg


__all__ = ["RMSprop"]
