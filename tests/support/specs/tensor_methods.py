"""Specs for the Tensor forms that are not a functional op under another name: reflected
operators (``2.5 - x``), in-place methods and operators (``add_``, ``x += y``, ``x[i] = v``),
the ``*_as`` methods, ``where`` as a method, and the dtype conversions.

A method that *is* a functional op (``Tensor.exp is neuronet.exp``) is covered by that op's spec;
``tests/test_api_coverage.py`` lists the others and requires a spec here for each. The in-place
forms work on a clone of their input (as a user would on a tensor that needs a gradient), and
their gradients go through the graph as PyTorch's do.
"""

from __future__ import annotations

import numpy as np

from support.op_specs import OpSpec


def _normal(*shapes, away=0.0):
    """Unit normals of each shape; with ``away``, |value| >= away (for divisors)."""

    def make(rng, dtype):
        out = []
        for shape in shapes:
            x = rng.standard_normal(shape)
            if away:
                x = np.where(x < 0, x - away, x + away)
            out.append(x.astype(dtype))
        return out

    return make


def _same(fn):
    """The same expression on neuronet and on torch tensors."""
    return fn, fn


def _inplace(name, update, *shapes, away=0.0, differentiable=True):
    """``update(clone, *others)`` mutates a clone of the first input; the spec returns it."""

    def call(x, *others):
        y = x.clone()
        update(y, *others)
        return y

    return OpSpec(
        f"Tensor.{name}", call, call, _normal(*shapes, away=away), differentiable=differentiable
    )


_SMOOTH_UNARY = ("neg", "exp", "expm1", "square", "sin", "cos", "erf", "sigmoid", "tanh", "frac")


def _inplace_positive(name, op):
    """``x.<op>_()`` on inputs in [0.5, ...): for ops defined only on positive numbers."""

    def make(rng, dtype):
        return [(np.abs(rng.standard_normal((3, 4))) + 0.5).astype(dtype)]

    def call(x):
        y = x.clone()
        getattr(y, f"{op}_")()
        return y

    return OpSpec(f"Tensor.{name}", call, call, make)


def _idx(like, values):
    """An int64 index tensor of ``like``'s library (neuronet or torch)."""
    return like.new_tensor(values).long()


def _iadd(y, o):
    y += o


def _isub(y, o):
    y -= o


def _imul(y, o):
    y *= o


def _itruediv(y, o):
    y /= o


def _setitem(y, v):
    y[1:3, ::2] = v


def _ifloordiv(y, o):
    y //= o


def _imod(y, o):
    y %= o


def _torch_to64(x):
    import torch

    return x.to(torch.float64)


def _torch_type64(x):
    import torch

    return x.type(torch.float64)


SPECS = [
    # reflected operators: a Python scalar on the left
    OpSpec("Tensor.__radd__", *_same(lambda x: 2.5 + x), _normal((2, 3))),
    OpSpec("Tensor.__rsub__", *_same(lambda x: 2.5 - x), _normal((2, 3))),
    OpSpec("Tensor.__rmul__", *_same(lambda x: 2.5 * x), _normal((2, 3))),
    OpSpec("Tensor.__rtruediv__", *_same(lambda x: 2.5 / x), _normal((2, 3), away=0.5)),
    OpSpec("Tensor.__rpow__", *_same(lambda x: 2.5**x), _normal((2, 3))),
    OpSpec("Tensor.__rmatmul__", *_same(lambda x, y: x.__rmatmul__(y)), _normal((3, 2), (4, 3))),
    OpSpec("Tensor.__rdiv__", *_same(lambda x: x.__rdiv__(2.5)), _normal((2, 3), away=0.5)),
    # floor division and remainder are piecewise constant / linear: values and the gradient
    # of the continuous pieces (inputs kept away from the jumps, as the functional specs do)
    OpSpec(
        "Tensor.__rfloordiv__",
        *_same(lambda x: 7.25 // x),
        _normal((2, 3), away=0.5),
        differentiable=False,
    ),
    OpSpec(
        "Tensor.__rmod__",
        *_same(lambda x: 7.25 % x),
        _normal((2, 3), away=0.5),
        differentiable=False,
    ),
    # in-place methods and operators
    _inplace("add_", lambda y, o: y.add_(o, alpha=2), (3, 4), (4,)),
    _inplace("sub_", lambda y, o: y.sub_(o, alpha=0.5), (3, 4), (3, 4)),
    _inplace("mul_", lambda y, o: y.mul_(o), (3, 4), (3, 1)),
    _inplace("div_", lambda y, o: y.div_(o), (3, 4), (4,), away=0.5),
    _inplace("__iadd__", _iadd, (3, 4), (3, 4)),
    _inplace("__isub__", _isub, (3, 4), (4,)),
    _inplace("__imul__", _imul, (3, 4), (3, 4)),
    _inplace("__itruediv__", _itruediv, (3, 4), (3, 4), away=0.5),
    _inplace("zero_", lambda y: y.zero_(), (2, 3)),
    _inplace("fill_", lambda y: y.fill_(1.5), (2, 3)),
    _inplace("copy_", lambda y, s: y.copy_(s), (3, 4), (4,)),
    _inplace("__setitem__", _setitem, (4, 4), (2, 2)),
    _inplace("pow_", lambda y: y.abs().add_(0.5).pow_(2.5), (3, 4)),
    # torch has no derivative for floor division (piecewise constant): values only
    _inplace("__ifloordiv__", _ifloordiv, (3, 4), (4,), away=0.5, differentiable=False),
    _inplace("__imod__", _imod, (3, 4), (4,), away=0.5),
    _inplace(
        "floor_divide_",
        lambda y, o: y.floor_divide_(o),
        (3, 4),
        (3, 4),
        away=0.5,
        differentiable=False,
    ),
    _inplace("remainder_", lambda y, o: y.remainder_(o), (3, 4), (3, 4), away=0.5),
    _inplace("fmod_", lambda y, o: y.fmod_(o), (3, 4), (3, 4), away=0.5),
    # in-place forms of element-wise ops (each mutates the clone the spec returns)
    *[_inplace(f"{n}_", lambda y, n=n: getattr(y, f"{n}_")(), (3, 4)) for n in _SMOOTH_UNARY],
    *[_inplace_positive(f"{n}_", n) for n in ("log", "log1p", "sqrt", "rsqrt", "reciprocal")],
    _inplace("abs_", lambda y: y.abs_(), (3, 4), away=0.1),
    _inplace("relu_", lambda y: y.relu_(), (3, 4), away=0.1),
    *[
        _inplace(f"{n}_", lambda y, n=n: getattr(y, f"{n}_")(), (3, 4), differentiable=False)
        for n in ("sign", "floor", "ceil", "round", "trunc")
    ],
    _inplace("clamp_", lambda y: y.clamp_(-1.0, 1.5), (3, 4)),
    _inplace("clip_", lambda y: y.clip_(min=-1.5), (3, 4)),
    _inplace("clamp_min_", lambda y: y.clamp_min_(0.3), (3, 4)),
    _inplace("clamp_max_", lambda y: y.clamp_max_(0.3), (3, 4)),
    _inplace("nan_to_num_", lambda y: y.nan_to_num_(posinf=9.0), (3, 4)),
    _inplace("lerp_", lambda y, e: y.lerp_(e, 0.3), (3, 4), (4,)),
    _inplace("addcmul_", lambda y, a, b: y.addcmul_(a, b, value=0.5), (3, 4), (3, 4), (4,)),
    _inplace(
        "addcdiv_", lambda y, a, b: y.addcdiv_(a, b, value=0.5), (3, 4), (3, 4), (3, 4), away=0.5
    ),
    _inplace("hypot_", lambda y, o: y.hypot_(o), (3, 4), (3, 4), away=0.3),
    _inplace("atan2_", lambda y, o: y.atan2_(o), (3, 4), (3, 4), away=0.3),
    _inplace("copysign_", lambda y, o: y.copysign_(o), (3, 4), (3, 4), away=0.3),
    # in-place indexing: the index tensors are made from the input, in either library
    _inplace("masked_fill_", lambda y: y.masked_fill_(y > 0, 2.0), (3, 4), away=0.5),
    _inplace("index_add_", lambda y, s: y.index_add_(0, _idx(y, [2, 0]), s), (3, 4), (2, 4)),
    _inplace("index_fill_", lambda y: y.index_fill_(1, _idx(y, [1, 3]), -1.0), (3, 4)),
    _inplace("index_copy_", lambda y, s: y.index_copy_(0, _idx(y, [2, 0]), s), (3, 4), (2, 4)),
    _inplace(
        "scatter_",
        lambda y, s: y.scatter_(0, _idx(y, [[0, 1, 2, 0], [2, 0, 1, 1]]), s),
        (3, 4),
        (2, 4),
    ),
    _inplace(
        "scatter_add_",
        lambda y, s: y.scatter_add_(0, _idx(y, [[0, 1, 2, 0], [0, 0, 1, 0]]), s),
        (3, 4),
        (2, 4),
    ),
    # factory methods: a new tensor of the input's dtype (values, shapes and dtypes as torch's)
    OpSpec("Tensor.new_zeros", *_same(lambda x: x.new_zeros(2, 3)), _normal((2,)), False),
    OpSpec("Tensor.new_ones", *_same(lambda x: x.new_ones((3, 1))), _normal((2,)), False),
    OpSpec("Tensor.new_full", *_same(lambda x: x.new_full((2, 2), 7)), _normal((2,)), False),
    OpSpec(
        "Tensor.new_empty", *_same(lambda x: x.new_empty(2, 3).fill_(0.5)), _normal((2,)), False
    ),
    OpSpec(
        "Tensor.new_tensor", *_same(lambda x: x.new_tensor([[1, 2], [3, 4]])), _normal((2,)), False
    ),
    # methods with their own body
    OpSpec("Tensor.contiguous", *_same(lambda x: x.transpose(0, 1).contiguous()), _normal((2, 3))),
    OpSpec(
        "Tensor.reshape_as",
        *_same(lambda x, y: x.reshape_as(y)),
        _normal((2, 6), (3, 4)),
        grad_inputs_idx=(0,),
    ),
    OpSpec(
        "Tensor.view_as",
        *_same(lambda x, y: x.view_as(y)),
        _normal((2, 6), (4, 3)),
        grad_inputs_idx=(0,),
    ),
    OpSpec(
        "Tensor.expand_as",
        *_same(lambda x, y: x.expand_as(y)),
        _normal((1, 3), (2, 3)),
        grad_inputs_idx=(0,),
    ),
    OpSpec("Tensor.where", *_same(lambda x, y: x.where(x > 0, y)), _normal((3, 4), (3, 4))),
    # transposes and the no-ops of real tensors (conjugation, negation bits)
    OpSpec("Tensor.H", *_same(lambda x: x.H), _normal((2, 3))),
    OpSpec("Tensor.mH", *_same(lambda x: x.mH), _normal((4, 2, 3))),
    OpSpec("Tensor.adjoint", *_same(lambda x: x.adjoint()), _normal((4, 2, 3))),
    OpSpec("Tensor.positive", *_same(lambda x: x.positive() * 2.0), _normal((2, 3))),
    OpSpec("Tensor.conj", *_same(lambda x: x.conj() * 2.0), _normal((2, 3))),
    OpSpec("Tensor.resolve_conj", *_same(lambda x: x.resolve_conj() * 2.0), _normal((2, 3))),
    OpSpec("Tensor.resolve_neg", *_same(lambda x: x.resolve_neg() * 2.0), _normal((2, 3))),
    # dtype conversions (cast): to float64 keeps the gradient; to float32, ints and bool give
    # values only here (ops/shape.py's cast spec checks the float32 gradient)
    OpSpec("Tensor.double", *_same(lambda x: x.double()), _normal((2, 3))),
    OpSpec("Tensor.to", lambda x: x.to("float64"), _torch_to64, _normal((2, 3))),
    OpSpec("Tensor.type", lambda x: x.type("float64"), _torch_type64, _normal((2, 3))),
    OpSpec("Tensor.float", *_same(lambda x: x.float()), _normal((2, 3)), differentiable=False),
    OpSpec("Tensor.long", *_same(lambda x: (x * 3).long()), _normal((2, 3)), differentiable=False),
    OpSpec("Tensor.int", *_same(lambda x: (x * 3).int()), _normal((2, 3)), differentiable=False),
    OpSpec(
        "Tensor.bool", *_same(lambda x: (x > 0.5).bool()), _normal((2, 3)), differentiable=False
    ),
]
