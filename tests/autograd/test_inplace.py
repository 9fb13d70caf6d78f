"""In-place ops under autograd: PyTorch's rules, version counters, views, and exact gradients.

The same programs run on neuronet and on torch 2.13 (``lib`` is either module); gradients and
error messages are compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt


def _add_then_mul(lib, x):
    y = x * 2
    y += 1
    y *= x
    return (y * y).sum()


def _setitem(lib, x):
    y = x * 2
    y[0] = 0
    y[1, 1:3] = x[2, :2] * 3
    return (y * y.exp()).sum()


def _view_of_intermediate(lib, x):
    w = x * 2
    z = w[1:]
    z.mul_(3)
    return (w**2).sum()


def _stale_view(lib, x):
    w = x * 2
    v1 = w[:, 1:3]
    v2 = w[:, 2:]  # made before v1 changes w: sees the change, and its gradient must too
    v1.mul_(x[:, :2])
    return (v2 * v2).sum() + w.sum()


def _fill_a_buffer(lib, x):
    buf = lib.zeros(3, 4, dtype=lib.float64)
    buf[0] = x[0] * 2
    buf[1:].copy_(x[1:].sin())
    return (buf * buf).sum()


def _transposed_view(lib, x):
    y = x * 1.5
    y.t().add_(x.t() * x.t())
    return (y * y).sum()


def _flat_strided_view(lib, x):
    y = x * 2
    y.view(12)[::2].sub_(x.view(12)[1::2] ** 2)
    return (y**3).sum()


def _fill_and_zero(lib, x):
    y = x * 3
    y[:, 0].fill_(2.0)
    z = x.exp()
    z = z * 1
    z.zero_()
    return (y * x).sum() + (z + x).sum()


def _div_and_pow(lib, x):
    y = x + 2
    y /= x + 3
    y.pow_(2)
    y.sub_(x, alpha=0.5)
    return y.sum()


PROGRAMS = [
    _add_then_mul,
    _setitem,
    _view_of_intermediate,
    _stale_view,
    _fill_a_buffer,
    _transposed_view,
    _flat_strided_view,
    _fill_and_zero,
    _div_and_pow,
]


@pytest.fixture
def x0():
    return np.random.default_rng(3).uniform(0.5, 1.5, size=(3, 4))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_inplace_gradient_matches_torch(program, x0, torch):
    x = nt.tensor(x0, requires_grad=True)
    loss = program(nt, x)
    loss.backward()
    tx = torch.tensor(x0, requires_grad=True)
    tloss = program(torch, tx)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_inplace_gradient_passes_gradcheck(program, x0):
    x = nt.tensor(x0, requires_grad=True)
    assert nt.gradcheck(lambda t: program(nt, t), (x,))


def test_rebased_tensor_gets_the_new_node_and_old_consumers_keep_theirs():
    x = nt.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = x * 2
    before = y * 10  # consumed y before the change: d/dx = 20
    y += 1
    assert y.grad_fn.name() == "AddBackward" and not y.is_leaf
    (before.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [22.0, 22.0])


def test_base_of_a_changed_view_gets_putat_node(torch):
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = x * 2
    w[1:].mul_(3)
    assert w.grad_fn.name() == "PutAtBackward"  # torch: CopySlices
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tw = tx * 2
    tw[1:].mul_(3)
    assert type(tw.grad_fn).__name__ == "CopySlices"


def test_buffer_filled_from_a_requires_grad_value_joins_the_graph():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    buf = nt.zeros(3)
    buf[1:] = x * 2
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_leaf_that_requires_grad_rejects_inplace_like_torch(torch):
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda t: t.add_(1), lambda t: t[0:1].mul_(2)):
        with pytest.raises(RuntimeError) as theirs:
            change(tx)
        with pytest.raises(RuntimeError) as ours:
            change(x)
        assert str(theirs.value).rstrip(".") in str(ours.value)
    with nt.no_grad():
        x.add_(1)
        x[0] = 7.0
    np.testing.assert_array_equal(x.array, [7.0, 3.0])
    assert x.is_leaf and x.requires_grad


def test_changing_a_saved_tensor_fails_at_backward_with_torchs_message(torch):
    def program(lib, t):
        y = t.exp()  # Exp saves its output
        y.add_(1)
        return y.sum()

    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as theirs:
        program(torch, tx).backward()
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as ours:
        program(nt, x).backward()
    expected = str(theirs.value).split(" Hint")[0]
    expected = expected.replace("torch.FloatTensor", "neuronet.float32").replace(
        "Exp", "ExpBackward"
    )
    assert str(ours.value).startswith(expected.replace("ExpBackwardBackward0", "ExpBackward"))
    assert "is at version 1; expected version 0 instead" in str(ours.value)


def test_a_view_shares_the_version_counter_of_its_base():
    x = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y * y  # Mul saves y
    v = y.view(3)[1:]
    with nt.no_grad():
        v.zero_()  # through a view made elsewhere
    assert y._version == v._version == 1
    with pytest.raises(RuntimeError, match=r"\[neuronet.float32 \[3\]\], which is output 0"):
        z.sum().backward()


def test_only_saved_tensors_are_checked():
    a = nt.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1  # a non-leaf that Add does not save
    y = b + a
    b.add_(5)  # allowed: Add's backward never reads b
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])


def test_data_has_its_own_counter_and_detach_shares_it(torch):
    for lib in (nt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.detach().add_(1)
        assert y._version == 1
        y.data.add_(1)  # invisible to autograd, by design
        assert y._version == 1
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.data.mul_(0)
    y.sum().backward()  # not detected, as in torch: .data bypasses the checks
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_inplace_keeps_dtype_and_shape_like_torch(torch):
    for lib in (nt, torch):
        i = lib.tensor([1, 2])
        with pytest.raises(RuntimeError, match="result type .*can't be cast to the desired output"):
            i += 1.5
        with pytest.raises(RuntimeError, match="result type .*can't be cast"):
            i /= 2
        f = lib.ones(3)
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            f += lib.ones(2, 3)
    y = nt.tensor([1.0, 2.0], requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="result type .*can't be cast"):
        nt.tensor([1, 2]).add_(y)


def test_retain_grad_follows_the_tensor_through_inplace(torch):
    for lib in (nt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        np.testing.assert_allclose(np.asarray(y.grad.detach()), [12.0, 24.0])
