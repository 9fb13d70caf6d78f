"""Compiled binary cross-entropy on logits: the numba path of ``ops/loss.py``'s
``BinaryCrossEntropyWithLogits`` (same formulas, same reductions).

- The forward is one pass (``loss_kernels.bce_logits_forward``): softplus(-x), sigmoid(x) and
  the unweighted loss (1 - t) x + softplus(-x) together. With ``pos_weight`` p the loss adds
  (p - 1) t softplus(-x), which is the reference's (1 + (p - 1) t) softplus(-x) + (1 - t) x.
- The backward reads the saved sigmoid(x) instead of recomputing exp(-softplus(-x)).

float32 takes exp, sigmoid and softplus from ``fastmath`` (within 3 ulp), float64 the C
library's. ``binary_cross_entropy_with_logits`` chooses it when ``backend.fast.numba``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops._loss_util import reduce_loss
from neuronet.ops.loss import BinaryCrossEntropyWithLogits, bce_logits_grads


class CompiledBinaryCrossEntropyWithLogits(BinaryCrossEntropyWithLogits):
    """``BinaryCrossEntropyWithLogits`` in one compiled forward pass, for float32 and float64:

        sp = softplus(-x),  l = w * ((1 - t) * x + sp + (p - 1) * t * sp)
        dL/dx = w * ((1 + (p - 1) * t) * sigmoid(x) - p * t) * dL/dl

    Saves: x, t, sp, sigmoid(x).
    """

    @staticmethod
    def forward(ctx, x, t, reduction, weight=None, pos_weight=None):
        from neuronet.ops.fast import loss_kernels

        x = np.ascontiguousarray(x).reshape(x.shape)  # (ascontiguousarray makes 0-d 1-d)
        t = np.ascontiguousarray(t, dtype=x.dtype).reshape(x.shape)
        sp, sig, loss = np.empty_like(x), np.empty_like(x), np.empty_like(x)
        flat = [a.reshape(-1) for a in (x, t, sp, sig, loss)]
        loss_kernels.bce_logits_forward(*flat)
        if pos_weight is not None:
            loss += (pos_weight - 1) * t * sp
        if weight is not None:
            loss *= weight
        ctx.weight = weight
        ctx.pos_weight = pos_weight
        ctx.save_for_backward(x, t, sp, sig)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, grad_out):
        x, t, sp, sig = ctx.saved
        return bce_logits_grads(ctx, grad_out, x, t, sp, sig)
