"""Specs for ops/matmul.py: every 1-D/2-D/batched combination of matmul, and linear."""

from __future__ import annotations

import neuronet as nt
import neuronet.functional as F
from support.op_specs import OpSpec


def _normal(*shapes):
    def make(rng, dtype):
        return [rng.standard_normal(s).astype(dtype) for s in shapes]

    return make


def _torch(name):
    def call(*tensors):
        import torch

        return getattr(torch, name)(*tensors)

    return call


def _torch_linear(*tensors):
    import torch

    return torch.nn.functional.linear(*tensors)


def _matmul(a, b):
    return OpSpec("matmul", nt.matmul, _torch("matmul"), _normal(a, b))


SPECS = [
    _matmul((4,), (4,)),
    _matmul((4,), (4, 3)),
    _matmul((3, 4), (4,)),
    _matmul((3, 4), (4, 5)),
    _matmul((2, 3, 4), (4, 5)),
    _matmul((3, 4), (2, 4, 5)),
    _matmul((2, 1, 3, 4), (3, 4, 2)),
    _matmul((4,), (2, 4, 3)),
    _matmul((2, 3, 4), (4,)),
    OpSpec(
        "matmul",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        _normal((2, 3), (3, 2)),
        covers=("__matmul__",),
    ),  # fmt: skip
    OpSpec("matmul", lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), _normal((5, 2, 3), (3,))),
    OpSpec("mm", nt.mm, _torch("mm"), _normal((3, 4), (4, 2))),
    OpSpec("bmm", nt.bmm, _torch("bmm"), _normal((2, 3, 4), (2, 4, 5))),
    OpSpec("dot", nt.dot, _torch("dot"), _normal((5,), (5,))),
    OpSpec("outer", nt.outer, _torch("outer"), _normal((3,), (4,))),
    OpSpec("linear", F.linear, _torch_linear, _normal((2, 3, 4), (5, 4), (5,))),
    OpSpec("linear", F.linear, _torch_linear, _normal((6, 4), (3, 4))),
    OpSpec("linear", F.linear, _torch_linear, _normal((4,), (3, 4), (3,))),
    OpSpec(
        "linear",
        F.linear,
        _torch_linear,
        _normal((2, 2, 2, 3), (2, 3), (2,)),
        grad_inputs_idx=(1, 2),
    ),  # fmt: skip
]
