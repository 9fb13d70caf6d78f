"""Specs for the element-wise families of issue 19: rounding, division, trigonometry, exp_log,
pointwise and logical. Inputs stay away from kinks (integer steps, domain edges)."""

from __future__ import annotations

import numpy as np

import neuronet as nt
from support.op_specs import OpSpec
from support.specs._common19 import away, normal, torch_fn, uniform


def _spec(name, inputs, torch_name=None, differentiable=True, covers=(), **kwargs):
    fn = getattr(nt, name)
    return OpSpec(
        name,
        (lambda *a: fn(*a, **kwargs)) if kwargs else fn,
        torch_fn(torch_name or name, **kwargs),
        inputs,
        differentiable=differentiable,
        covers=covers,
        rtol32=1e-4,
        atol32=1e-5,
    )


def _off_integers(shape, scale=3.0):
    def make(rng, dtype):
        x = scale * rng.standard_normal(shape)
        frac = x - np.floor(x)
        x = np.where(np.abs(frac - 0.5) < 0.1, x + 0.2, x)  # away from .5 (round) and integers
        x = np.where((frac < 0.1) | (frac > 0.9), x + 0.3, x)
        return [x.astype(dtype)]

    return make


def _divisible(rng, dtype):
    a = 4 * rng.standard_normal((3, 4))
    b = np.where(rng.random((4,)) < 0.5, -1, 1) * (0.7 + rng.random((4,)))
    q = a / b
    a = np.where(np.abs(q - np.round(q)) < 0.1, a + 0.3 * b, a)  # away from jumps of floor(a/b)
    return [a.astype(dtype), b.astype(dtype)]


def _int_pair(rng, dtype):
    return [rng.integers(-9, 10, (3, 4)), rng.integers(1, 5, (4,)) * np.array([1, -1, 1, -1])]


SPECS = [
    _spec("floor", _off_integers((3, 4))),
    _spec("ceil", _off_integers((3, 4))),
    _spec("trunc", _off_integers((3, 4))),
    _spec("round", _off_integers((3, 4))),
    _spec("round", _off_integers((5,), scale=300.0), decimals=-2),
    _spec("frac", _off_integers((3, 4))),
    _spec("floor_divide", _divisible, differentiable=False),
    _spec("floor_divide", _int_pair, differentiable=False),
    _spec("remainder", _divisible),
    _spec("remainder", _int_pair, differentiable=False),
    _spec("fmod", _divisible),
    _spec("fmod", _int_pair, differentiable=False),
    _spec("true_divide", _divisible),
    OpSpec("floor_divide", lambda a, b: a // b, lambda a, b: a // b, _int_pair, False),
    OpSpec("remainder", lambda a, b: a % b, lambda a, b: a % b, _divisible),
    OpSpec(
        "remainder",
        lambda a: 7.5 % a,
        lambda a: 7.5 % a,
        lambda r, d: _divisible(r, d)[1:],
        differentiable=False,  # torch has no derivative for remainder(number, tensor)
    ),
    OpSpec(
        "floor_divide",
        lambda a: 7 // a,
        lambda a: 7 // a,
        lambda r, d: _int_pair(r, d)[1:],
        differentiable=False,
    ),
    _spec("tan", uniform((3, 4), low=-1.2, high=1.2)),
    _spec("asin", uniform((3, 4), low=-0.9, high=0.9), covers=("arcsin",)),
    _spec("acos", uniform((3, 4), low=-0.9, high=0.9), covers=("arccos",)),
    _spec("atan", normal((3, 4), scale=2.0), covers=("arctan",)),
    _spec("atan2", normal((3, 4), (4,)), covers=("arctan2",)),
    _spec("sinh", normal((3, 4))),
    _spec("cosh", normal((3, 4))),
    _spec("asinh", normal((3, 4), scale=2.0)),
    _spec("acosh", uniform((3, 4), low=1.2, high=4.0)),
    _spec("atanh", uniform((3, 4), low=-0.9, high=0.9)),
    _spec("log2", uniform((3, 4), low=0.2, high=3.0)),
    _spec("log10", uniform((3, 4), low=0.2, high=3.0)),
    _spec("exp2", normal((3, 4))),
    _spec("expm1", normal((3, 4))),
    _spec("reciprocal", uniform((3, 4), low=0.3, high=2.0)),
    _spec("logit", uniform((3, 4), low=0.05, high=0.95)),
    _spec("logit", uniform((6,), low=0.2, high=0.8), eps=0.1),
    _spec(
        "xlogy",
        lambda r, d: [r.standard_normal((3, 4)).astype(d), r.uniform(0.2, 2.0, (4,)).astype(d)],
    ),
    _spec("logaddexp", normal((3, 4), (4,), scale=3.0)),
    _spec("logaddexp2", normal((3, 4), (3, 1), scale=3.0)),
    _spec(
        "lerp",
        lambda r, d: [
            r.standard_normal((3, 4)).astype(d),
            r.standard_normal((4,)).astype(d),
            r.uniform(0, 1, (3, 1)).astype(d),
        ],
    ),
    OpSpec(
        "lerp",
        lambda a, b: nt.lerp(a, b, 0.75),
        torch_fn("lerp", weight=0.75),
        normal((3, 4), (3, 4)),
    ),
    _spec("hypot", normal((3, 4), (4,))),
    _spec(
        "copysign", lambda r, d: [away((3, 4), [0.0])(r, d)[0], r.standard_normal((4,)).astype(d)]
    ),
    _spec(
        "heaviside",
        lambda r, d: [np.array([-1.0, 0.0, 2.0, 0.0], d), np.array([0.5], d)],
        differentiable=False,
    ),
    OpSpec(
        "nan_to_num",
        lambda x: nt.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-9.0),
        torch_fn("nan_to_num", nan=0.5, posinf=9.0, neginf=-9.0),
        lambda r, d: [np.array([1.0, np.nan, np.inf, -np.inf, -2.5], d)],
    ),
    OpSpec("nan_to_num", nt.nan_to_num, torch_fn("nan_to_num"), normal((3, 4))),
    OpSpec(
        "clamp_min",
        lambda x: nt.clamp_min(x, 0.3),
        torch_fn("clamp_min", min=0.3),
        away((3, 4), [0.3]),
    ),
    OpSpec(
        "clamp_max",
        lambda x: nt.clamp_max(x, -0.2),
        torch_fn("clamp_max", max=-0.2),
        away((3, 4), [-0.2]),
    ),
    OpSpec(
        "addcmul",
        lambda a, b, c: nt.addcmul(a, b, c, value=0.5),
        torch_fn("addcmul", value=0.5),
        normal((3, 4), (3, 4), (4,)),
    ),
    OpSpec(
        "addcdiv",
        lambda a, b, c: nt.addcdiv(a, b, c, value=2.0),
        torch_fn("addcdiv", value=2.0),
        lambda r, d: normal((3, 4), (3, 4))(r, d) + [r.uniform(0.5, 2.0, (4,)).astype(d)],
    ),
]

_SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, np.nan, np.inf, -np.inf])


def _pred(name):
    return OpSpec(
        name,
        getattr(nt, name),
        torch_fn(name),
        lambda r, d: [_SPECIAL.astype(d)],
        differentiable=False,
    )


SPECS += [_pred(n) for n in ("isnan", "isinf", "isposinf", "isneginf", "isfinite", "signbit")]
SPECS += [
    OpSpec(
        n,
        getattr(nt, n),
        torch_fn(n),
        lambda r, d: [np.array([0.0, 1.0, -2.0, 0.0], d), np.array([0.0, 0.0, 3.0, 5.0], d)],
        differentiable=False,
    )
    for n in ("logical_and", "logical_or", "logical_xor")
]
SPECS += [
    OpSpec(
        "logical_not",
        nt.logical_not,
        torch_fn("logical_not"),
        lambda r, d: [np.array([0.0, 1.0, -2.0], d)],
        differentiable=False,
    ),
    OpSpec(
        "isclose",
        lambda a, b: nt.isclose(a, b, rtol=0.1, atol=0.01),
        torch_fn("isclose", rtol=0.1, atol=0.01),
        lambda r, d: [np.array([1.0, 1.05, 2.0, np.nan], d), np.array([1.0, 1.0, 1.0, np.nan], d)],
        differentiable=False,
    ),
    OpSpec(
        "isin",
        lambda a, b: nt.isin(a, b),
        torch_fn("isin"),
        lambda r, d: [
            np.array([[1.0, 2.0, 3.0], [4.0, 2.0, 0.5]], d),
            np.array([2.0, 0.5, 7.0], d),
        ],
        differentiable=False,
    ),
    OpSpec(
        "isin",
        lambda a: nt.isin(a, 2.0, invert=True),
        torch_fn("isin", 2.0, invert=True),
        lambda r, d: [np.array([1.0, 2.0, 3.0, 2.0], d)],
        differentiable=False,
    ),
    OpSpec(
        "allclose",
        lambda a, b: nt.tensor(nt.allclose(a, b, atol=0.1)),
        lambda a, b: __import__("torch").tensor(__import__("torch").allclose(a, b, atol=0.1)),
        normal((3,), (3,), scale=0.01),
        differentiable=False,
    ),
    OpSpec(
        "equal",
        lambda a, b: nt.tensor(nt.equal(a, b)),
        lambda a, b: __import__("torch").tensor(__import__("torch").equal(a, b)),
        lambda r, d: [np.array([1.0, 2.0], d), np.array([1.0, 2.0], d)],
        differentiable=False,
    ),
]
