"""Property tests (hypothesis): broadcasting binary ops and reductions against NumPy.

For random broadcastable shape pairs, add/sub/mul/div/maximum must equal NumPy's result, and
their gradients must have the input shapes and equal an independent reference: the output
cotangent times the local derivative, accumulated onto each input element with ``np.add.at``
through the broadcast index map (not the ``unbroadcast`` sum the ops use). Reductions over
random dims with random keepdim must equal NumPy and send back gradients of the input's shape.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import neuronet as nt

SETTINGS = settings(max_examples=40, deadline=None)
SHAPES = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)

# op -> (neuronet fn, numpy fn, d out/d a, d out/d b)
BINARY = {
    "add": (nt.add, np.add, lambda a, b: np.ones_like(a + b), lambda a, b: np.ones_like(a + b)),
    "sub": (
        nt.sub,
        np.subtract,
        lambda a, b: np.ones_like(a + b),
        lambda a, b: -np.ones_like(a + b),
    ),
    "mul": (nt.mul, np.multiply, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (nt.div, np.divide, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / (b * b)),
    "maximum": (
        nt.maximum,
        np.maximum,
        lambda a, b: (a > b) + 0.0 * b,
        lambda a, b: (b > a) + 0.0 * a,
    ),
}


def _reference_grad(local: np.ndarray, cot: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum of cot * local over every output element that reads each input element."""
    owner = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), cot.shape)
    grad = np.zeros(int(np.prod(shape)))
    np.add.at(grad, owner.ravel(), (cot * local).ravel())
    return grad.reshape(shape)


@SETTINGS
@given(shapes=SHAPES, name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcasting_binary_ops_match_numpy(shapes, name, seed):
    fn, np_fn, d_a, d_b = BINARY[name]
    (shape_a, shape_b), out_shape = shapes
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a)
    b = rng.standard_normal(shape_b) + np.where(rng.random(shape_b) > 0.5, 2.0, -2.0)
    ta = nt.tensor(a, requires_grad=True)
    tb = nt.tensor(b, requires_grad=True)
    out = fn(ta, tb)
    assert out.shape == out_shape
    np.testing.assert_allclose(out.array, np_fn(a, b), rtol=1e-12)
    cot = rng.standard_normal(out_shape)
    out.backward(nt.tensor(cot))
    assert ta.grad.shape == shape_a and tb.grad.shape == shape_b
    local_a = np.broadcast_to(d_a(a, b), out_shape)
    local_b = np.broadcast_to(d_b(a, b), out_shape)
    np.testing.assert_allclose(ta.grad.array, _reference_grad(local_a, cot, shape_a), atol=1e-10)
    np.testing.assert_allclose(tb.grad.array, _reference_grad(local_b, cot, shape_b), atol=1e-10)


@st.composite
def _reduction_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    ndim = len(shape)
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda d: d % ndim, max_size=ndim))
    dim = None if not axes else (axes[0] if len(axes) == 1 and draw(st.booleans()) else tuple(axes))
    return shape, dim, draw(st.booleans()), draw(st.integers(0, 2**16))


def _np_axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


REDUCTIONS = {
    "sum": (lambda x, d, k: nt.sum(x, d, k), lambda x, d, k: np.sum(x, d, keepdims=k)),
    "mean": (lambda x, d, k: nt.mean(x, d, k), lambda x, d, k: np.mean(x, d, keepdims=k)),
    "prod": (lambda x, d, k: nt.prod(x, d, k), lambda x, d, k: np.prod(x, d, keepdims=k)),
    "amax": (
        lambda x, d, k: nt.amax(x, () if d is None else d, k),
        lambda x, d, k: np.max(x, d, keepdims=k),
    ),
    "amin": (
        lambda x, d, k: nt.amin(x, () if d is None else d, k),
        lambda x, d, k: np.min(x, d, keepdims=k),
    ),
    "var": (
        lambda x, d, k: nt.var(x, d, correction=0, keepdim=k),
        lambda x, d, k: np.var(x, d, keepdims=k),
    ),
    "std": (
        lambda x, d, k: nt.std(x, d, correction=0, keepdim=k),
        lambda x, d, k: np.std(x, d, keepdims=k),
    ),
    "logsumexp": (
        lambda x, d, k: nt.logsumexp(x, d, k),
        lambda x, d, k: np.log(np.sum(np.exp(x), d, keepdims=k)),
    ),
    "norm": (
        lambda x, d, k: nt.norm(x, 2, d, k),
        lambda x, d, k: np.sqrt(np.sum(x * x, d, keepdims=k)),
    ),
}


@SETTINGS
@given(case=_reduction_case(), name=st.sampled_from(sorted(REDUCTIONS)))
def test_reductions_match_numpy(case, name):
    shape, dim, keepdim, seed = case
    ours_fn, np_fn = REDUCTIONS[name]
    x = np.random.default_rng(seed).standard_normal(shape) + 0.1
    t = nt.tensor(x, requires_grad=True)
    out = ours_fn(t, dim, keepdim)
    expected = np.asarray(np_fn(x, _np_axis(dim), keepdim))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.array, expected, rtol=1e-10, atol=1e-12)
    out.backward(nt.ones_like(out))
    assert t.grad.shape == shape and np.isfinite(t.grad.array).all()
    if name == "sum":
        np.testing.assert_array_equal(t.grad.array, np.ones(shape))
