"""Specs for ops/activation.py: inputs stay away from kinks (relu/hardtanh at their corners)."""

from __future__ import annotations

import numpy as np

import neuronet.functional as F
from support.op_specs import OpSpec


def _torch_f(name, **kwargs):
    def call(x):
        import torch

        return getattr(torch.nn.functional, name)(x, **kwargs)

    return call


def _normal(shape, scale=2.0):
    def make(rng, dtype):
        return [(scale * rng.standard_normal(shape)).astype(dtype)]

    return make


def _away_from(shape, points, gap=0.05, scale=2.0):
    def make(rng, dtype):
        x = scale * rng.standard_normal(shape)
        for p in points:
            near = np.abs(x - p) < gap
            x = np.where(near, p + np.copysign(gap, x - p + 1e-12), x)
        return [x.astype(dtype)]

    return make


SPECS = [
    OpSpec("relu", F.relu, _torch_f("relu"), _away_from((3, 4), [0.0])),
    OpSpec("relu", lambda x: x.relu(), lambda x: x.relu(), _away_from((2, 3, 2), [0.0])),
    OpSpec("leaky_relu", F.leaky_relu, _torch_f("leaky_relu"), _away_from((3, 4), [0.0])),
    OpSpec(
        "leaky_relu",
        lambda x: F.leaky_relu(x, 0.2),
        _torch_f("leaky_relu", negative_slope=0.2),
        _away_from((5,), [0.0]),
    ),
    OpSpec("elu", F.elu, _torch_f("elu"), _away_from((3, 4), [0.0])),
    OpSpec(
        "elu", lambda x: F.elu(x, alpha=0.5), _torch_f("elu", alpha=0.5), _away_from((6,), [0.0])
    ),
    OpSpec("sigmoid", F.sigmoid, _torch_f("sigmoid"), _normal((3, 4), scale=4.0)),
    OpSpec("sigmoid", lambda x: x.sigmoid(), lambda x: x.sigmoid(), _normal((2, 5))),
    OpSpec("tanh", F.tanh, _torch_f("tanh"), _normal((3, 4))),
    OpSpec("tanh", lambda x: x.tanh(), lambda x: x.tanh(), _normal((4,))),
    OpSpec("silu", F.silu, _torch_f("silu"), _normal((3, 4), scale=3.0)),
    OpSpec("softplus", F.softplus, _torch_f("softplus"), _normal((3, 4), scale=4.0)),
    OpSpec(
        "softplus",
        lambda x: F.softplus(x, beta=2.0, threshold=5.0),
        _torch_f("softplus", beta=2.0, threshold=5.0),
        _away_from((4, 5), [2.5], scale=3.0),
    ),
    OpSpec("hardtanh", F.hardtanh, _torch_f("hardtanh"), _away_from((3, 4), [-1.0, 1.0])),
    OpSpec(
        "hardtanh",
        lambda x: F.hardtanh(x, -0.5, 2.0),
        _torch_f("hardtanh", min_val=-0.5, max_val=2.0),
        _away_from((4, 4), [-0.5, 2.0]),
    ),
    OpSpec(
        "relu6",
        F.relu6,
        _torch_f("relu6"),
        _away_from((3, 4), [0.0, 6.0], scale=4.0),
    ),
    OpSpec("gelu", F.gelu, _torch_f("gelu"), _normal((3, 4), scale=3.0)),
    OpSpec(
        "gelu",
        lambda x: F.gelu(x, approximate="tanh"),
        _torch_f("gelu", approximate="tanh"),
        _normal((3, 4), scale=3.0),
    ),
]
