"""Specs for sorting, quantiles, cumulative ops and paired/NaN-aware reductions (issue 19).
Inputs have no ties (``distinct``), so the index-selecting ops are well defined."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import distinct, normal, torch_fn


def _s(name, fn, tfn, inputs, **kwargs):
    return OpSpec(name, fn, tfn, inputs, rtol32=1e-4, atol32=1e-5, **kwargs)


def _pair(name, **kwargs):
    fn = getattr(nt, name)
    return (lambda *a: fn(*a, **kwargs)), torch_fn(name, **kwargs)


def _with_nan(shape):
    def make(rng, dtype):
        x = distinct(shape)(rng, dtype)[0]
        x.flat[::4] = np.nan
        return [x]

    return make


def _positive_distinct(shape):
    def make(rng, dtype):
        return [np.abs(distinct(shape)(rng, dtype)[0]) + np.asarray(0.3, dtype)]

    return make


SPECS = [
    _s("sort", *_pair("sort", dim=0, descending=True), distinct((4, 3))),
    _s("argsort", *_pair("argsort", dim=-1), distinct((3, 4)), differentiable=False),
    _s("msort", nt.msort, torch_fn("msort"), distinct((4, 3))),
    _s("topk", *_pair("topk", k=2, dim=1), distinct((3, 5))),
    _s("topk", *_pair("topk", k=3, largest=False), distinct((6,))),
    _s("kthvalue", *_pair("kthvalue", k=2, dim=0, keepdim=True), distinct((4, 3))),
    _s("median", nt.median, torch_fn("median"), distinct((3, 5))),
    _s("median", *_pair("median", dim=1), distinct((3, 4))),
    _s("nanmedian", *_pair("nanmedian", dim=1), _with_nan((3, 5))),
    _s(
        "mode",
        *_pair("mode", dim=1),
        lambda r, d: [np.array([[1, 2, 2, 3], [4, 4, 1, 1]], d)],
        differentiable=False,  # ties are what mode is about: not differentiable there
    ),
    _s("quantile", *_pair("quantile", q=0.3, dim=1), distinct((3, 5))),
    _s(
        "quantile",
        lambda x, q: nt.quantile(x, q, dim=0, keepdim=True),
        lambda x, q: __import__("torch").quantile(x, q, dim=0, keepdim=True),
        lambda r, d: [distinct((4, 2))(r, d)[0], np.array([0.2, 0.9], d)],
    ),
    _s("quantile", *_pair("quantile", q=0.5, interpolation="midpoint"), distinct((5,))),
    _s("quantile", *_pair("quantile", q=0.4, interpolation="nearest"), distinct((6,))),
    _s("nanquantile", *_pair("nanquantile", q=0.6, dim=1), _with_nan((3, 5))),
    _s("cumprod", *_pair("cumprod", dim=1), normal((3, 4))),
    _s(
        "cumprod",
        *_pair("cumprod", dim=0),
        lambda r, d: [np.array([[1.5, 0.0], [2.0, -1.0], [0.0, 3.0], [0.5, 2.0]], d)],
    ),
    _s("cummax", *_pair("cummax", dim=1), distinct((3, 4))),
    _s("cummin", *_pair("cummin", dim=0), distinct((4, 3))),
    _s("logcumsumexp", *_pair("logcumsumexp", dim=1), normal((3, 4), scale=3.0)),
    _s("diff", *_pair("diff", dim=0), normal((4, 3))),
    _s(
        "diff",
        lambda x, p: nt.diff(x, n=2, dim=1, prepend=p),
        lambda x, p: __import__("torch").diff(x, n=2, dim=1, prepend=p),
        normal((2, 4), (2, 1)),
    ),
    _s("std_mean", *_pair("std_mean", dim=1), normal((3, 4))),
    _s("var_mean", *_pair("var_mean", dim=0, correction=0, keepdim=True), normal((3, 4))),
    _s("aminmax", *_pair("aminmax", dim=1), distinct((3, 4))),
    _s("aminmax", nt.aminmax, torch_fn("aminmax"), distinct((2, 3))),
    _s("nansum", *_pair("nansum", dim=1), _with_nan((3, 4))),
    _s("nanmean", nt.nanmean, torch_fn("nanmean"), _with_nan((3, 4))),
    _s("median", nt.median, torch_fn("median"), _positive_distinct((4,))),
]
