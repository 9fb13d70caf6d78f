"""Specs for the losses of issue 19: margin/ranking, embedding, likelihood and CTC losses, with
every reduction. Margins stay away from their kinks; labels are constants."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import normal, torch_fn, uniform, with_ints

F = nt.functional
REDUCTIONS = ("mean", "sum", "none")


def _s(name, inputs, grad_idx=None, **kwargs):
    fn = getattr(F, name)
    return OpSpec(
        name,
        lambda *a: fn(*a, **kwargs),
        torch_fn(f"nn.functional.{name}", **kwargs),
        inputs,
        grad_inputs_idx=grad_idx,
        rtol32=1e-4,
        atol32=1e-5,
    )


def _labels(shape, seed=3):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


def _with_labels(make, shape):
    def wrapped(rng, dtype):
        return make(rng, dtype) + [_labels(shape).astype(dtype)]

    return wrapped


def _ranking(rng, dtype):
    a = rng.standard_normal(6)
    b = a + np.where(rng.random(6) < 0.5, -1, 1) * (0.3 + rng.random(6))
    return [a.astype(dtype), b.astype(dtype), _labels(6).astype(dtype)]


def _ctc(rng, dtype):
    logits = rng.standard_normal((6, 2, 4))
    return [
        logits.astype(dtype),
        np.array([[1, 2, 2], [3, 1, 0]]),
        np.array([6, 5]),
        np.array([3, 2]),
    ]


def _ctc_spec(**kwargs):
    """ctc_loss of log_softmax(logits): its gradient w.r.t. log-probabilities is PyTorch's
    convention (see ops/ctc_loss.py), exact once it reaches the logits."""

    def ours(x, *rest):
        return F.ctc_loss(F.log_softmax(x, dim=-1), *rest, **kwargs)

    def theirs(x, *rest):
        import torch

        return torch.nn.functional.ctc_loss(x.log_softmax(-1), *rest, **kwargs)

    return OpSpec("ctc_loss", ours, theirs, _ctc, grad_inputs_idx=(0,), rtol32=1e-4, atol32=1e-5)


SPECS = []
for _r in REDUCTIONS:
    SPECS += [
        _s(
            "hinge_embedding_loss",
            _with_labels(uniform((3, 4), low=0.1, high=0.8), (3, 4)),
            grad_idx=(0,),
            margin=1.0,
            reduction=_r,
        ),
        _s("margin_ranking_loss", _ranking, grad_idx=(0, 1), margin=0.1, reduction=_r),
        _s("soft_margin_loss", _with_labels(normal((3, 4)), (3, 4)), grad_idx=(0,), reduction=_r),
        _s("multi_margin_loss", with_ints(normal((4, 5), scale=0.3), [0, 3, 4, 1]), reduction=_r),
        _s(
            "multilabel_margin_loss",
            with_ints(normal((2, 4), scale=0.2), [[3, 0, -1, 1], [1, 2, 3, -1]]),
            reduction=_r,
        ),
        _s(
            "multilabel_soft_margin_loss",
            lambda r, d: [r.standard_normal((3, 4)).astype(d), (r.random((3, 4)) < 0.5).astype(d)],
            grad_idx=(0,),
            reduction=_r,
        ),
        _s(
            "cosine_embedding_loss",
            lambda r, d: normal((3, 4), (3, 4))(r, d) + [_labels(3).astype(d)],
            grad_idx=(0, 1),
            margin=-0.5,
            reduction=_r,
        ),
        _s("triplet_margin_loss", normal((3, 4), (3, 4), (3, 4)), margin=2.0, reduction=_r),
        _s(
            "gaussian_nll_loss",
            lambda r, d: normal((3, 4), (3, 4))(r, d) + [r.uniform(0.5, 2.0, (3, 1)).astype(d)],
            reduction=_r,
        ),
        _s(
            "poisson_nll_loss",
            lambda r, d: [r.standard_normal((3, 4)).astype(d), r.poisson(2.0, (3, 4)).astype(d)],
            grad_idx=(0,),
            reduction=_r,
        ),
        _ctc_spec(reduction=_r),
    ]
SPECS += [
    _s("multi_margin_loss", with_ints(normal((3, 4), scale=0.3), [1, 0, 3]), p=2, margin=0.5),
    OpSpec(
        "multi_margin_loss",
        lambda x, w, t: F.multi_margin_loss(x, t, weight=w),
        lambda x, w, t: __import__("torch").nn.functional.multi_margin_loss(x, t, weight=w),
        with_ints(normal((3, 4), (4,), scale=0.3), [1, 0, 3]),
        grad_inputs_idx=(0,),
    ),
    _s("triplet_margin_loss", normal((3, 4), (3, 4), (3, 4)), swap=True, p=1.0),
    OpSpec(
        "triplet_margin_with_distance_loss",
        lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=1.5),
        torch_fn("nn.functional.triplet_margin_with_distance_loss", margin=1.5),
        normal((3, 4), (3, 4), (3, 4)),
    ),
    _s(
        "gaussian_nll_loss",
        lambda r, d: normal((3, 4), (3, 4))(r, d) + [r.uniform(0.5, 2.0, (3,)).astype(d)],
        full=True,
    ),
    _s(
        "poisson_nll_loss",
        lambda r, d: [r.uniform(0.5, 3.0, (3, 4)).astype(d), r.uniform(1.5, 4.0, (3, 4)).astype(d)],
        grad_idx=(0, 1),
        log_input=False,
        full=True,
    ),
    _ctc_spec(zero_infinity=True, blank=0),
]
