"""Every differentiable op in the registry passes float64 gradcheck (random cotangent)."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from support.op_specs import OPS
from support.parity import to_nt

DIFFERENTIABLE = [s for s in OPS if s.differentiable]


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=lambda s: s.name)
def test_gradcheck(spec):
    raw = spec.make_inputs(np.random.default_rng(1), np.float64)
    wanted = spec.grad_inputs(raw)
    inputs = [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]
    assert nt.autograd.gradcheck(spec.fn, inputs, fast=spec.fast_gradcheck)
