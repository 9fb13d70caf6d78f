"""Module.register_full_backward_hook / register_full_backward_pre_hook against torch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn


def _gated(lib_nn):
    class Gated(lib_nn.Module):
        """forward(x, y, scale): two tensor inputs and a number; returns two tensors."""

        def __init__(self):
            super().__init__()
            self.lin = lib_nn.Linear(3, 3)

        def forward(self, x, y, scale):
            h = self.lin(x) * y
            return h * scale, h.sum(dim=1)

    return Gated()


def _run(lib, lib_nn, y_grad: bool, replace: bool):
    model = _gated(lib_nn)
    with lib.no_grad():
        model.lin.weight.copy_(lib.tensor(np.arange(9.0, dtype=np.float32).reshape(3, 3) / 10))
        model.lin.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"] = [None if g is None else g.detach().numpy().copy() for g in grad_input]
        seen["out"] = [None if g is None else g.detach().numpy().copy() for g in grad_output]
        if replace:
            return tuple(None if g is None else g * -2 for g in grad_input)

    def pre(module, grad_output):
        seen["pre"] = [None if g is None else g.detach().numpy().copy() for g in grad_output]
        if replace:
            return (grad_output[0] * 10, grad_output[1])

    handles = [model.register_full_backward_hook(hook), model.register_full_backward_pre_hook(pre)]
    x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = lib.tensor(np.linspace(0.5, 2, 6, dtype=np.float32).reshape(2, 3), requires_grad=y_grad)
    a, b = model(x, y, 1.5)
    (a.sum() + (b * lib.tensor([1.0, 3.0])).sum()).backward()
    seen["x.grad"] = x.grad.numpy().copy()
    seen["y.grad"] = None if y.grad is None else y.grad.numpy().copy()
    for h in handles:
        h.remove()
    x.grad = None
    a, b = model(x, y, 1.5)
    a.sum().backward()
    seen["after remove"] = x.grad.numpy().copy()
    return seen


@pytest.mark.parametrize("y_grad", [True, False])
@pytest.mark.parametrize("replace", [False, True])
def test_backward_hooks_see_and_replace_what_torchs_do(y_grad, replace, torch):
    ours = _run(nt, nn, y_grad, replace)
    theirs = _run(torch, torch.nn, y_grad, replace)
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        if isinstance(a, list):
            assert [v is None for v in a] == [v is None for v in b], key
            for u, v in zip(a, b):
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6, err_msg=key)
        elif a is None or b is None:
            assert a is b, key
        else:
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=key)


def test_without_input_gradients_the_hook_runs_with_none(torch):
    for lib, lib_nn in ((nt, nn), (torch, torch.nn)):
        lin = lib_nn.Linear(3, 2)
        calls = []

        def hook(module, grad_input, grad_output, calls=calls):
            calls.append((grad_input, grad_output[0].shape))

        lin.register_full_backward_hook(hook)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch says the hook fires at the outputs
            lin(lib.ones(4, 3)).sum().backward()
        assert len(calls) == 1 and calls[0][0] == (None,) and tuple(calls[0][1]) == (4, 2)


def test_a_module_called_twice_reports_twice_and_lstm_outputs_pair_is_none(torch):
    lin = nn.Linear(2, 2)
    calls = []
    lin.register_full_backward_hook(lambda m, gi, go: calls.append(gi[0].shape))
    x = nt.ones(3, 2, requires_grad=True)
    lin(lin(x)).sum().backward()
    assert calls == [(3, 2), (3, 2)]
    lstm = nn.LSTM(2, 4, batch_first=True)
    seen = []
    lstm.register_full_backward_hook(lambda m, gi, go: seen.append([g is None for g in go]))
    out, _ = lstm(nt.ones(1, 5, 2, requires_grad=True))
    out.sum().backward()
    assert seen == [[False, True]]  # (output, (h, c)): the pair is not a tensor


def test_a_hook_returning_the_wrong_number_of_gradients_is_told_so():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(
        ValueError, match="Linear: a backward hook returned 2 gradients, expected 1"
    ):
        lin(nt.ones(1, 2, requires_grad=True)).sum().backward()


def test_no_hook_machinery_under_no_grad():
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    with nt.no_grad():
        assert lin(nt.ones(1, 2)).grad_fn is None
