"""Specs for ops/arithmetic.py."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec


def _pair(shape_a, shape_b, positive_b=False):
    def make(rng, dtype):
        a = rng.standard_normal(shape_a).astype(dtype)
        b = rng.standard_normal(shape_b).astype(dtype)
        if positive_b:
            b = (np.abs(b) + 0.5).astype(dtype)
        return [a, b]

    return make


def _positive(shape):
    def make(rng, dtype):
        return [(rng.random(shape) + 0.5).astype(dtype)]

    return make


def _torch(name):
    def call(*args):
        import torch

        return getattr(torch, name)(*args)

    return call


SPECS = [
    OpSpec("add", nt.add, _torch("add"), _pair((3, 4), (4,))),
    OpSpec("add", lambda a, b: a + b, lambda a, b: a + b, _pair((2, 1, 4), (3, 1))),
    OpSpec("sub", nt.sub, _torch("sub"), _pair((3, 1), (1, 5))),
    OpSpec(
        "sub",
        lambda a: 2.5 - a,
        lambda a: 2.5 - a,
        lambda r, d: [r.standard_normal((3,)).astype(d)],
    ),
    OpSpec("mul", nt.mul, _torch("mul"), _pair((2, 3, 4), (3, 1))),
    OpSpec(
        "mul",
        lambda a: a * 3.0,
        lambda a: a * 3.0,
        lambda r, d: [r.standard_normal((4,)).astype(d)],
    ),
    OpSpec("div", nt.div, _torch("div"), _pair((3, 4), (4,), positive_b=True)),
    OpSpec("div", lambda a: 1.5 / a, lambda a: 1.5 / a, _positive((5,))),
    OpSpec("neg", nt.neg, _torch("neg"), lambda r, d: [r.standard_normal((2, 3)).astype(d)]),
    OpSpec(
        "pow", lambda a: a**3, lambda a: a**3, lambda r, d: [r.standard_normal((2, 3)).astype(d)]
    ),
    OpSpec(
        "pow",
        nt.pow,
        _torch("pow"),
        lambda r, d: [(r.random((3, 2)) + 0.5).astype(d), r.standard_normal((2,)).astype(d)],
    ),
    OpSpec(
        "pow", lambda a: 2.0**a, lambda a: 2.0**a, lambda r, d: [r.standard_normal((4,)).astype(d)]
    ),
] + [
    OpSpec(name, getattr(nt, name), _torch(name), _pair((3, 4), (4,)), differentiable=False)
    for name in ("eq", "ne", "lt", "le", "gt", "ge")
]
