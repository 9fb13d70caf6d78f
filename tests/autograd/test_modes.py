"""Grad mode and the anomaly flag are per thread; inference_mode; what autograd.grad refuses."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuronet as nt
from neuronet.autograd.engine import ANOMALY


def _in_thread(fn):
    result = {}

    def run():
        result["value"] = fn()

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return result["value"]


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def evaluator():
        with nt.no_grad():
            seen["other"] = nt.is_grad_enabled()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=evaluator)
    t.start()
    assert inside.wait(5)
    y = x * 3  # recorded here while the other thread sits inside no_grad
    release.set()
    t.join()
    assert seen["other"] is False
    assert nt.is_grad_enabled() and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_every_new_thread_starts_with_grad_enabled_and_anomaly_off():
    with nt.no_grad(), nt.detect_anomaly():
        assert not nt.is_grad_enabled() and ANOMALY.enabled
        assert _in_thread(lambda: (nt.is_grad_enabled(), ANOMALY.enabled)) == (True, False)


def test_inference_mode_as_torch(torch):
    x = nt.tensor([1.0], requires_grad=True)
    with nt.inference_mode():
        assert nt.is_inference_mode_enabled() and not nt.is_grad_enabled()
        assert not (x * 2).requires_grad
    with nt.inference_mode(False):
        assert (x * 2).requires_grad
    with nt.no_grad():
        assert not nt.is_inference_mode_enabled()  # as torch: no_grad is not inference mode
    with torch.no_grad():
        assert not torch.is_inference_mode_enabled()

    @nt.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(x).requires_grad and nt.is_grad_enabled()


def _grad_mode_script(lib) -> list:
    """The grad mode at each point of a script using set_grad_enabled every way PyTorch allows."""
    seen = []
    try:
        lib.set_grad_enabled(False)  # a plain call sets the mode from here on
        seen.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        seen.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())

        @lib.set_grad_enabled(False)  # a decorator leaves the mode alone until called
        def inside():
            return lib.is_grad_enabled()

        seen += [lib.is_grad_enabled(), inside(), lib.is_grad_enabled()]
        with lib.no_grad():
            with lib.set_grad_enabled(True):
                seen.append(lib.is_grad_enabled())
            seen.append(lib.is_grad_enabled())
            no_grad = lib.no_grad()  # made, not entered: nothing changes
            seen.append(lib.is_grad_enabled())
            with no_grad:
                seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    finally:
        lib.set_grad_enabled(True)
    return seen


def test_set_grad_enabled_as_torch_called_alone_in_with_and_as_decorator(torch):
    ours = _grad_mode_script(nt)
    assert ours == _grad_mode_script(torch)
    assert ours == [False, True, False, True, True, False, True, True, False, False, False, True]


def test_create_graph_says_plainly_it_is_not_supported():
    x = nt.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(NotImplementedError, match=r"higher-order gradients.*finite difference"):
        nt.autograd.grad(y, x, create_graph=True)
    with pytest.raises(NotImplementedError, match="Tensor.backward"):
        y.backward(create_graph=True)


def test_grad_materialize_and_backward_inputs(torch):
    a = nt.tensor([1.0, 2.0], requires_grad=True)
    b = nt.tensor([3.0], requires_grad=True)
    (ga, gb) = nt.autograd.grad((a * 2).sum(), (a, b), materialize_grads=True)
    np.testing.assert_array_equal(gb.numpy(), [0.0])
    (a.sum() * b).sum().backward(inputs=[b])
    assert a.grad is None
    np.testing.assert_array_equal(b.grad.numpy(), [3.0])


def test_graph_nodes_print_and_link_like_torchs():
    x = nt.tensor([1.0], requires_grad=True)
    loss = ((x * 2) + 1).sum()
    assert repr(loss.grad_fn) == "<SumBackward>"
    add = loss.grad_fn.next_functions[0][0]
    assert add.name() == "AddBackward"
    mul = add.next_functions[0][0]
    assert mul.name() == "MulBackward"
    assert mul.next_functions[0][0].variable is x
