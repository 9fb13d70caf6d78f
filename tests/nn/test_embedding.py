"""Embedding: what the op registry cannot check (padding rows looked up, scale_grad_by_freq,
max_norm, the scatter-add against np.add.at on heavy duplicates, errors) and nn.Embedding
against PyTorch (state dict, forward, weight gradient, init, from_pretrained)."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import backend
from neuronet.ops.embedding import _scatter_add_rows
from support.parity import assert_close
from support.paths import skip_without_numba

F = nt.functional
nn = nt.nn


def _both(torch, index, weight, **kwargs):
    """Run F.embedding in both frameworks with one cotangent; return (ours, theirs) weights."""
    ours_w = nt.Tensor(weight.copy(), requires_grad=True)
    theirs_w = torch.tensor(weight.copy(), requires_grad=True)
    ya = F.embedding(nt.Tensor(index), ours_w, **kwargs)
    yb = torch.nn.functional.embedding(torch.from_numpy(index), theirs_w, **kwargs)
    assert_close(ya, yb, 1e-12, 1e-12, "output")
    g = np.random.default_rng(1).standard_normal(ya.shape)
    ya.backward(nt.Tensor(g))
    yb.backward(torch.from_numpy(g))
    return ours_w, theirs_w


@pytest.mark.parametrize("padding_idx", [0, 3, -1])
def test_padding_row_looked_up_gets_no_gradient_as_torch(torch, rng, padding_idx):
    index = rng.integers(0, 5, size=(6, 7))
    index[0, :3] = padding_idx % 5
    weight = rng.standard_normal((5, 3))
    ours, theirs = _both(torch, index, weight, padding_idx=padding_idx)
    assert_close(ours.grad, theirs.grad, 1e-12, 1e-12, "weight grad")
    np.testing.assert_array_equal(ours.grad.array[padding_idx], 0)


def test_scale_grad_by_freq_as_torch(torch, rng):
    index = rng.integers(0, 4, size=(5, 6))
    weight = rng.standard_normal((4, 3))
    ours, theirs = _both(torch, index, weight, scale_grad_by_freq=True, padding_idx=1)
    assert_close(ours.grad, theirs.grad, 1e-12, 1e-12, "weight grad")


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_max_norm_renormalises_looked_up_rows_in_place_as_torch(torch, rng, norm_type):
    index = np.array([[0, 2, 2], [4, 0, 1]])
    weight = rng.standard_normal((6, 4)) * 2
    ours_w = nt.Tensor(weight.copy())
    theirs_w = torch.tensor(weight.copy())
    ya = F.embedding(nt.Tensor(index), ours_w, max_norm=1.5, norm_type=norm_type)
    yb = torch.nn.functional.embedding(
        torch.from_numpy(index), theirs_w, max_norm=1.5, norm_type=norm_type
    )
    assert_close(ya, yb, 1e-12, 1e-12, "output")
    assert_close(ours_w, theirs_w, 1e-12, 1e-12, "renormalised weight")
    np.testing.assert_array_equal(ours_w.array[3], weight[3])  # a row not looked up is untouched


@pytest.mark.parametrize("vocab,n", [(3, 2000), (50, 5000), (5000, 3000)])
def test_scatter_add_equals_np_add_at_with_heavy_duplicates(rng, vocab, n):
    index = rng.integers(0, vocab, size=n)
    index[: n // 3] = 1  # one very frequent index (e.g. padding)
    rows = rng.standard_normal((n, 4))
    ours = np.zeros((vocab, 4))
    _scatter_add_rows(ours, index, rows)
    expected = np.zeros((vocab, 4))
    np.add.at(expected, index, rows)
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numba_kernel_equals_the_numpy_path(rng, dtype):
    skip_without_numba()
    index = rng.integers(0, 30, size=(40, 25))
    index[:10] = 4
    weight = rng.standard_normal((30, 6)).astype(dtype)
    g = rng.standard_normal((40, 25, 6)).astype(dtype)
    grads = []
    for numba in (True, False):
        with backend.fast.using(numba=numba):
            w = nt.Tensor(weight.copy(), requires_grad=True)
            F.embedding(nt.Tensor(index), w, padding_idx=2).backward(nt.Tensor(g))
            grads.append(w.grad.array)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(grads[0], grads[1], rtol=tol, atol=tol)


def test_float32_and_int32_indices(rng):
    weight = nt.Tensor(rng.standard_normal((7, 3)).astype(np.float32), requires_grad=True)
    index = nt.Tensor(np.array([[1, 2], [2, 6]], dtype=np.int32))
    y = F.embedding(index, weight)
    y.backward(nt.ones(*y.shape))
    assert y.dtype == np.float32 and weight.grad.dtype == np.float32
    np.testing.assert_array_equal(weight.grad.array[:, 0], [0, 1, 2, 0, 0, 0, 1])


def test_empty_index(rng):
    weight = nt.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = F.embedding(nt.Tensor(np.zeros((0, 2), dtype=np.int64)), weight)
    assert y.shape == (0, 2, 3)
    y.backward(nt.Tensor(np.zeros((0, 2, 3))))
    np.testing.assert_array_equal(weight.grad.array, 0)


def test_functional_errors(rng):
    weight = nt.Tensor(rng.standard_normal((10, 3)))
    msg = r"embedding: index 12 is out of range .* num_embeddings=10 \(valid indices are 0..9\)"
    with pytest.raises(IndexError, match=msg):
        F.embedding(nt.tensor([[1, 12]]), weight)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        F.embedding(nt.tensor([-1, 2]), weight)
    with pytest.raises(TypeError, match=r"integer indices.*float32.*\.long\(\)"):
        F.embedding(nt.tensor([1.0]), weight)
    with pytest.raises(ValueError, match=r"weight must be 2-D"):
        F.embedding(nt.tensor([1]), nt.zeros(10))
    with pytest.raises(ValueError, match="padding_idx=10 must be within num_embeddings=10"):
        F.embedding(nt.tensor([1]), weight, padding_idx=10)
    with pytest.raises(NotImplementedError, match="sparse=True is not supported"):
        F.embedding(nt.tensor([1]), weight, sparse=True)


# ---- nn.Embedding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"padding_idx": 2}, {"padding_idx": -1, "scale_grad_by_freq": True}, {"max_norm": 1.0}],
    ids=["plain", "padding", "padding-freq", "max_norm"],
)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_layer_matches_torch(torch, rng, kwargs, mode):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(8, 5, **kwargs)
    ours = nn.Embedding(8, 5, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    getattr(ours, mode)()
    getattr(theirs, mode)()
    for _ in range(2):
        index = rng.integers(0, 8, size=(3, 9))
        ya = ours(nt.Tensor(index))
        yb = theirs(torch.from_numpy(index))
        assert_close(ya, yb, 1e-6, 1e-6, "output")
        g = rng.standard_normal(ya.shape).astype(np.float32)
        ya.backward(nt.Tensor(g))
        yb.backward(torch.from_numpy(g))
        assert_close(ours.weight.grad, theirs.weight.grad, 1e-5, 1e-6, "weight grad")
        assert_close(ours.weight, theirs.weight, 1e-6, 1e-6, "weight (max_norm renorm)")
        ours.zero_grad()
        theirs.zero_grad()


def test_layer_repr_and_state_dict_match_torch(torch):
    for kwargs in ({}, {"padding_idx": 0, "max_norm": 1.0, "norm_type": 1.0}, {"padding_idx": -2}):
        ours = nn.Embedding(6, 3, **kwargs)
        theirs = torch.nn.Embedding(6, 3, **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
        assert ours.weight.shape == tuple(theirs.weight.shape)
        assert ours.padding_idx == theirs.padding_idx


def test_init_is_standard_normal_with_zero_padding_row():
    nt.manual_seed(0)
    emb = nn.Embedding(400, 100, padding_idx=5)
    w = emb.weight.array
    assert w.dtype == np.float32
    np.testing.assert_array_equal(w[5], 0)
    rest = np.delete(w, 5, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01
    nt.manual_seed(0)
    np.testing.assert_array_equal(nn.Embedding(400, 100, padding_idx=5).weight.array, w)


def test_from_pretrained():
    table = nt.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    emb = nn.Embedding.from_pretrained(table, padding_idx=0)
    assert not emb.weight.requires_grad
    assert emb.num_embeddings == 3 and emb.embedding_dim == 2
    np.testing.assert_array_equal(emb(nt.tensor([0, 2])).array, [[1.0, 2.0], [5.0, 6.0]])
    assert np.shares_memory(emb.weight.array, table.array)  # as torch: no copy
    trainable = nn.Embedding.from_pretrained(np.ones((4, 2)), freeze=False)
    assert trainable.weight.requires_grad and trainable.weight.dtype == np.float64
    with pytest.raises(ValueError, match="embeddings must be 2-D"):
        nn.Embedding.from_pretrained(nt.zeros(3))


def test_layer_errors_name_the_module_path():
    emb = nn.Embedding(10, 4)
    model = nn.Sequential(emb)  # noqa: F841  (keeps the path alive)
    with pytest.raises(IndexError, match=r"Embedding at '0': index 10 is out of range"):
        emb(nt.tensor([3, 10]))
    with pytest.raises(TypeError, match=r"Embedding at '0': input must hold integer"):
        emb(nt.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx=12 must be within num_embeddings=10"):
        nn.Embedding(10, 4, padding_idx=12)
    with pytest.raises(NotImplementedError, match="sparse=True is not supported"):
        nn.Embedding(10, 4, sparse=True)
