"""Specs for joining/splitting, rearranging, scatter, selection and counting (issue 19)."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import distinct, normal, torch_fn, with_ints


def _s(name, fn, tfn, inputs, **kwargs):
    return OpSpec(name, fn, tfn, inputs, **kwargs)


def _call(name, *extra, **kwargs):
    fn = getattr(nt, name)
    return lambda *a: fn(*a, *extra, **kwargs)


def _list(name, **kwargs):
    """fn([tensors]) in both frameworks (hstack, vstack, ...)."""

    def ours(*ts):
        return getattr(nt, name)(list(ts), **kwargs)

    def theirs(*ts):
        import torch

        return getattr(torch, name)(list(ts), **kwargs)

    return ours, theirs


def _pair(name, **kwargs):
    return _call(name, **kwargs), torch_fn(name, **kwargs)


def _two_distinct(shape):
    """Two arrays with no value shared (no ties between input and source)."""

    def make(rng, dtype):
        both = distinct((2,) + shape)(rng, dtype)[0]
        return [both[0], both[1]]

    return make


def _const(*arrays):
    return lambda r, d: [np.asarray(a, dtype=np.int64) for a in arrays]


SPECS = [
    _s("hstack", *_list("hstack"), normal((2, 3), (2, 1))),
    _s("vstack", *_list("vstack"), normal((3,), (2, 3))),
    _s("dstack", *_list("dstack"), normal((2, 3), (2, 3, 2))),
    _s("column_stack", *_list("column_stack"), normal((3,), (3, 2))),
    _s("atleast_1d", nt.atleast_1d, torch_fn("atleast_1d"), lambda r, d: [np.asarray(1.5, d)]),
    _s("atleast_2d", nt.atleast_2d, torch_fn("atleast_2d"), normal((3,))),
    _s("atleast_3d", nt.atleast_3d, torch_fn("atleast_3d"), normal((2, 3))),
    _s("tensor_split", _call("tensor_split", 3, 1), torch_fn("tensor_split", 3, 1), normal((2, 7))),
    _s(
        "tensor_split",
        _call("tensor_split", [1, 4]),
        torch_fn("tensor_split", [1, 4]),
        normal((6, 2)),
    ),
    _s("hsplit", _call("hsplit", 2), torch_fn("hsplit", 2), normal((3, 4))),
    _s("vsplit", _call("vsplit", [1]), torch_fn("vsplit", [1]), normal((3, 4))),
    _s("dsplit", _call("dsplit", 2), torch_fn("dsplit", 2), normal((2, 2, 4))),
    _s(
        "meshgrid",
        lambda a, b: nt.meshgrid(a, b, indexing="xy"),
        torch_fn("meshgrid", indexing="xy"),
        normal((3,), (2,)),
    ),
    _s(
        "meshgrid",
        lambda a, b: nt.meshgrid(a, b, indexing="ij"),
        torch_fn("meshgrid", indexing="ij"),
        normal((3,), (2,)),
    ),
    _s(
        "broadcast_tensors",
        nt.broadcast_tensors,
        torch_fn("broadcast_tensors"),
        normal((3, 1), (4,)),
    ),
    _s(
        "broadcast_shapes",
        lambda a: nt.tensor(nt.broadcast_shapes((3, 1), (4,), a.shape)),
        lambda a: __import__("torch").tensor(
            __import__("torch").broadcast_shapes((3, 1), (4,), a.shape)
        ),
        normal((1, 1)),
        differentiable=False,
    ),
    _s("roll", *_pair("roll", shifts=(1, -2), dims=(0, 1)), normal((3, 4))),
    _s("roll", *_pair("roll", shifts=3), normal((2, 3))),
    _s("tile", *_pair("tile", dims=(2, 1, 2)), normal((2, 3))),
    _s("repeat_interleave", *_pair("repeat_interleave", repeats=2, dim=1), normal((2, 3))),
    _s(
        "repeat_interleave",
        lambda x, r: nt.repeat_interleave(x, r, dim=0),
        lambda x, r: __import__("torch").repeat_interleave(x, r, dim=0),
        with_ints(normal((3, 2)), [1, 0, 3]),
    ),
    _s("narrow", *_pair("narrow", dim=1, start=-3, length=2), normal((2, 4))),
    _s("select", *_pair("select", dim=1, index=-1), normal((2, 3, 4))),
    _s("rot90", *_pair("rot90", k=1, dims=(0, 2)), normal((2, 3, 4))),
    _s("rot90", *_pair("rot90", k=-1), normal((2, 3))),
    _s("fliplr", nt.fliplr, torch_fn("fliplr"), normal((2, 3))),
    _s("flipud", nt.flipud, torch_fn("flipud"), normal((2, 3))),
    _s("ravel", nt.ravel, torch_fn("ravel"), normal((2, 3))),
    _s("Tensor.unfold", lambda x: x.unfold(1, 3, 2), lambda x: x.unfold(1, 3, 2), normal((2, 7))),
    _s(
        "scatter",
        lambda x, s, i: nt.scatter(x, 0, i, s),
        lambda x, s, i: x.scatter(0, i, s),
        with_ints(normal((3, 4), (2, 4)), [[0, 1, 2, 0], [2, 0, 1, 1]]),
        grad_inputs_idx=(0, 1),
    ),
    _s(
        "scatter",
        lambda x, s, i: nt.scatter(x, 1, i, s, reduce="add"),
        lambda x, s, i: x.scatter(1, i, s, reduce="add"),
        with_ints(normal((2, 4), (2, 2)), [[0, 0], [3, 1]]),
        differentiable=False,
    ),
    _s(
        "scatter_reduce",
        lambda x, s, i: nt.scatter_reduce(x, 0, i, s, "sum"),
        lambda x, s, i: x.scatter_reduce(0, i, s, "sum"),
        with_ints(normal((3, 2), (3, 2)), [[0, 1], [0, 1], [2, 0]]),
    ),
    _s(
        "scatter_reduce",
        lambda x, s, i: nt.scatter_reduce(x, 0, i, s, "mean", include_self=False),
        lambda x, s, i: x.scatter_reduce(0, i, s, "mean", include_self=False),
        with_ints(normal((3, 2), (3, 2)), [[0, 1], [0, 1], [2, 0]]),
    ),
    _s(
        "scatter_reduce",
        lambda x, s, i: nt.scatter_reduce(x, 1, i, s, "prod"),
        lambda x, s, i: x.scatter_reduce(1, i, s, "prod"),
        with_ints(normal((2, 3), (2, 2)), [[0, 0], [2, 1]]),
    ),
    _s(
        "scatter_reduce",
        lambda x, s, i: nt.scatter_reduce(x, 0, i, s, "amax"),
        lambda x, s, i: x.scatter_reduce(0, i, s, "amax"),
        with_ints(_two_distinct((3, 2)), [[0, 1], [0, 1], [2, 0]]),
    ),
    _s(
        "index_add",
        lambda x, s, i: nt.index_add(x, 1, i, s, alpha=2.0),
        lambda x, s, i: x.index_add(1, i, s, alpha=2.0),
        with_ints(normal((2, 4), (2, 3)), [0, 3, 0]),
    ),
    _s(
        "index_copy",
        lambda x, s, i: nt.index_copy(x, 0, i, s),
        lambda x, s, i: x.index_copy(0, i, s),
        with_ints(normal((4, 2), (2, 2)), [3, 0]),
    ),
    _s(
        "index_fill",
        lambda x, v, i: nt.index_fill(x, 1, i, v),
        lambda x, v, i: x.index_fill(1, i, v),
        with_ints(normal((2, 4), ()), [2, 0]),
    ),
    _s(
        "index_put",
        lambda x, v, i: nt.index_put(x, (i,), v, accumulate=True),
        lambda x, v, i: x.index_put((i,), v, accumulate=True),
        with_ints(normal((4, 3), (3, 3)), [0, 2, 0]),
    ),
    _s(
        "put",
        lambda x, s, i: nt.put(x, i, s),
        lambda x, s, i: x.put(i, s),
        with_ints(normal((2, 3), (2,)), [5, -6]),
    ),
    _s(
        "masked_scatter",
        lambda x, s: nt.masked_scatter(x, nt.tensor([True, False, True]), s),
        lambda x, s: x.masked_scatter(__import__("torch").tensor([True, False, True]), s),
        normal((2, 3), (5,)),
    ),
    _s(
        "take",
        lambda x, i: nt.take(x, i),
        lambda x, i: __import__("torch").take(x, i),
        with_ints(normal((2, 3)), [[0, 5], [-1, 0]]),
    ),
    _s(
        "take_along_dim",
        lambda x, i: nt.take_along_dim(x, i, dim=1),
        lambda x, i: __import__("torch").take_along_dim(x, i, dim=1),
        with_ints(normal((3, 4)), [[0, 3], [1, 1], [2, 0]]),
    ),
    _s(
        "masked_select",
        lambda x: nt.masked_select(x, nt.tensor([True, False, True])),
        lambda x: x.masked_select(__import__("torch").tensor([True, False, True])),
        normal((2, 3)),
    ),
    _s(
        "nonzero",
        nt.nonzero,
        torch_fn("nonzero"),
        lambda r, d: [np.array([[0.0, 1.0], [2.0, 0.0]], d)],
        differentiable=False,
    ),
    _s(
        "argwhere",
        nt.argwhere,
        torch_fn("argwhere"),
        lambda r, d: [np.array([0.0, 1.0, 2.0, 0.0], d)],
        differentiable=False,
    ),
    _s(
        "count_nonzero",
        _call("count_nonzero", dim=0),
        torch_fn("count_nonzero", dim=0),
        lambda r, d: [np.array([[0.0, 1.0], [2.0, 0.0], [3.0, 0.0]], d)],
        differentiable=False,
    ),
    _s("bincount", nt.bincount, torch_fn("bincount"), _const([0, 3, 3, 1]), differentiable=False),
    _s(
        "histc",
        _call("histc", bins=4, min=-1.0, max=1.0),
        torch_fn("histc", bins=4, min=-1.0, max=1.0),
        normal((20,)),
        differentiable=False,
    ),
    _s(
        "searchsorted",
        lambda s, v: nt.searchsorted(s, v, right=True),
        lambda s, v: __import__("torch").searchsorted(s, v, right=True),
        lambda r, d: [np.array([0.0, 1.0, 1.0, 3.0], d), np.array([1.0, 2.5, -1.0], d)],
        differentiable=False,
    ),
    _s(
        "bucketize",
        lambda v, b: nt.bucketize(v, b),
        lambda v, b: __import__("torch").bucketize(v, b),
        lambda r, d: [np.array([1.0, 2.5, -1.0, 3.0], d), np.array([0.0, 1.0, 3.0], d)],
        differentiable=False,
    ),
    _s(
        "unique",
        lambda x: nt.unique(x, return_inverse=True, return_counts=True),
        lambda x: __import__("torch").unique(x, return_inverse=True, return_counts=True),
        lambda r, d: [np.array([3.0, 1.0, 3.0, 2.0], d)],
        differentiable=False,
    ),
    _s(
        "unique_consecutive",
        lambda x: nt.unique_consecutive(x, return_counts=True, dim=0),
        lambda x: __import__("torch").unique_consecutive(x, return_counts=True, dim=0),
        lambda r, d: [np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]], d)],
        differentiable=False,
    ),
    _s(
        "tril_indices",
        lambda x: nt.tril_indices(3, 4, 1),
        lambda x: __import__("torch").tril_indices(3, 4, 1),
        normal((1,)),
        differentiable=False,
    ),
    _s(
        "triu_indices",
        lambda x: nt.triu_indices(4, 3, -1),
        lambda x: __import__("torch").triu_indices(4, 3, -1),
        normal((1,)),
        differentiable=False,
    ),
]
