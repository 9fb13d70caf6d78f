"""Input makers and call builders shared by the issue-19 spec files (no specs here)."""

from __future__ import annotations

import numpy as np

import neuronet as nt


def torch_fn(path: str, *extra, **kwargs):
    """A call of ``torch.<path>`` (e.g. 'nn.functional.glu') with fixed trailing positional and
    keyword arguments."""

    def call(*args):
        import torch

        fn = torch
        for part in path.split("."):
            fn = getattr(fn, part)
        return fn(*args, *extra, **kwargs)

    return call


def nt_fn(name: str, **kwargs):
    """A call of ``neuronet.functional.<name>`` with fixed keyword arguments."""
    fn = getattr(nt.functional, name)
    return lambda *args: fn(*args, **kwargs)


def normal(*shapes, scale=1.0):
    def make(rng, dtype):
        return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]

    return make


def uniform(*shapes, low=0.0, high=1.0):
    def make(rng, dtype):
        return [rng.uniform(low, high, s).astype(dtype) for s in shapes]

    return make


def away(shape, points, gap=0.1, scale=2.0):
    """Normal samples nudged at least ``gap`` away from each kink in ``points``."""

    def make(rng, dtype):
        x = scale * rng.standard_normal(shape)
        for p in points:
            near = np.abs(x - p) < gap
            x = np.where(near, p + np.copysign(gap, x - p + 1e-12), x)
        return [x.astype(dtype)]

    return make


def distinct(shape, scale=1.0):
    """Values with no ties (a permutation of well-separated numbers)."""

    def make(rng, dtype):
        n = int(np.prod(shape))
        values = (rng.permutation(n) - n / 2) * 0.37 * scale + 0.05 * rng.random(n)
        return [values.reshape(shape).astype(dtype)]

    return make


def with_ints(make, *int_arrays):
    """``make``'s arrays followed by fixed integer arrays (indices, labels)."""

    def wrapped(rng, dtype):
        return make(rng, dtype) + [np.asarray(a, dtype=np.int64) for a in int_arrays]

    return wrapped
