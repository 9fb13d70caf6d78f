"""float32 stays float32 inside every primitive op: forward outputs and every gradient a
backward returns (before the engine would cast it back) keep the input's dtype."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.autograd import engine
from support.parity import to_nt
from support.specs import activation, indexing, matmul, reduction, shape, unary

SPECS = [
    s
    for module in (unary, activation, reduction, shape, indexing, matmul)
    for s in module.SPECS
    if s.differentiable and s.name != "cast"  # cast changes the dtype on purpose
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_no_float64_creep(spec, monkeypatch):
    original = engine._call_backward
    seen = []

    def checked(ctx, grads):
        result = original(ctx, grads)
        for t, g in zip(ctx.inputs, result):
            if t is not None and g is not None:
                name = ctx.fn.__name__
                assert g.dtype == t.dtype, f"{name}.backward gave {g.dtype} for {t.dtype}"
                seen.append(ctx.fn.__name__)
        return result

    monkeypatch.setattr(engine, "_call_backward", checked)
    raw = spec.make_inputs(np.random.default_rng(0), np.float32)
    wanted = spec.grad_inputs(raw)
    inputs = [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]
    out = spec.fn(*inputs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    for o in outs:
        assert o.dtype == np.float32, f"{spec.name} forward gave {o.dtype}"
    nt.autograd.run_backward(outs, [nt.ones_like(o) for o in outs])
    assert seen, f"{spec.name}: no backward ran"
