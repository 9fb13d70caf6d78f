"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay."""

from __future__ import annotations

import numpy as np

from neuronet.optim import _fast
from neuronet.optim.optimizer import Optimizer, contiguous


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's formulation.

    Algorithm, for each parameter w with gradient g at step t::

        1. g <- -g                                  if maximize
        2. g <- g + weight_decay * w                (L2 penalty, added to the gradient)
        3. if momentum != 0:
               buf <- g                             at the first step
               buf <- momentum * buf + (1 - dampening) * g     afterwards
               g <- g + momentum * buf              if nesterov
               g <- buf                             otherwise
        4. w <- w - lr * g

    Note: the learning rate multiplies the velocity at the update (step 4), not inside it as in
    Keras (``v = mu*v - lr*g``), so changing ``lr`` mid-training (schedules, warmup) acts at once.

    Args:
        params: parameters or parameter groups (see ``Optimizer``).
        lr: learning rate (default 1e-3).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``momentum_buffer`` (created at the first step when momentum != 0).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([1.0, 2.0], dtype=np.float32))
        >>> w.grad = tensor([0.5, -1.0])
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> opt.step()
        >>> w.array
        array([0.95, 2.1 ], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        dampening=0.0,
        weight_decay=0.0,
        nesterov=False,
        *,
        maximize=False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        self.validate(defaults)
        super().__init__(params, defaults)

    def check_options(self, options: dict) -> None:
        if options["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if options["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {options['momentum']}")
        if options["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def update(self, param, grad, state, group) -> None:
        w = param.array
        momentum = group["momentum"]
        buf = state.get("momentum_buffer")
        first = buf is None
        if momentum != 0 and first:
            buf = state["momentum_buffer"] = np.empty(w.shape, w.dtype)
        k = _fast.kernels()
        flat_w = contiguous(w)
        if k is not None and flat_w is not None:
            k.sgd(
                p=flat_w,
                g=np.ascontiguousarray(grad).reshape(-1),
                buf=flat_w if buf is None else buf.reshape(-1),  # unused without momentum
                lr=float(group["lr"]),
                weight_decay=float(group["weight_decay"]),
                momentum=float(momentum),
                one_minus_dampening=float(1 - group["dampening"]),
                nesterov=bool(group["nesterov"]),
                sign=-1.0 if group["maximize"] else 1.0,
                first=first,
            )
            return
        d = self.scratch(w)
        if group["maximize"]:
            np.negative(grad, out=d)
        else:
            np.copyto(d, grad)
        tmp = self.scratch(w, slot=1)
        if group["weight_decay"] != 0:
            d += np.multiply(w, group["weight_decay"], out=tmp)
        if momentum != 0:
            if first:
                np.copyto(buf, d)
            else:
                buf *= momentum
                buf += np.multiply(d, 1 - group["dampening"], out=tmp)
            if group["nesterov"]:
                d += np.multiply(buf, momentum, out=tmp)
            else:
                np.copyto(d, buf)
        d *= -group["lr"]
        w += d


__all__ = ["SGD"]
