"""Specs for ops/loss.py and ops/cross_entropy.py: every loss with every reduction and option.

Inputs stay away from kinks: |input - target| is never near 0 (L1) or near delta/beta (Huber,
smooth L1); BCE probabilities stay inside (0.05, 0.95); KL targets are positive. Class weights
and pos_weight are constants (``grad_inputs_idx`` leaves them out), as in torch.
"""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec

REDUCTIONS = ("mean", "sum", "none")


def _torch_f(name, **kwargs):
    def call(*args):
        import torch.nn.functional as F

        return getattr(F, name)(*args, **kwargs)

    return call


def _nt_f(name, **kwargs):
    fn = getattr(nt, name)
    return lambda *args: fn(*args, **kwargs)


def _spec(name, inputs, grad_idx=(0, 1), small=None, covers=(), **kwargs):
    """``small``: the inputs of the element-wise gradcheck when ``inputs`` are big."""
    return OpSpec(
        name,
        _nt_f(name, **kwargs),
        _torch_f(name, **kwargs),
        inputs,
        grad_inputs_idx=grad_idx,
        fast_gradcheck=small is not None,
        gradcheck_inputs=small,
        covers=covers,
        rtol32=1e-4,
        atol32=1e-5,
    )


def _weighted(name, inputs, weight_at, grad_idx, **kwargs):
    """A spec whose input number ``weight_at`` is passed as ``weight=`` (no gradient)."""

    def ours(*args):
        args = list(args)
        w = args.pop(weight_at)
        return getattr(nt, name)(*args, weight=w, **kwargs)

    def theirs(*args):
        import torch.nn.functional as F

        args = list(args)
        w = args.pop(weight_at)
        return getattr(F, name)(*args, weight=w, **kwargs)

    return OpSpec(name, ours, theirs, inputs, grad_inputs_idx=grad_idx, rtol32=1e-4, atol32=1e-5)


# ---- input makers -------------------------------------------------------------------------
def _regression(shape, gap=0.3, avoid=None):
    """input, target with |input - target| >= gap and, if given, away from ``avoid``."""

    def make(rng, dtype):
        x = rng.standard_normal(shape)
        step = gap + rng.random(shape) * 1.5
        if avoid is not None:
            step = np.where(np.abs(step - avoid) < 0.1, step + 0.3, step)
        t = x + np.where(rng.random(shape) < 0.5, -step, step)
        return [x.astype(dtype), t.astype(dtype)]

    return make


def _with_weight(make, shape):
    def wrapped(rng, dtype):
        return make(rng, dtype) + [(rng.random(shape) + 0.5).astype(dtype)]

    return wrapped


def _probs(shape):
    def make(rng, dtype):
        x = 0.05 + 0.9 * rng.random(shape)
        t = rng.random(shape)
        return [x.astype(dtype), t.astype(dtype)]

    return make


def _logits_targets(shape, scale=2.0):
    def make(rng, dtype):
        x = rng.standard_normal(shape) * scale
        t = rng.random(shape)
        return [x.astype(dtype), t.astype(dtype)]

    return make


def _huge_logits(rng, dtype):
    x = np.array([[1e4, -1e4, 3.0], [-1e4, 1e4, -2.0]])
    t = np.array([[1.0, 0.0, 0.3], [1.0, 0.0, 0.8]])
    return [x.astype(dtype), t.astype(dtype)]


def _classes(shape, n_classes, ignore=(), scale=1.5, weight=False, log=False):
    """logits (or log-probs) of ``shape`` (classes on dim 1) and int64 targets."""

    def make(rng, dtype):
        x = rng.standard_normal(shape) * scale
        if log:
            x = x - np.log(np.exp(x).sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
        t_shape = () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
        t = rng.integers(0, n_classes, t_shape)
        for pos in ignore:
            t[pos] = -100
        out = [x.astype(dtype), np.asarray(t, dtype=np.int64)]
        if weight:
            out.append((rng.random(n_classes) + 0.5).astype(dtype))
        return out

    return make


def _class_probs(shape, weight=False):
    def make(rng, dtype):
        x = rng.standard_normal(shape) * 1.5
        e = np.exp(rng.standard_normal(shape))
        t = e / e.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
        out = [x.astype(dtype), t.astype(dtype)]
        if weight:
            out.append((rng.random(shape[1] if len(shape) > 1 else shape[0]) + 0.5).astype(dtype))
        return out

    return make


def _kl(shape, log_target):
    def make(rng, dtype):
        x = np.log(rng.random(shape) * 0.9 + 0.05)
        t = rng.random(shape) * 0.9 + 0.05
        if log_target:
            t = np.log(t)
        return [x.astype(dtype), t.astype(dtype)]

    return make


def _huge_classes(rng, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 1e4, -1e4]])
    return [x.astype(dtype), np.array([0, 0, 2], dtype=np.int64)]


# ---- specs ----------------------------------------------------------------------------------
SPECS = []
for r in REDUCTIONS:
    SPECS += [
        _spec("mse_loss", _regression((3, 4)), reduction=r),
        _spec("l1_loss", _regression((3, 4)), reduction=r),
        _spec("huber_loss", _regression((3, 4), avoid=1.0), reduction=r),
        _spec("huber_loss", _regression((2, 5), avoid=0.5), reduction=r, delta=0.5),
        _spec("smooth_l1_loss", _regression((3, 4), avoid=1.0), reduction=r),
        _spec("smooth_l1_loss", _regression((4,), avoid=0.7), reduction=r, beta=0.7),
        _spec("binary_cross_entropy", _probs((3, 4)), reduction=r),
        _spec("binary_cross_entropy_with_logits", _logits_targets((3, 4)), reduction=r),
        _spec("kl_div", _kl((3, 4), False), reduction=r),
        _spec("kl_div", _kl((3, 4), True), reduction=r, log_target=True),
        _spec("cross_entropy", _classes((5, 4), 4), grad_idx=(0,), reduction=r),
        _spec("cross_entropy", _classes((3, 4, 2, 3), 4, ignore=[(0, 1, 2)]), (0,), reduction=r),
        _spec("cross_entropy", _classes((5,), 5), grad_idx=(0,), reduction=r),
        _spec("cross_entropy", _class_probs((4, 3)), reduction=r),
        _spec("cross_entropy", _class_probs((2, 3, 4)), reduction=r, label_smoothing=0.2),
        _spec("nll_loss", _classes((6, 3), 3, ignore=[2], log=True), (0,), reduction=r),
        _spec("nll_loss", _classes((2, 3, 4), 3, ignore=[(1, 1)], log=True), (0,), reduction=r),
        _weighted("mse_loss", _with_weight(_regression((3, 4)), (3, 4)), 2, (0, 1), reduction=r),
        _weighted("l1_loss", _with_weight(_regression((3, 4)), (3, 4)), 2, (0, 1), reduction=r),
        _weighted(
            "huber_loss",
            _with_weight(_regression((3, 4), avoid=1.0), (3, 4)),
            2,
            (0, 1),
            reduction=r,
        ),
        _weighted(
            "binary_cross_entropy", _with_weight(_probs((3, 4)), (4,)), 2, (0, 1), reduction=r
        ),
        _weighted(
            "binary_cross_entropy_with_logits",
            _with_weight(_logits_targets((3, 4)), (3, 1)),
            2,
            (0, 1),
            reduction=r,
        ),
        # the full combination: class weights + ignore_index + label smoothing, 2-d and K-d
        _weighted(
            "cross_entropy",
            _classes((6, 4), 4, ignore=[1, 4], weight=True),
            2,
            (0,),
            reduction=r,
            label_smoothing=0.15,
        ),
        _weighted(
            "cross_entropy",
            _classes((2, 3, 4), 3, ignore=[(0, 2)], weight=True),
            2,
            (0,),
            reduction=r,
            label_smoothing=0.3,
            ignore_index=-100,
        ),
        _weighted(
            "cross_entropy",
            _class_probs((5, 3), weight=True),
            2,
            (0, 1),
            reduction=r,
            label_smoothing=0.1,
        ),
        _weighted(
            "nll_loss", _classes((5, 4), 4, ignore=[0], weight=True, log=True), 2, (0,), reduction=r
        ),
    ]


def _pos_weight_spec(reduction):
    def ours(x, t, pw, w):
        return nt.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw, reduction=reduction
        )

    def theirs(x, t, pw, w):
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw, reduction=reduction
        )

    def make(rng, dtype):
        x, t = _logits_targets((4, 3))(rng, dtype)
        return [
            x,
            t,
            (rng.random(3) * 3 + 0.2).astype(dtype),
            (rng.random((4, 1)) + 0.5).astype(dtype),
        ]

    return OpSpec(
        "binary_cross_entropy_with_logits",
        ours,
        theirs,
        make,
        grad_inputs_idx=(0, 1),
        rtol32=1e-4,
        atol32=1e-5,
    )


SPECS += [_pos_weight_spec(r) for r in REDUCTIONS]
SPECS += [
    # stability: |logit| = 1e4 gives finite losses and gradients
    _spec("binary_cross_entropy_with_logits", _huge_logits, grad_idx=(0,)),
    _spec("cross_entropy", _huge_classes, grad_idx=(0,)),
    _spec("cross_entropy", _huge_classes, grad_idx=(0,), label_smoothing=0.1),
    # kl_div's 'batchmean'; a class-index target ignore_index other than -100
    _spec("kl_div", _kl((4, 3), False), reduction="batchmean"),
    _spec("cross_entropy", _classes((5, 3), 3), grad_idx=(0,), ignore_index=1),
    # bigger inputs through the random-direction gradcheck
    _spec(
        "cross_entropy",
        _classes((64, 10), 10),
        grad_idx=(0,),
        small=_classes((6, 4), 4),
        label_smoothing=0.1,
    ),
    _spec("mse_loss", _regression((32, 16)), small=_regression((4, 3))),
]
