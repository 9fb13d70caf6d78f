"""Post-accumulate-grad hooks: called on a leaf as soon as its gradient is complete, during the
backward pass (what data-parallel training overlaps its communication with), as PyTorch does."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn


def leaf(values):
    return nt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_hook_sees_the_accumulated_grad_and_runs_before_the_pass_ends():
    """In a two-layer chain the last layer's weight is complete long before the first layer's:
    its hook must run while the first layer's gradient has not been written yet."""
    rng = np.random.default_rng(0)
    first = nn.Linear(3, 4).double()
    second = nn.Linear(4, 2).double()
    x = nt.tensor(rng.standard_normal((5, 3)))
    seen = []

    def hook(p):
        seen.append((p, p.grad.array.copy(), first.weight.grad is None))

    second.weight.register_post_accumulate_grad_hook(hook)
    first.weight.register_post_accumulate_grad_hook(hook)
    second(first(x).tanh()).sum().backward()
    assert [s[0] is second.weight for s in seen] == [True, False]
    assert seen[0][2] is True  # first.weight.grad not written yet when second's hook ran
    np.testing.assert_array_equal(seen[0][1], second.weight.grad.array)
    np.testing.assert_array_equal(seen[1][1], first.weight.grad.array)


def test_leaf_used_twice_fires_once_with_the_full_sum():
    x = leaf([2.0, 3.0])
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.array.copy()))
    y = x * x  # x feeds one node twice
    z = (y + x * 3.0).sum()  # and another node once
    z.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * np.array([2.0, 3.0]) + 3.0)


def test_hook_accumulates_onto_an_existing_grad():
    x = leaf([1.0, -1.0])
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.array.copy()))
    (x * 2.0).sum().backward()
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(calls[1], [7.0, 7.0])


def test_leaf_reached_through_a_branch_without_gradient_still_fires():
    """A node that gets no gradient (its output is unused) still counts as arrived."""
    x = leaf([1.0, 2.0])
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.array.copy()))
    a = x * 2.0
    _unused = x * 7.0  # noqa: F841 (a second consumer of x, outside the loss)
    a.sum().backward()
    np.testing.assert_allclose(calls, [[2.0, 2.0]])


def test_not_called_by_autograd_grad_and_removable():
    x = leaf([1.0])
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    nt.autograd.grad((x * 2.0).sum(), x)
    assert calls == [] and x.grad is None
    handle.remove()
    (x * 2.0).sum().backward()
    assert calls == []


def test_non_leaf_and_no_grad_tensors_are_refused():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        nt.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)


def test_matches_torch_call_order(torch):
    """Same graph in both: the hooks fire for the same leaves, in the same order."""
    rng = np.random.default_rng(1)
    w = [rng.standard_normal((3, 3)) for _ in range(3)]
    x = rng.standard_normal((2, 3))
    ours = [nt.tensor(a, requires_grad=True) for a in w]
    theirs = [torch.tensor(a, requires_grad=True) for a in w]
    order_ours, order_theirs = [], []
    for i, (a, b) in enumerate(zip(ours, theirs)):
        a.register_post_accumulate_grad_hook(lambda t, i=i: order_ours.append(i))
        b.register_post_accumulate_grad_hook(lambda t, i=i: order_theirs.append(i))
    h = nt.tensor(x)
    ht = torch.tensor(x)
    for a, b in zip(ours, theirs):
        h = (h @ a).tanh()
        ht = (ht @ b).tanh()
    h.sum().backward()
    ht.sum().backward()
    assert order_ours == order_theirs == [2, 1, 0]
