"""Shared by the optimizer tests: a small parameter set and a precomputed gradient sequence.

The set mimics a tiny model: a weight matrix, a bias, and an "embedding" whose gradient has
only a few nonzero rows per step (sparse-looking, as an embedding lookup gives).
"""

from __future__ import annotations

import numpy as np

import neuronet as nt
from neuronet.nn import Parameter

SHAPES = [(5, 4), (4,), (7, 3)]


def initial_weights(dtype, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def gradient_sequence(dtype, steps: int, seed: int = 1) -> list:
    """``steps`` lists of gradients; the embedding's rows are zero except 2 per step."""
    rng = np.random.default_rng(seed)
    seq = []
    for _ in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        rows = np.zeros(SHAPES[2][0], dtype=bool)
        rows[rng.choice(SHAPES[2][0], size=2, replace=False)] = True
        grads[2][~rows] = 0
        seq.append(grads)
    return seq


def make_params(weights) -> list:
    return [Parameter(w.copy()) for w in weights]


def set_grads(params, grads) -> None:
    for p, g in zip(params, grads):
        p.grad = nt.Tensor(g.copy())


def run(opt, params, grads_seq, lr_every: int = 0) -> list:
    """Step ``opt`` through the gradient sequence; returns the parameter arrays per step."""
    out = []
    for t, grads in enumerate(grads_seq):
        set_grads(params, grads)
        opt.step()
        if lr_every and (t + 1) % lr_every == 0:
            for group in opt.param_groups:
                group["lr"] *= 0.7
        out.append([p.array.copy() for p in params])
    return out
