"""Every differentiable op in the registry passes float64 gradcheck, element by element, on every
implementation path; and the element-wise check catches what a one-direction check misses."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.autograd import Function
from neuronet.autograd.gradcheck import GradcheckError
from support.op_specs import OPS
from support.parity import to_nt

DIFFERENTIABLE = [s for s in OPS if s.differentiable]


def _tensors(spec, raw):
    wanted = spec.grad_inputs(raw)
    return [to_nt(a, requires_grad=i in wanted) for i, a in enumerate(raw)]


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=lambda s: s.name)
def test_gradcheck(spec, path):
    inputs = _tensors(spec, spec.make_gradcheck_inputs(np.random.default_rng(1)))
    assert nt.autograd.gradcheck(spec.fn, inputs)
    if spec.fast_gradcheck:  # the large case too, along one random direction
        big = _tensors(spec, spec.make_inputs(np.random.default_rng(1), np.float64))
        assert nt.autograd.gradcheck(spec.fn, big, fast=True)


class _ScaleWithOneWrongElement(Function):
    """y = 2 x;  dL/dx = 2 dL/dy, except at element (17, 40), where backward is 0.5% too large."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad_out):
        grad_x = 2.0 * grad_out
        grad_x[17, 40] *= 1.005
        return (grad_x,)


def test_elementwise_check_catches_an_error_one_direction_misses():
    """A backward wrong at one element of a 64x64 input: the random-direction check sums 4,096
    products, and that element's error hides in its tolerance (1e-3 of a sum of size ~100); the
    element-wise check compares the element alone."""
    x = nt.tensor(np.random.default_rng(0).standard_normal((64, 64)), requires_grad=True)
    assert nt.autograd.gradcheck(_ScaleWithOneWrongElement.apply, [x], fast=True)
    with pytest.raises(GradcheckError, match=r"at index \(17, 40\)"):
        nt.autograd.gradcheck(_ScaleWithOneWrongElement.apply, [x])
