"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, PyTorch's form."""

from __future__ import annotations

from neuronet.optim.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay.

    Algorithm, for each parameter w with gradient g, at step t = 1, 2, ...::

        1. g <- -g                                        if maximize
        2. w <- w * (1 - lr * weight_decay)               (decoupled: not part of the gradient)
        3. m <- beta1 * m + (1 - beta1) * g
           v <- beta2 * v + (1 - beta2) * g^2
        4. v_max <- max(v_max, v); use v_max for v       if amsgrad
        5. w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Note: as in PyTorch, the decay is multiplied by ``lr`` (so a schedule scales it too), the
    default is ``weight_decay=1e-2``, and it applies to every parameter of the group: biases and
    norm scales are decayed unless you put them in a group with ``weight_decay=0``
    (``AdamW.param_groups_for(model)`` builds those two groups). Keras's AdamW defaults to 0.004;
    the paper and MosaicML's DecoupledAdamW do not multiply by lr.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decoupled weight decay coefficient (default 1e-2).
        amsgrad: use the AMSGrad variant (default False).
        maximize: maximize the objective.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).

    Example:
        >>> import numpy as np
        >>> from neuronet import optim, tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.array([2.0], dtype=np.float32))
        >>> w.grad = tensor([0.0])
        >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> opt.step()                  # zero gradient: only the decay acts, w *= 1 - 0.1*0.5
        >>> w.array
        array([1.9], dtype=float32)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True


__all__ = ["AdamW"]
