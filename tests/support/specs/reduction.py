"""Specs for ops/reduction.py, var/std (ops/statistics.py) and cumsum (ops/cumulative.py): every
dim form (None, int, negative, tuple) and keepdim."""

from __future__ import annotations

import math

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec


def _normal(*shapes, scale=1.0, shift=0.0):
    def make(rng, dtype):
        return [(scale * rng.standard_normal(s) + shift).astype(dtype) for s in shapes]

    return make


def _distinct(shape):
    """Well-separated values (no ties, no zeros): a shuffled grid plus a little noise."""

    def make(rng, dtype):
        n = math.prod(shape)
        grid = (np.arange(n) - n / 2 + 0.5) * 0.3
        return [
            (rng.permutation(grid) + 0.01 * rng.standard_normal(n)).reshape(shape).astype(dtype)
        ]

    return make


def _with_zeros(count):
    def make(rng, dtype):
        x = rng.random((3, 4)) + 0.5
        x.reshape(-1)[rng.permutation(12)[:count]] = 0.0
        return [x.astype(dtype)]

    return make


def _bools(rng, dtype):
    return [rng.random((3, 4)) > 0.3]


def _call(method, *args, **kwargs):
    """The same method call on a neuronet or torch tensor."""
    return lambda x: getattr(x, method)(*args, **kwargs)


def _torch(name, *args, **kwargs):
    def call(x):
        import torch

        return getattr(torch, name)(x, *args, **kwargs)

    return call


def _torch_pair(name):
    def call(a, b):
        import torch

        return getattr(torch, name)(a, b)

    return call


def _both(name, *args, **kwargs):
    """(neuronet fn, torch fn) for the same functional call."""
    return (lambda x: getattr(nt, name)(x, *args, **kwargs)), _torch(name, *args, **kwargs)


SPECS = [
    OpSpec("sum", *_both("sum"), _normal((3, 4))),
    OpSpec("sum", *_both("sum", 1), _normal((3, 4))),
    OpSpec("sum", *_both("sum", (0, 2), keepdim=True), _normal((2, 3, 4))),
    OpSpec("sum", _call("sum", -1), _call("sum", -1), _normal((2, 3, 4))),
    OpSpec("sum", _call("sum", dim=(-1, 0)), _call("sum", dim=(-1, 0)), _normal((2, 3, 4))),
    OpSpec("mean", *_both("mean"), _normal((3, 4))),
    OpSpec("mean", *_both("mean", -2, keepdim=True), _normal((2, 3, 4))),
    OpSpec("mean", _call("mean", (0, 1)), _call("mean", (0, 1)), _normal((2, 3, 4))),
    OpSpec("prod", *_both("prod"), _normal((2, 3), shift=1.5)),
    OpSpec("prod", *_both("prod", 1), _normal((3, 4), shift=1.0)),
    OpSpec("prod", *_both("prod", -1, keepdim=True), _normal((2, 3, 4), shift=1.0)),
    OpSpec("prod", *_both("prod"), _with_zeros(1)),
    OpSpec("prod", *_both("prod", 1), _with_zeros(2)),
    OpSpec("prod", *_both("prod"), _with_zeros(2)),
    OpSpec("var", *_both("var"), _normal((3, 4))),
    OpSpec("var", *_both("var", 1, unbiased=False), _normal((3, 4))),
    OpSpec("var", *_both("var", (0, 2), keepdim=True, correction=2), _normal((2, 3, 4))),
    OpSpec("var", _call("var", -1), _call("var", -1), _normal((2, 5))),
    OpSpec("std", *_both("std"), _normal((3, 4))),
    OpSpec("std", *_both("std", 0, keepdim=True), _normal((3, 4))),
    OpSpec("std", *_both("std", (1, 2), correction=0), _normal((2, 3, 4))),
    OpSpec("logsumexp", *_both("logsumexp", 1), _normal((3, 4), scale=3.0)),
    OpSpec("logsumexp", *_both("logsumexp", (0, 1), keepdim=True), _normal((2, 3, 4))),
    OpSpec("logsumexp", *_both("logsumexp", -1), _normal((3, 5), shift=300.0)),
    OpSpec("norm", *_both("norm"), _normal((3, 4))),
    OpSpec("norm", *_both("norm", 2, 1), _normal((3, 4))),
    OpSpec("norm", *_both("norm", "fro", (0, 2), keepdim=True), _normal((2, 3, 4))),
    OpSpec("norm", *_both("norm", 1, -1), _distinct((3, 4))),
    OpSpec("norm", *_both("norm", float("inf")), _distinct((3, 4))),
    OpSpec("norm", *_both("norm", float("-inf"), 1), _distinct((3, 4))),
    OpSpec("norm", *_both("norm", 3, 0), _normal((3, 4))),
    OpSpec("norm", *_both("norm", 0.5), _distinct((2, 3))),
    OpSpec("norm", *_both("norm", 1.5, 1), _distinct((2, 3))),
    OpSpec("norm", _call("norm", p=0, dim=1), _call("norm", p=0, dim=1), _normal((3, 4))),
    OpSpec("max", *_both("max"), _distinct((3, 4))),
    OpSpec("max", *_both("max", 1), _distinct((3, 4))),
    OpSpec("max", _call("max", -1, keepdim=True), _call("max", -1, True), _distinct((2, 3, 4))),
    OpSpec("max", nt.max, _torch_pair("max"), _normal((3, 4), (4,))),
    OpSpec("min", lambda a, b: a.min(b), _torch_pair("min"), _normal((3, 1), (4,))),
    OpSpec("min", *_both("min"), _distinct((3, 4))),
    OpSpec("min", *_both("min", 0), _distinct((3, 4))),
    OpSpec("min", _call("min", dim=-2, keepdim=True), _call("min", -2, True), _distinct((2, 3))),
    OpSpec("amax", *_both("amax"), _distinct((3, 4))),
    OpSpec("amax", *_both("amax", (0, 2)), _distinct((2, 3, 4))),
    OpSpec("amax", _call("amax", -1, True), _call("amax", -1, True), _distinct((3, 4))),
    OpSpec("amin", *_both("amin", 1), _distinct((3, 4))),
    OpSpec("amin", *_both("amin", (-1, -2), keepdim=True), _distinct((2, 3, 4))),
    OpSpec("argmax", *_both("argmax"), _distinct((3, 4)), differentiable=False),
    OpSpec("argmax", *_both("argmax", 1, keepdim=True), _distinct((3, 4)), differentiable=False),
    OpSpec("argmin", *_both("argmin", -1), _distinct((3, 4)), differentiable=False),
    OpSpec("argmin", _call("argmin"), _call("argmin"), _distinct((2, 3)), differentiable=False),
    OpSpec("all", *_both("all"), _bools, differentiable=False),
    OpSpec("all", *_both("all", 1), _bools, differentiable=False),
    OpSpec("any", *_both("any", 0, keepdim=True), _bools, differentiable=False),
    OpSpec("any", _call("any"), _call("any"), _bools, differentiable=False),
    OpSpec("cumsum", *_both("cumsum", 0), _normal((3, 4))),
    OpSpec("cumsum", _call("cumsum", -1), _call("cumsum", -1), _normal((2, 3, 4))),
]
