"""Specs for ops/pooling.py (max/avg pooling, 1d and 2d) and ops/adaptive_pooling.py (adaptive
avg/max pooling, 1d and 2d).

Inputs are continuous random values, so no window has a tie (ties are tested against PyTorch
in tests/nn/test_pooling.py). Configs cover stride < kernel (overlapping windows), padding,
dilation, ceil_mode, count_include_pad both ways, divisor_override, return_indices, unbatched
inputs, and adaptive sizes that do not divide the input.
"""

from __future__ import annotations

import neuronet as nt
from support.op_specs import OpSpec


def _pool(op, shape, *args, **kw):
    def inputs(rng, dtype):
        return [rng.standard_normal(shape).astype(dtype)]

    def ours(x):
        return getattr(nt.functional, op)(x, *args, **kw)

    def theirs(x):
        import torch

        return getattr(torch.nn.functional, op)(x, *args, **kw)

    return OpSpec(op, ours, theirs, inputs)


SPECS = [
    _pool("max_pool2d", (2, 3, 6, 6), 2),
    _pool("max_pool2d", (2, 2, 7, 6), 3, 2, 1),
    _pool("max_pool2d", (1, 2, 7, 7), 3, 1, 1, 2),  # dilation 2, overlapping
    _pool("max_pool2d", (1, 2, 7, 6), (3, 2), (2, 1), (1, 1), ceil_mode=True),
    _pool("max_pool2d", (1, 2, 5, 5), 2, ceil_mode=True, return_indices=True),
    _pool("max_pool2d", (2, 5, 5), 3, 2, padding=1, ceil_mode=True, return_indices=True),
    _pool("max_pool1d", (2, 3, 9), 3, 2, 1, return_indices=True),
    _pool("max_pool1d", (3, 10), 2, ceil_mode=True),
    _pool("max_pool1d", (2, 2, 11), 3, 1, 0, 2),
    _pool("avg_pool2d", (2, 3, 6, 6), 2),
    _pool("avg_pool2d", (2, 2, 7, 6), 3, 2, 1),
    _pool("avg_pool2d", (2, 2, 7, 6), 3, 2, 1, count_include_pad=False),
    _pool("avg_pool2d", (1, 2, 7, 6), 3, 2, 1, ceil_mode=True),
    _pool("avg_pool2d", (1, 2, 7, 6), (3, 2), (2, 1), (1, 1), True, False),
    _pool("avg_pool2d", (2, 5, 5), 3, 1, 1, divisor_override=4),
    _pool("avg_pool1d", (2, 3, 9), 3, 2, 1, ceil_mode=True, count_include_pad=False),
    _pool("avg_pool1d", (3, 10), 4),
    _pool("adaptive_avg_pool2d", (2, 3, 7, 9), (3, 4)),
    _pool("adaptive_avg_pool2d", (2, 3, 5, 5), 1),
    _pool("adaptive_avg_pool2d", (3, 5, 7), (None, 3)),
    _pool("adaptive_avg_pool2d", (1, 2, 4, 5), (6, 7)),  # upsampling bins
    _pool("adaptive_avg_pool1d", (2, 3, 10), 4),
    _pool("adaptive_max_pool2d", (2, 3, 7, 9), (3, 4), return_indices=True),
    _pool("adaptive_max_pool2d", (3, 5, 7), 2),
    _pool("adaptive_max_pool1d", (2, 3, 10), 4, return_indices=True),
]
