"""Tensor creation, dtypes, conversion, randomness and printing."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt


def test_creation_defaults_follow_pytorch():
    assert nt.tensor([1.0, 2.0]).dtype == np.float32
    assert nt.tensor([1, 2]).dtype == np.int64
    assert nt.tensor([True]).dtype == np.bool_
    assert nt.zeros(2, 3).shape == (2, 3)
    assert nt.ones((2, 3)).dtype == np.float32
    assert nt.full((2,), 7).dtype == np.int64
    assert nt.full((2,), 7.0).dtype == np.float32
    assert nt.arange(5).dtype == np.int64
    assert nt.arange(0, 1, 0.25).dtype == np.float32
    assert nt.eye(3).numpy().trace() == 3
    assert nt.zeros_like(nt.tensor([1, 2])).dtype == np.int64
    assert nt.randint(0, 10, (4,)).dtype == np.int64
    assert nt.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, dtype=np.float32)
    shared = nt.from_numpy(a)
    copied = nt.tensor(a)
    a[0] = 5
    assert shared.numpy()[0] == 5
    assert copied.numpy()[0] == 0


def test_conversions():
    x = nt.tensor([1.5, -2.5])
    assert x.long().dtype == np.int64
    assert x.double().dtype == np.float64
    assert x.to("float64").dtype == np.float64
    assert x.int().tolist() == [1, -2]
    assert nt.tensor([3.0]).item() == 3.0
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        x.item()


def test_cast_is_differentiable_between_floats():
    x = nt.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3.0
    y.backward(nt.ones(2, dtype="float64"))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_attributes():
    x = nt.randn(2, 3, requires_grad=True)
    assert x.ndim == 2 and x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.is_leaf and (x * 2).is_leaf is False
    assert not x.detach().requires_grad
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()


def test_seeded_generator_reproduces():
    nt.manual_seed(123)
    a = nt.randn(5)
    nt.manual_seed(123)
    b = nt.randn(5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g1 = nt.Generator().manual_seed(7)
    g2 = nt.Generator().manual_seed(7)
    np.testing.assert_array_equal(
        nt.rand(4, generator=g1).numpy(), nt.rand(4, generator=g2).numpy()
    )
    state = g1.get_state()
    c = nt.randint(0, 100, (6,), generator=g1)
    g1.set_state(state)
    d = nt.randint(0, 100, (6,), generator=g1)
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_repr_is_readable():
    x = nt.tensor([[1.0, 2.0]], requires_grad=True)
    assert repr(x) == "tensor([[1., 2.]], requires_grad=True)"
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "dtype=neuronet.float64" in repr(nt.zeros(1, dtype="float64"))


def test_bad_dtype_and_data():
    with pytest.raises(TypeError, match="unknown dtype"):
        nt.zeros(2, dtype="float16x")
    with pytest.raises(TypeError, match="cannot make a tensor"):
        nt.tensor(["a", "b"])


def test_binary_op_shape_mismatch_message():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        nt.ones(2, 3) + nt.ones(4)


def test_python_scalars_never_upcast():
    x = nt.ones(2)
    for y in (x + 1, 2.5 * x, x / 3, x**2.0, 1 - x, np.float64(2.0) * x):
        assert y.dtype == np.float32, y.dtype


def test_data_is_a_detached_tensor_sharing_storage():
    """PyTorch's `.data`: a Tensor outside the graph on the same storage (old tutorials'
    `p.data -= lr * p.grad.data` and `torch.max(out.data, 1)` work unchanged)."""
    p = nt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = p.data
    assert isinstance(d, nt.Tensor) and not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.array, p.array)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad.data
    np.testing.assert_array_equal(p.array, [0.0, 0.0, 0.0])
    p.data = nt.tensor([7.0])
    assert p.shape == (1,) and p.requires_grad
    with pytest.raises(TypeError, match="must be assigned a Tensor"):
        p.data = np.ones(2)
