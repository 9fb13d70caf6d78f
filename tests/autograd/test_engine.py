"""The backward engine: ordering, accumulation, freeing, hooks, grad modes and errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import neuronet as nt
from neuronet.autograd import Function


def leaf(values, dtype=np.float64):
    return nt.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_reused_node_accumulates():
    x = leaf([2.0, 3.0])
    y = x * x  # used twice below
    z = y * y + y  # d/dx = (2y + 1) * 2x
    nt.autograd.run_backward([z], [nt.tensor(np.ones(2))])
    expected = (2 * np.array([4.0, 9.0]) + 1) * 2 * np.array([2.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_diamond_graph_order():
    x = leaf([1.5])
    a = x * 2.0
    b = x * 3.0
    c = a * b  # 6 x^2 -> 12 x
    c.backward(nt.tensor(np.ones(1)))
    np.testing.assert_allclose(x.grad.numpy(), [18.0])


def test_deep_chain_of_10000_ops_no_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward(nt.tensor(np.ones(1)))
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000], rtol=1e-9)


def test_saved_arrays_released_after_backward():
    x = leaf(np.random.default_rng(0).standard_normal(1000))
    h = x * 2.0
    y = h * h  # Mul saves h's array
    saved = weakref.ref(h.array)
    del h
    gc.collect()
    assert saved() is not None  # kept alive by the graph
    y.backward(nt.tensor(np.ones(1000)))
    gc.collect()
    assert saved() is None, "the graph still holds the saved activation after backward"


def test_retain_graph_allows_second_backward_and_accumulates():
    x = leaf([3.0])
    y = x * x
    y.backward(nt.tensor([1.0]), retain_graph=True)
    y.backward(nt.tensor([1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [12.0])


def test_second_backward_through_freed_graph_is_clear_error():
    x = leaf([3.0])
    y = x * x
    y.backward(nt.tensor([1.0]))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward(nt.tensor([1.0]))


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs, got shape \(2,\)"):
        (x * 2.0).backward()


def test_backward_gradient_shape_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2,\)"):
        (x * 2.0).backward(nt.tensor(np.ones(3)))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        nt.tensor([1.0]).backward()


def test_int_tensor_cannot_require_grad():
    with pytest.raises(RuntimeError, match=r"only floating-point tensors.*int64.*\.float\(\)"):
        nt.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating-point"):
        nt.tensor([1, 2]).requires_grad_()


def test_no_grad_records_nothing_and_decorator_form():
    x = leaf([1.0])
    with nt.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.grad_fn is None

    @nt.no_grad()
    def f(t):
        return t * 3.0

    assert not f(x).requires_grad
    with nt.no_grad():
        with nt.enable_grad():
            assert (x * 2.0).requires_grad
    with nt.set_grad_enabled(False):
        assert not nt.is_grad_enabled()
    assert nt.is_grad_enabled()


def test_inplace_on_requires_grad_raises_but_allowed_under_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(
        RuntimeError,
        match=r"leaf Variable that requires grad .*in-place operation \(add_ .*no_grad",
    ):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="in-place"):
        w *= 2.0
    with nt.no_grad():
        w.sub_(nt.tensor([0.5, 0.5], dtype="float64"))
        w[0] = 7.0
    np.testing.assert_allclose(w.array, [7.0, 1.5])


def test_inplace_change_of_saved_tensor_detected_at_backward():
    w = leaf([1.0, 2.0])
    x = nt.tensor(np.array([3.0, 4.0]))  # no grad, but Mul saves it
    y = w * x
    x.add_(1.0)
    with pytest.raises(
        RuntimeError, match=r"modified by an inplace operation.*is at version 1; expected version 0"
    ):
        y.backward(nt.tensor(np.ones(2)))


def test_hooks_on_leaf_and_intermediate():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3.0
    h.register_hook(lambda g: g * 10.0)  # replaces the gradient flowing into h's producer
    y = h * 1.0
    y.backward(nt.tensor(np.ones(2)))
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    np.testing.assert_allclose(seen[0], [30.0, 30.0])


def test_hook_handle_remove():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 0.0)
    handle.remove()
    (x * 2.0).backward(nt.tensor([1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0])


def test_retain_grad_keeps_intermediate_gradient():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    (h * h).backward(nt.tensor(np.ones(2)))
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])


def test_autograd_grad_leaves_grad_untouched():
    x = leaf([2.0])
    h = x * x
    y = h * 3.0
    gx, gh = nt.autograd.grad(y, [x, h], grad_outputs=nt.tensor([1.0], dtype="float64"))
    np.testing.assert_allclose(gx.numpy(), [12.0])
    np.testing.assert_allclose(gh.numpy(), [3.0])
    assert x.grad is None


def test_autograd_grad_unused_input():
    x = leaf([2.0])
    z = leaf([1.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match="not used"):
        nt.autograd.grad(y, [z], grad_outputs=[nt.tensor([1.0], dtype="float64")])
    y = x * 2.0
    (g,) = nt.autograd.grad(
        y, [z], grad_outputs=[nt.tensor([1.0], dtype="float64")], allow_unused=True
    )
    assert g is None


def test_leaf_grads_do_not_alias_each_other():
    a = leaf([1.0])
    b = leaf([1.0])
    (a + b).backward(nt.tensor([1.0], dtype="float64"))
    assert not np.shares_memory(a.grad.array, b.grad.array)


def test_float32_stays_float32():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.0 + 1 - x / 3.0) ** 2
    assert y.dtype == np.float32
    y.backward(nt.ones(2))
    assert x.grad.dtype == np.float32


class Square(Function):
    """y = x**2;  dL/dx = dL/dy * 2x.  Saves: x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * 2 * x,)


class BrokenSquare(Square):
    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved
        return (grad_out * 3 * x,)


def test_user_function_and_gradcheck():
    x = leaf([0.3, -1.2, 2.0])
    assert nt.gradcheck(Square.apply, (x,))


def test_gradcheck_catches_a_wrong_backward():
    x = leaf([0.3, -1.2, 2.0])
    with pytest.raises(nt.autograd.GradcheckError, match=r"input 0 .* at index \(\d,\)"):
        nt.gradcheck(BrokenSquare.apply, (x,))


def test_gradcheck_requires_float64():
    with pytest.raises(nt.autograd.GradcheckError, match="float64"):
        nt.gradcheck(Square.apply, (nt.tensor([1.0], requires_grad=True),))


def test_detect_anomaly_names_the_op():
    class NaNGrad(Square):
        @staticmethod
        def backward(ctx, grad_out):
            return (grad_out * np.nan,)

    x = leaf([1.0])
    y = NaNGrad.apply(x) * 1.0
    with nt.detect_anomaly():
        with pytest.raises(RuntimeError, match="NaNGrad.backward produced NaN"):
            y.backward(nt.tensor([1.0], dtype="float64"))
