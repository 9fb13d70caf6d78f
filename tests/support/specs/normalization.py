"""Specs for ops/batch_norm.py and ops/normalization.py: batch_norm (train/eval, 2-D/3-D/4-D,
with and without affine), layer_norm (last 1 and 2 dims), group_norm (groups 1, 2, C), rms_norm.

Running statistics are passed as non-differentiable inputs; their in-place update is checked
against torch in tests/nn/test_normalization.py.
"""

from __future__ import annotations

import neuronet.functional as F
from support.op_specs import OpSpec


def _tf():
    import torch.nn.functional as TF

    return TF


def _normal(*shapes, positive=()):
    """Standard-normal arrays of ``shapes``; indices in ``positive`` are in [0.5, 1.5)."""

    def make(rng, dtype):
        out = []
        for i, shape in enumerate(shapes):
            if i in positive:
                out.append((rng.random(shape) + 0.5).astype(dtype))
            else:
                out.append(rng.standard_normal(shape).astype(dtype))
        return out

    return make


_TOL = {"rtol32": 1e-5, "atol32": 1e-5, "grad_rtol32": 1e-4, "grad_atol32": 1e-4}


def _bn(shape, training, affine=True, bias=True, momentum=0.1, eps=1e-5):
    c = shape[1]
    grad_idx = (0, 1, 2) if affine and bias else ((0, 1) if affine else (0,))

    def pick(x, w, b, rm, rv):
        return x, (w if affine else None), (b if affine and bias else None), rm, rv

    def ours(*args):
        x, w, b, rm, rv = pick(*args)
        return F.batch_norm(x, rm, rv, w, b, training, momentum, eps)

    def theirs(*args):
        x, w, b, rm, rv = pick(*args)
        return _tf().batch_norm(x, rm, rv, w, b, training, momentum, eps)

    return OpSpec(
        "batch_norm",
        ours,
        theirs,
        _normal(shape, (c,), (c,), (c,), (c,), positive=(4,)),
        grad_inputs_idx=grad_idx,
        **_TOL,
    )


def _ln(shape, normalized_shape, affine=True, bias=True, eps=1e-5):
    def ours(x, w, b):
        return F.layer_norm(
            x, normalized_shape, w if affine else None, b if affine and bias else None, eps
        )

    def theirs(x, w, b):
        return _tf().layer_norm(
            x, normalized_shape, w if affine else None, b if affine and bias else None, eps
        )

    grad_idx = (0, 1, 2) if affine and bias else ((0, 1) if affine else (0,))
    return OpSpec(
        "layer_norm",
        ours,
        theirs,
        _normal(shape, normalized_shape, normalized_shape),
        grad_inputs_idx=grad_idx,
        **_TOL,
    )


def _gn(shape, groups, affine=True, eps=1e-5):
    c = shape[1]

    def ours(x, w, b):
        return F.group_norm(x, groups, w if affine else None, b if affine else None, eps)

    def theirs(x, w, b):
        return _tf().group_norm(x, groups, w if affine else None, b if affine else None, eps)

    return OpSpec(
        "group_norm",
        ours,
        theirs,
        _normal(shape, (c,), (c,)),
        grad_inputs_idx=(0, 1, 2) if affine else (0,),
        **_TOL,
    )


def _rms(shape, normalized_shape, affine=True, eps=None):
    def ours(x, w):
        return F.rms_norm(x, normalized_shape, w if affine else None, eps)

    def theirs(x, w):
        return _tf().rms_norm(x, normalized_shape, w if affine else None, eps)

    return OpSpec(
        "rms_norm",
        ours,
        theirs,
        _normal(shape, normalized_shape),
        grad_inputs_idx=(0, 1) if affine else (0,),
        **_TOL,
    )


SPECS = [
    # batch_norm, training mode (batch statistics)
    _bn((6, 3), training=True),
    _bn((4, 3, 5), training=True),
    _bn((3, 4, 2, 3), training=True),
    _bn((3, 4, 2, 3), training=True, affine=False),
    _bn((5, 2, 3), training=True, bias=False, eps=1e-3),
    # batch_norm, eval mode (running statistics)
    _bn((3, 4, 2, 3), training=False),
    _bn((6, 3), training=False, affine=False),
    _bn((4, 3, 5), training=False, bias=False),
    # layer_norm over the last 1 and 2 dims
    _ln((4, 6), (6,)),
    _ln((2, 3, 5), (5,)),
    _ln((2, 3, 4), (3, 4)),
    _ln((3, 5), (5,), affine=False),
    _ln((3, 5), (5,), bias=False, eps=1e-3),
    # group_norm with 1, 2 and C groups
    _gn((3, 4, 2, 3), 1),
    _gn((3, 4, 2, 3), 2),
    _gn((3, 4, 2, 3), 4),
    _gn((2, 6, 5), 3, affine=False),
    _gn((5, 4), 2),
    # rms_norm
    _rms((4, 6), (6,)),
    _rms((2, 3, 4), (3, 4), eps=1e-6),
    _rms((3, 5), (5,), affine=False),
]
