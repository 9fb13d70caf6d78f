"""Compiled embedding backward: the numba path of ``ops/embedding.py`` (same formula).

The scatter-add dL/dweight[index[i]] += dL/dy[i] as one loop over the rows in index order
(``embedding_kernels.scatter_add_rows``; duplicates accumulate), instead of the reference's
sorted rounds. ``embedding`` chooses it when ``backend.fast.numba``.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops.embedding import Embedding, grad_rows


class CompiledEmbedding(Embedding):
    """``Embedding`` with a compiled scatter-add backward.

    y[..., :] = weight[index[...], :];  dL/dweight[k] = sum of dL/dy[i] over i with index[i] = k.
    Saves: index.
    """

    @staticmethod
    def backward(ctx, grad_out):
        from neuronet.ops.fast import embedding_kernels

        (index,) = ctx.saved
        if not ctx.needs_input_grad[1]:
            return None, None
        flat, rows = grad_rows(ctx, index, grad_out)
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad_out.dtype)
        embedding_kernels.scatter_add_rows(grad_weight, flat, np.ascontiguousarray(rows))
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return None, grad_weight
