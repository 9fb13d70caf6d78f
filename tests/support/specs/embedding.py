"""Specs for ops/embedding.py: lookups with duplicate indices (the scatter-add backward), a very
frequent index (the segment-sum path), padding_idx (positive and negative), int32 indices. Only
the weight is differentiable.

The padding_idx specs keep the padding row out of the indices, since gradcheck's finite
differences would see it used (its gradient is zero by definition, not by calculus); the zero
gradient of a padding row that is looked up is compared with torch in
tests/nn/test_embedding.py. So is scale_grad_by_freq, a gradient rescaling that is not
the derivative of the forward (finite differences cannot check it).
"""

from __future__ import annotations

import numpy as np

import neuronet.functional as F
from support.op_specs import OpSpec


def _lookup(index_shape, num, dim, index_dtype=np.int64, frequent=None, avoid=None):
    def make(rng, dtype):
        index = rng.integers(0, num, size=index_shape).astype(index_dtype)
        if avoid is not None:  # finite differences see the padding row; its gradient is 0 by fiat
            index[index == avoid % num] = (avoid + 1) % num
        if frequent is not None:  # one index repeated many times
            index.reshape(-1)[: index.size * 2 // 3] = frequent
            rng.shuffle(index.reshape(-1))
        weight = rng.standard_normal((num, dim)).astype(dtype)
        return [index, weight]

    return make


def _spec(make, **kwargs):
    def ours(index, weight):
        return F.embedding(index, weight, **kwargs)

    def theirs(index, weight):
        import torch.nn.functional as TF

        return TF.embedding(index, weight, **kwargs)

    return OpSpec("embedding", ours, theirs, make, grad_inputs_idx=(1,))


SPECS = [
    _spec(_lookup((4, 5), 6, 3)),
    _spec(_lookup((7,), 10, 4, index_dtype=np.int32)),
    _spec(_lookup((40,), 5, 2, frequent=3)),
    _spec(_lookup((3, 6), 6, 3, avoid=0), padding_idx=0),
    _spec(_lookup((3, 6), 6, 3, avoid=-1), padding_idx=-1),
]
