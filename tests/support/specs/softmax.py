"""Specs for ops/softmax.py: softmax and log_softmax over each dim, 0-d, and extreme logits."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec


def _normal(shape, scale=1.0):
    def make(rng, dtype):
        return [np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)]

    return make


def _extreme(rng, dtype):
    """Logits of +-300 mixed with ordinary ones: exp would overflow without the max shift."""
    x = rng.standard_normal((3, 5))
    x[0, 1] = 300.0
    x[1, :] = -300.0 + rng.standard_normal(5)
    x[2, 2] = -300.0
    return [x.astype(dtype)]


def _huge(rng, dtype):
    """|logit| = 1e4: every row has a clear winner, the others underflow to exactly 0."""
    x = rng.standard_normal((2, 4))
    x[0, 0] = 1e4
    x[1, 3] = -1e4
    return [x.astype(dtype)]


def _specs(name):
    ours = getattr(nt, name)

    def theirs(dim):
        def call(x):
            import torch

            return getattr(torch, name)(x, dim=dim)

        return call

    def call(dim):
        return lambda x: ours(x, dim=dim)

    return [
        OpSpec(name, call(-1), theirs(-1), _normal((3, 5))),
        OpSpec(name, call(0), theirs(0), _normal((4, 3))),
        OpSpec(name, call(1), theirs(1), _normal((2, 3, 4))),
        OpSpec(name, call(0), theirs(0), _normal(())),
        OpSpec(name, call(1), theirs(1), _extreme),
        OpSpec(name, call(-1), theirs(-1), _huge),
        OpSpec(
            name,
            call(1),
            theirs(1),
            _normal((16, 64), 3.0),
            fast_gradcheck=True,
            gradcheck_inputs=_normal((4, 6), 3.0),
        ),
    ]


SPECS = _specs("softmax") + _specs("log_softmax")
