"""Specs for ops/indexing.py: basic and advanced indexing (with repeated indices), gather,
scatter_add, index_select, masked_fill, where, one_hot."""

from __future__ import annotations

import numpy as np

import neuronet as nt
import neuronet.functional as F
from support.op_specs import OpSpec


def _normal(*shapes):
    def make(rng, dtype):
        return [rng.standard_normal(s).astype(dtype) for s in shapes]

    return make


def _same(fn):
    return fn, fn


def _with(*extra):
    """A float input of the first shape followed by fixed extra arrays (indices, masks)."""

    def outer(shape):
        def make(rng, dtype):
            return [rng.standard_normal(shape).astype(dtype)] + [np.array(e) for e in extra]

        return make

    return outer


def _torch(name, *args, **kwargs):
    def call(*tensors):
        import torch

        return getattr(torch, name)(*tensors, *args, **kwargs)

    return call


def _dim_first(name, dim):
    """torch.<name>(input, dim, index)."""

    def call(x, index):
        import torch

        return getattr(torch, name)(x, dim, index)

    return call


def _gather_inputs(rng, dtype):
    x = rng.standard_normal((3, 5)).astype(dtype)
    index = rng.integers(0, 5, (3, 4))  # repeats along dim 1
    return [x, index]


def _gather_dim0(rng, dtype):
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    index = rng.integers(0, 4, (5, 2, 2))  # smaller than x outside dim 0, repeats
    return [x, index]


def _scatter_inputs(rng, dtype):
    x = rng.standard_normal((3, 5)).astype(dtype)
    index = rng.integers(0, 5, (3, 2))
    src = rng.standard_normal((3, 2)).astype(dtype)
    return [x, index, src]


def _masked(rng, dtype, value_tensor=False):
    x = rng.standard_normal((3, 4)).astype(dtype)
    mask = rng.random((4,)) > 0.5
    mask[0] = True
    out = [x, mask]
    if value_tensor:
        out.append(np.array(rng.standard_normal(), dtype=dtype))
    return out


def _where_inputs(rng, dtype):
    cond = rng.random((3, 1)) > 0.5
    cond[0, 0] = True
    cond[1, 0] = False
    return [
        cond,
        rng.standard_normal((3, 4)).astype(dtype),
        rng.standard_normal((4,)).astype(dtype),
    ]


def _labels(rng, dtype):
    return [rng.integers(0, 5, (2, 3))]


def _getitem(index, shape=(4, 5, 3)):
    return OpSpec("getitem", *_same(lambda x: x[index]), _normal(shape), covers=("__getitem__",))


SPECS = [
    _getitem(1),
    _getitem(-1),
    _getitem((slice(1, 3), 2)),
    _getitem((slice(None, None, 2), slice(None), slice(1, None))),
    _getitem((None, Ellipsis, 0)),
    _getitem((Ellipsis, None, slice(0, 2))),
    OpSpec("getitem", *_same(lambda x, i: x[i]), _with([0, 2, 0, 3])((4, 3)), covers=()),
    OpSpec("getitem", *_same(lambda x, i: x[:, i]), _with([[1, 1], [0, 2]])((2, 3, 2))),
    OpSpec("getitem", *_same(lambda x, i, j: x[i, :, j]), _with([0, 1, 1], [2, 0, 2])((2, 2, 3))),
    OpSpec("getitem", *_same(lambda x, m: x[m]), _with([True, False, True])((3, 2))),
    OpSpec(
        "getitem",
        *_same(lambda x, m: x[m]),
        _with([[True, False], [False, True], [True, True]])((3, 2)),
    ),  # fmt: skip
    OpSpec("getitem", *_same(lambda x, m: x[:, m]), _with([False, True, True])((2, 3, 2))),
    OpSpec("gather", lambda x, i: nt.gather(x, 1, i), _dim_first("gather", 1), _gather_inputs),
    OpSpec("gather", lambda x, i: x.gather(0, i), lambda x, i: x.gather(0, i), _gather_dim0),
    OpSpec("gather", lambda x, i: nt.gather(x, -1, i), _dim_first("gather", -1), _gather_inputs),
    OpSpec(
        "scatter_add",
        lambda x, i, s: nt.scatter_add(x, 1, i, s),
        lambda x, i, s: x.scatter_add(1, i, s),
        _scatter_inputs,
    ),  # fmt: skip
    OpSpec(
        "scatter_add",
        lambda x, i, s: x.scatter_add(0, i, s),
        lambda x, i, s: x.scatter_add(0, i, s),
        lambda r, d: [
            r.standard_normal((4, 3)).astype(d),
            r.integers(0, 4, (5, 3)),
            r.standard_normal((5, 3)).astype(d),
        ],
    ),  # fmt: skip
    OpSpec(
        "index_select",
        lambda x, i: nt.index_select(x, 0, i),
        _dim_first("index_select", 0),
        _with([2, 0, 2, 1])((3, 4)),
    ),  # fmt: skip
    OpSpec(
        "index_select", *_same(lambda x, i: x.index_select(-1, i)), _with([1, 1, 0])((2, 3, 2))
    ),  # fmt: skip
    OpSpec(
        "masked_fill",
        lambda x, m: nt.masked_fill(x, m, -1.5),
        lambda x, m: x.masked_fill(m, -1.5),
        _masked,
    ),  # fmt: skip
    OpSpec(
        "masked_fill",
        lambda x, m, v: x.masked_fill(m, v),
        lambda x, m, v: x.masked_fill(m, v),
        lambda r, d: _masked(r, d, value_tensor=True),
    ),  # fmt: skip
    OpSpec("where", nt.where, _torch("where"), _where_inputs),
    OpSpec(
        "where",
        lambda c, a, b: nt.where(c, a, 0.0),
        lambda c, a, b: _torch("where")(c, a, 0.0),
        _where_inputs,
        grad_inputs_idx=(1,),
    ),  # fmt: skip
    OpSpec("where", lambda c, a, b: a.where(c, b), lambda c, a, b: a.where(c, b), _where_inputs),
    OpSpec(
        "where",
        lambda c, a, b: nt.where(c)[0],
        lambda c, a, b: _torch("where")(c)[0],
        _where_inputs,
        differentiable=False,
    ),  # fmt: skip
    OpSpec("one_hot", F.one_hot, lambda t: _torch_one_hot(t), _labels, differentiable=False),
    OpSpec(
        "one_hot",
        lambda t: F.one_hot(t, 7),
        lambda t: _torch_one_hot(t, 7),
        _labels,
        differentiable=False,
    ),  # fmt: skip
]


def _torch_one_hot(t, num_classes=-1):
    import torch

    return torch.nn.functional.one_hot(t, num_classes)
