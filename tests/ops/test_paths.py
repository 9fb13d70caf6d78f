"""Every fast path equals its reference: each op in the registry, run on the reference path and
on each fast path (support/paths.py) with the same inputs and the same random cotangent, gives
the same outputs and gradients; and every fast Function in ``neuronet/ops/fast/`` is exercised by
at least one spec, so no fast path goes untested."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import neuronet as nt
import neuronet.ops.fast
from neuronet.autograd import Function
from support.op_specs import OPS
from support.parity import to_nt
from support.paths import FAST_PATHS, on_path, unavailable


def _run(spec, path, dtype, seed=0):
    """Outputs and input gradients (for one random cotangent) of ``spec`` on ``path``."""
    rng = np.random.default_rng(seed)
    raw = spec.make_inputs(rng, dtype)
    wanted = spec.grad_inputs(raw) if spec.differentiable else ()
    with on_path(path):
        inputs = [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]
        out = spec.fn(*inputs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        grads = []
        roots = [o for o in outs if isinstance(o, nt.Tensor) and o.requires_grad]
        if roots:
            cot = [nt.Tensor(rng.standard_normal(o.shape).astype(o.dtype)) for o in roots]
            nt.autograd.run_backward(roots, cot)
            grads = [t.grad for t in inputs if isinstance(t, nt.Tensor) and t.requires_grad]
    values = [o.array if isinstance(o, nt.Tensor) else np.asarray(o) for o in outs]
    return values, [None if g is None else g.array for g in grads]


def _assert_same(fast, ref, dtype, spec, what):
    assert fast.shape == ref.shape and fast.dtype == ref.dtype, what
    if fast.dtype.kind != "f":
        np.testing.assert_array_equal(fast, ref, err_msg=what)
        return
    scale = float(np.nanmax(np.abs(ref), initial=1.0)) if ref.size else 1.0
    if dtype == np.float64:  # different summation orders and algorithms: rounding only
        rtol, atol = 1e-9, 1e-11 * max(1.0, scale)
    else:
        rtol, atol = max(spec.rtol32, 1e-5), max(spec.atol32, 1e-6) * max(1.0, scale)
    np.testing.assert_allclose(fast, ref, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("fast_path", FAST_PATHS)
@pytest.mark.parametrize("spec", OPS, ids=lambda s: s.name)
def test_fast_path_equals_reference(spec, fast_path, dtype):
    reason = unavailable(fast_path)
    if reason:
        pytest.skip(reason)
    ref_out, ref_grads = _run(spec, "reference", dtype)
    fast_out, fast_grads = _run(spec, fast_path, dtype)
    assert len(fast_out) == len(ref_out) and len(fast_grads) == len(ref_grads)
    for k, (a, b) in enumerate(zip(fast_out, ref_out)):
        _assert_same(a, b, dtype, spec, f"{spec.name} output {k} on the {fast_path} path")
    for k, (a, b) in enumerate(zip(fast_grads, ref_grads)):
        assert (a is None) == (b is None), f"{spec.name}: gradient {k} present on one path only"
        if a is not None:
            _assert_same(a, b, dtype, spec, f"{spec.name} gradient {k} on the {fast_path} path")


def _fast_functions() -> list:
    """Every Function subclass defined in neuronet/ops/fast/."""
    found = []
    for info in pkgutil.iter_modules(neuronet.ops.fast.__path__):
        if info.name.endswith("_kernels") or info.name in ("jit", "fastmath"):
            continue  # numba modules: kernels, not Functions
        module = importlib.import_module(f"neuronet.ops.fast.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Function):
                if obj.__module__ == module.__name__:
                    found.append(obj)
    return found


def test_every_fast_function_is_exercised_by_a_spec(monkeypatch):
    """Run every spec on the fast paths and record which Functions apply; each fast Function
    must appear (else add a spec whose inputs take that path)."""
    reason = unavailable("numba")
    if reason:
        pytest.skip(reason)
    applied = set()
    original = Function.apply.__func__

    def recording_apply(cls, *args, **kwargs):
        applied.add(cls)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Function, "apply", classmethod(recording_apply))
    for path in FAST_PATHS:
        for spec in OPS:
            _run(spec, path, np.float64)
    missing = [f"{c.__module__}.{c.__name__}" for c in _fast_functions() if c not in applied]
    assert not missing, f"no op spec takes these fast paths: {missing}"
