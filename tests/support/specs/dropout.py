"""Specs for ops/dropout.py.

Training-mode dropout cannot match PyTorch value for value (the two random generators differ),
so those specs have no torch_fn: gradcheck runs with a fresh seeded generator per call (the same
mask every time), and tests/nn/test_dropout.py checks the semantics (mask statistics, scaling,
gradient = mask / (1 - p)). Eval mode is the identity and is compared with torch, and so is
training mode where nothing is random (p = 0 and p = 1).
"""

from __future__ import annotations

import neuronet as nt
import neuronet.functional as F
from support.op_specs import OpSpec


def _normal(shape):
    def make(rng, dtype):
        return [rng.standard_normal(shape).astype(dtype)]

    return make


def _seeded(fn, p, **kwargs):
    def call(x):
        return fn(x, p, training=True, generator=nt.Generator(7), **kwargs)

    return call


def _eval(name, shape=(2, 3, 4, 5), p=0.4, training=False):
    """Compared with torch: eval mode (the identity), or training with p = 0 (the identity) or
    p = 1 (all zeros), where no random draw decides anything."""

    def ours(x):
        return getattr(F, name)(x, p, training=training)

    def theirs(x):
        import torch.nn.functional as TF

        return getattr(TF, name)(x, p, training=training)

    return OpSpec(name, ours, theirs, _normal(shape))


SPECS = [
    OpSpec("dropout", _seeded(F.dropout, 0.3), None, _normal((4, 5))),
    OpSpec("dropout", _seeded(F.dropout, 0.0), None, _normal((3, 4))),
    OpSpec("dropout", _seeded(F.dropout, 1.0), None, _normal((3, 4))),
    OpSpec("dropout1d", _seeded(F.dropout1d, 0.5), None, _normal((3, 4, 5))),
    OpSpec("dropout2d", _seeded(F.dropout2d, 0.5), None, _normal((2, 4, 3, 3))),
    OpSpec("dropout2d", _seeded(F.dropout2d, 0.5), None, _normal((4, 3, 3))),
    OpSpec("alpha_dropout", _seeded(F.alpha_dropout, 0.2), None, _normal((4, 5))),
    _eval("dropout"),
    _eval("dropout2d"),
    _eval("alpha_dropout"),
    _eval("dropout1d", (2, 3, 4)),
    _eval("dropout1d", (3, 4)),  # unbatched (C, L)
    _eval("dropout1d", (2, 3, 4), p=0.0, training=True),
    _eval("dropout1d", (2, 3, 4), p=1.0, training=True),
]
