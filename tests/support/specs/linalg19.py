"""Specs for einsum, linalg (products and multiply-adds), diagonals and distances (issue 19)."""

from __future__ import annotations

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import normal, torch_fn


def _s(name, fn, tfn, inputs, **kwargs):
    return OpSpec(name, fn, tfn, inputs, rtol32=1e-4, atol32=1e-5, **kwargs)


def _call(name, **kwargs):
    fn = getattr(nt, name)
    return lambda *a: fn(*a, **kwargs)


def _einsum(eq):
    def call_torch(*ops):
        import torch

        return torch.einsum(eq, *ops)

    return _s("einsum", lambda *ops: nt.einsum(eq, *ops), call_torch, None)


def _with(spec, inputs):
    spec.inputs = inputs
    return spec


def _separated(shape_a, shape_b):
    """Two point sets whose coordinates differ (no zero distances, no |x| ties)."""

    def make(rng, dtype):
        a = rng.standard_normal(shape_a)
        b = rng.standard_normal(shape_b) + 0.05
        return [a.astype(dtype), b.astype(dtype)]

    return make


SPECS = [
    _with(_einsum("ij,jk->ik"), normal((3, 4), (4, 2))),
    _with(_einsum("bij,bjk->bik"), normal((2, 3, 4), (2, 4, 5))),
    _with(_einsum("ii->i"), normal((4, 4))),
    _with(_einsum("ij->"), normal((3, 4))),
    _with(_einsum("...i,i->..."), normal((2, 3, 4), (4,))),
    _with(_einsum("i,j,k->ijk"), normal((2,), (3,), (2,))),
    _with(_einsum("ij,ij->i"), normal((3, 4), (1, 4))),
    _s(
        "tensordot",
        _call("tensordot", dims=1),
        torch_fn("tensordot", dims=1),
        normal((3, 4), (4, 5)),
    ),
    _s(
        "tensordot",
        _call("tensordot", dims=([0, 2], [1, 0])),
        torch_fn("tensordot", dims=([0, 2], [1, 0])),
        normal((2, 3, 4), (4, 2, 5)),
    ),
    _s("inner", nt.inner, torch_fn("inner"), normal((3, 4), (2, 4))),
    _s("vdot", nt.vdot, torch_fn("vdot"), normal((5,), (5,))),
    _s("mv", nt.mv, torch_fn("mv"), normal((3, 4), (4,))),
    _s("kron", nt.kron, torch_fn("kron"), normal((2, 3), (3, 2))),
    _s("kron", nt.kron, torch_fn("kron"), normal((2,), (3, 2))),
    _s("trace", nt.trace, torch_fn("trace"), normal((3, 5))),
    _s(
        "addmm",
        _call("addmm", beta=0.5, alpha=2.0),
        torch_fn("addmm", beta=0.5, alpha=2.0),
        normal((4,), (3, 2), (2, 4)),
    ),
    _s("addmv", nt.addmv, torch_fn("addmv"), normal((3,), (3, 4), (4,))),
    _s(
        "addr",
        _call("addr", beta=0.0),
        torch_fn("addr", beta=0.0),
        normal((3, 4), (3,), (4,)),
        grad_inputs_idx=(1, 2),  # beta=0 ignores input: no gradient (torch's is zeros)
    ),
    _s(
        "baddbmm",
        _call("baddbmm", alpha=0.5),
        torch_fn("baddbmm", alpha=0.5),
        normal((2, 3, 4), (2, 3, 5), (2, 5, 4)),
    ),
    _s("addbmm", nt.addbmm, torch_fn("addbmm"), normal((3, 4), (2, 3, 5), (2, 5, 4))),
    _s(
        "diagonal",
        _call("diagonal", offset=1, dim1=1, dim2=2),
        torch_fn("diagonal", offset=1, dim1=1, dim2=2),
        normal((2, 3, 4)),
    ),
    _s("diag", nt.diag, torch_fn("diag"), normal((4,))),
    _s("diag", _call("diag", diagonal=-1), torch_fn("diag", diagonal=-1), normal((3, 4))),
    _s(
        "diag_embed",
        _call("diag_embed", offset=-1),
        torch_fn("diag_embed", offset=-1),
        normal((2, 3)),
    ),
    _s("diagflat", _call("diagflat", offset=1), torch_fn("diagflat", offset=1), normal((2, 2))),
    _s("block_diag", nt.block_diag, torch_fn("block_diag"), normal((2, 3), (1,), (2, 2))),
    _s("cdist", nt.cdist, torch_fn("cdist"), _separated((2, 3, 4), (2, 5, 4))),
    _s("cdist", _call("cdist", p=1.0), torch_fn("cdist", p=1.0), _separated((3, 4), (2, 4))),
    _s(
        "cdist",
        _call("cdist", p=float("inf")),
        torch_fn("cdist", p=float("inf")),
        _separated((3, 4), (2, 4)),
    ),
    _s("pdist", nt.functional.pdist, torch_fn("nn.functional.pdist"), normal((4, 3))),
    _s(
        "pairwise_distance",
        nt.functional.pairwise_distance,
        torch_fn("nn.functional.pairwise_distance"),
        _separated((3, 4), (3, 4)),
    ),
    _s(
        "pairwise_distance",
        lambda a, b: nt.functional.pairwise_distance(a, b, p=3.0, keepdim=True),
        torch_fn("nn.functional.pairwise_distance", p=3.0, keepdim=True),
        _separated((4,), (4,)),
    ),
    _s(
        "cosine_similarity",
        nt.functional.cosine_similarity,
        torch_fn("nn.functional.cosine_similarity"),
        normal((3, 4), (1, 4)),
    ),
    _s(
        "cosine_similarity",
        lambda a, b: nt.functional.cosine_similarity(a, b, dim=0),
        torch_fn("nn.functional.cosine_similarity", dim=0),
        normal((4, 2), (4, 2)),
    ),
    _s("normalize", nt.functional.normalize, torch_fn("nn.functional.normalize"), normal((3, 4))),
    _s(
        "normalize",
        lambda x: nt.functional.normalize(x, p=1.0, dim=-1),
        torch_fn("nn.functional.normalize", p=1.0, dim=-1),
        normal((2, 3, 4)),
    ),
]
