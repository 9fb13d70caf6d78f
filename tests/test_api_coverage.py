"""Meta-tests: everything public is registered for gradcheck/parity (functional ops and every
Tensor form: operators, reflected and in-place forms, methods), each spec really calls what it
names, every op states its derivative, every alias is the canonical object, and every layer has
a test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import numpy as np
import pytest

import neuronet.functional as F
import neuronet.ops
from neuronet import Tensor, nn, optim
from neuronet.autograd import Function
from support.op_specs import OPS
from support.parity import to_nt

TESTS = Path(__file__).parent


def _public_functional() -> list:
    return sorted(
        name
        for name in dir(F)
        if not name.startswith("_")
        and callable(getattr(F, name))
        and getattr(getattr(F, name), "__module__", "").startswith("neuronet.ops")
    )


def test_every_functional_op_has_an_opspec():
    covered = {name for spec in OPS for name in spec.names}
    missing = [name for name in _public_functional() if name not in covered]
    assert not missing, f"add OpSpec entries in tests/support/specs/ for: {missing}"


# ---- Tensor forms ----------------------------------------------------------------------------
# Tensor attributes that are not ops: conversion to Python or NumPy, autograd plumbing, metadata
# (tests/autograd covers them).
NOT_OPS = {
    "__array_ufunc__", "__bool__", "__float__", "__int__", "__index__", "__len__", "__hash__",
    "__repr__", "__init__", "__init_subclass__", "__subclasshook__", "__class__",
    "array", "backward", "data", "detach", "device", "dim", "dtype", "grad", "grad_fn", "is_leaf",
    "item", "ndim", "numel", "numpy", "register_hook", "requires_grad", "requires_grad_",
    "register_post_accumulate_grad_hook",
    "retain_grad", "shape", "size", "tolist", "cpu",
    "__array__", "__array_function__", "detach_", "element_size", "is_floating_point",
    "nelement", "retains_grad",
    "cuda", "half", "bfloat16",  # devices and dtypes neuronet does not have: they raise
    "uniform_", "normal_", "multinomial",  # random draws, no gradient (tests/test_sampling.py)
}  # fmt: skip


def _static(name):
    attr = inspect.getattr_static(Tensor, name)
    return attr.fget if isinstance(attr, property) else attr


def _tensor_forms() -> list:
    """Tensor's public attributes and operators, each its own object (not object's)."""
    names = []
    for name in dir(Tensor):
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
            continue
        if name in NOT_OPS or name in (
            "__dict__",
            "__module__",
            "__doc__",
            "__weakref__",
            "__slots__",
        ):
            continue
        attr = _static(name)
        if attr is getattr(object, name, None) or not callable(attr):
            continue  # object's own, or data (e.g. __slotnames__, set by copy/pickle)
        names.append(name)
    return names


def _resolve(name: str):
    """("function", fn) for a neuronet.functional name, ("tensor", attribute) for a Tensor form:
    "Tensor.<attribute>", or a name that functional lacks ("T", "__getitem__", "getitem")."""
    if name.startswith("Tensor."):
        attr = name[len("Tensor.") :]
    elif callable(getattr(F, name, None)):
        return "function", getattr(F, name)
    else:
        attr = name if hasattr(Tensor, name) else f"__{name}__"
    if not hasattr(Tensor, attr):
        raise AssertionError(f"spec name {name!r} names no neuronet.functional op or Tensor form")
    return "tensor", attr


def test_every_tensor_form_has_a_spec():
    """A Tensor method that is the functional op itself (Tensor.exp is F.exp) is covered by that
    op's spec; every other form (x.add_, 2 - x, x.view_as(y), x += y, ...) needs its own."""
    functional = {id(getattr(F, n)) for n in dir(F) if not n.startswith("_")}
    named = {_resolve(n)[1] for spec in OPS for n in spec.names if _resolve(n)[0] == "tensor"}
    missing = [
        name
        for name in _tensor_forms()
        if id(_static(name)) not in functional and name not in named
    ]
    assert not missing, (
        f"add OpSpec entries named 'Tensor.<form>' (tests/support/specs/tensor_methods.py) for "
        f"these Tensor forms: {missing}"
    )


class _CallRecorder:
    """Which functions ran (sys.setprofile), told apart by code object and, for closures, by
    the objects they close over (every reflected operator shares one code object)."""

    def __init__(self):
        self.seen = set()

    @staticmethod
    def key_of(fn) -> tuple:
        cells = tuple(id(c.cell_contents) for c in (fn.__closure__ or ()))
        return fn.__code__, cells

    def __call__(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if code.co_freevars:
            local = frame.f_locals
            self.seen.add((code, tuple(id(local.get(n)) for n in code.co_freevars)))
        else:
            self.seen.add((code, ()))


def _spec_inputs(spec):
    raw = spec.make_inputs(np.random.default_rng(0), np.float64)
    wanted = spec.grad_inputs(raw) if spec.differentiable else ()
    return [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]


@pytest.mark.parametrize("spec", OPS, ids=lambda s: s.name)
def test_every_spec_calls_what_it_names(spec, monkeypatch):
    """Each name a spec registers (its name and ``covers``) is really called when the spec runs:
    functional ops by their code (however they are reached), Tensor forms through the class
    attribute itself (``x + y`` must go through ``Tensor.__add__``)."""
    targets = {name: _resolve(name) for name in spec.names}
    called = set()
    for name, (kind, attr) in targets.items():
        if kind != "tensor":
            continue
        original = inspect.getattr_static(Tensor, attr)

        def recording(fn, name=name):
            def wrapper(*args, **kwargs):
                called.add(name)
                return fn(*args, **kwargs)

            return wrapper

        if isinstance(original, property):
            monkeypatch.setattr(Tensor, attr, property(recording(original.fget)))
        else:
            monkeypatch.setattr(Tensor, attr, recording(original))
    inputs = _spec_inputs(spec)
    recorder = _CallRecorder()
    sys.setprofile(recorder)
    try:
        spec.fn(*inputs)
    finally:
        sys.setprofile(None)
    for name, (kind, target) in targets.items():
        if kind == "function" and _CallRecorder.key_of(target) in recorder.seen:
            called.add(name)
    missing = sorted(set(targets) - called)
    assert not missing, f"spec {spec.name!r} registers {missing} but never calls them"


def _functions():
    for info in pkgutil.iter_modules(neuronet.ops.__path__):
        module = importlib.import_module(f"neuronet.ops.{info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Function)
                and obj.__module__ == module.__name__
                and "backward" in vars(obj)
            ):
                yield f"{module.__name__}.{name}", obj


def test_every_function_docstring_states_its_derivative():
    missing = [name for name, fn in _functions() if "dL/d" not in (fn.__doc__ or "")]
    assert not missing, f"these Function classes lack a 'dL/d...' line in the docstring: {missing}"


ALIASES = [
    (nn.Dense, nn.Linear),
    (nn.Swish, nn.SiLU),
    (nn.MAELoss, nn.L1Loss),
]


@pytest.mark.parametrize("alias, canonical", ALIASES, ids=lambda c: c.__name__)
def test_aliases_are_the_canonical_objects(alias, canonical):
    assert alias is canonical


def test_every_layer_is_named_in_a_test():
    text = "".join(p.read_text() for p in (TESTS / "nn").glob("*.py"))
    text += "".join(p.read_text() for p in (TESTS / "models").glob("*.py"))
    layers = sorted(
        name
        for name in dir(nn)
        if inspect.isclass(getattr(nn, name))
        and issubclass(getattr(nn, name), nn.Module)
        and not name.endswith("Base")
    )
    missing = [name for name in layers if name not in text]
    assert not missing, f"no test in tests/nn mentions these layers: {missing}"


def test_every_optimizer_and_scheduler_is_named_in_a_test():
    text = "".join(p.read_text() for p in (TESTS / "optim").glob("*.py"))
    names = [n for n in dir(optim) if inspect.isclass(getattr(optim, n))]
    names += [n for n in dir(optim.lr_scheduler) if inspect.isclass(getattr(optim.lr_scheduler, n))]
    missing = [n for n in names if n not in text and not n.startswith("_")]
    assert not missing, f"no test in tests/optim mentions: {missing}"
