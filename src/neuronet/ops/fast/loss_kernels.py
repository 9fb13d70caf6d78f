"""numba kernel for the binary cross-entropy on logits (see ``ops/loss.py`` for the reference).

The NumPy forward builds softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) and the loss in eight
array passes, and NumPy's float32 log1p is a scalar C-library call per element. This loop reads
x and t once and writes softplus(-x), sigmoid(x) and the unweighted loss in the same pass, with
``fastmath``'s branch-free exp, sigmoid and softplus, so LLVM vectorises it.

Conventions: arrays are 1-D, C-contiguous, one dtype (float32 or float64). Compiled on first use
and cached on disk (``jit.py``); imported by the Function that calls it.
"""

from __future__ import annotations

from neuronet.ops.fast.fastmath import FASTMATH, sigmoid, softplus
from neuronet.ops.fast.jit import kernel


@kernel(fastmath=FASTMATH)
def bce_logits_forward(x, t, sp, sig, loss):
    """sp = softplus(-x), sig = sigmoid(x) = exp(-sp), loss = (1 - t) * x + sp."""
    one = x.dtype.type(1.0)
    for i in range(x.size):
        xi = x[i]
        s = softplus(-xi)
        sp[i] = s
        sig[i] = sigmoid(xi)
        loss[i] = (one - t[i]) * xi + s
