"""Meta-tests: everything public is registered for gradcheck/parity, every op states its
derivative, every alias is the canonical object, and every layer has a test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import neuronet.functional as F
import neuronet.ops
from neuronet import nn, optim
from neuronet.autograd import Function
from support.op_specs import OPS

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
