"""Specs for ops/unary.py: inputs stay away from kinks (abs at 0, clamp bounds, max ties)."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec


def _torch(name, **kwargs):
    def call(*args):
        import torch

        return getattr(torch, name)(*args, **kwargs)

    return call


def _normal(*shapes, scale=1.0):
    def make(rng, dtype):
        return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]

    return make


def _positive(shape, low=0.2):
    def make(rng, dtype):
        return [(rng.random(shape) * 2 + low).astype(dtype)]

    return make


def _away_from(shape, points, gap=0.05, scale=1.0):
    """Normal samples nudged at least ``gap`` away from each kink in ``points``."""

    def make(rng, dtype):
        x = scale * rng.standard_normal(shape)
        for p in points:
            near = np.abs(x - p) < gap
            x = np.where(near, p + np.copysign(gap, x - p + 1e-12), x)
        return [x.astype(dtype)]

    return make


def _erf_inputs(rng, dtype):
    # all three of Cody's regions: |x| <= 0.47, 0.47 < |x| <= 4, |x| > 4
    base = np.array([-6.0, -4.5, -3.0, -1.2, -0.3, 0.0, 0.2, 0.9, 2.5, 4.2, 5.5])
    return [(base + 0.01 * rng.standard_normal(base.shape)).astype(dtype)]


def _clamp_tensors(rng, dtype):
    x = 1.5 * rng.standard_normal((3, 4))
    lo = np.array([-0.9, -0.35, 0.15, -1.45])
    hi = np.array([[0.45], [1.05], [0.75]])
    return [x.astype(dtype), lo.astype(dtype), hi.astype(dtype)]


def _clamp_torch(lo=None, hi=None):
    def call(x):
        import torch

        return torch.clamp(x, lo, hi)

    return call


SPECS = [
    OpSpec("exp", nt.exp, _torch("exp"), _normal((3, 4))),
    OpSpec("exp", lambda x: x.exp(), lambda x: x.exp(), _normal((2, 1, 3))),
    OpSpec("log", nt.log, _torch("log"), _positive((3, 4))),
    OpSpec("log1p", nt.log1p, _torch("log1p"), _positive((3, 4), low=-0.5)),
    OpSpec("sqrt", nt.sqrt, _torch("sqrt"), _positive((3, 4))),
    OpSpec("rsqrt", nt.rsqrt, _torch("rsqrt"), _positive((3, 4))),
    OpSpec("sin", nt.sin, _torch("sin"), _normal((3, 4), scale=2.0)),
    OpSpec("cos", nt.cos, _torch("cos"), _normal((3, 4), scale=2.0)),
    OpSpec("erf", nt.erf, _torch("erf"), _erf_inputs),
    OpSpec("erf", lambda x: x.erf(), lambda x: x.erf(), _normal((4, 5), scale=2.0)),
    OpSpec("abs", nt.abs, _torch("abs"), _away_from((3, 4), [0.0])),
    OpSpec("abs", lambda x: abs(x), lambda x: abs(x), _away_from((5,), [0.0])),
    OpSpec("square", nt.square, _torch("square"), _normal((3, 4))),
    OpSpec("sign", nt.sign, _torch("sign"), _normal((3, 4)), differentiable=False),
    OpSpec(
        "clamp",
        lambda x: nt.clamp(x, -0.5, 0.5),
        _clamp_torch(-0.5, 0.5),
        _away_from((4, 5), [-0.5, 0.5]),
    ),
    OpSpec("clamp", lambda x: nt.clamp(x, min=0.3), _clamp_torch(lo=0.3), _away_from((6,), [0.3])),
    OpSpec(
        "clamp",
        lambda x: x.clamp(max=-0.2),
        lambda x: x.clamp(max=-0.2),
        _away_from((2, 3), [-0.2]),
    ),
    OpSpec(
        "clamp",
        lambda x, lo, hi: nt.clamp(x, lo, hi),
        lambda x, lo, hi: _torch("clamp")(x, lo, hi),
        _clamp_tensors,
    ),
    OpSpec(
        "clamp",
        lambda x, lo, hi: nt.clamp(x, min=lo),
        lambda x, lo, hi: x.clamp(min=lo),
        _clamp_tensors,
        grad_inputs_idx=(0, 1),
    ),
    OpSpec(
        "clip",
        lambda x: nt.clip(x, -1.0, 1.0),
        lambda x: _torch("clip")(x, -1.0, 1.0),
        _away_from((3, 3), [-1.0, 1.0]),
    ),
    OpSpec("maximum", nt.maximum, _torch("maximum"), _normal((3, 4), (4,))),
    OpSpec("maximum", nt.maximum, _torch("maximum"), _normal((2, 1, 3), (4, 1))),
    OpSpec("minimum", nt.minimum, _torch("minimum"), _normal((3, 4), (4,))),
    OpSpec("minimum", lambda a, b: a.minimum(b), _torch("minimum"), _normal((3, 1), (1, 2))),
]
