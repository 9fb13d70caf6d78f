"""Edge cases of ops/shape.py, ops/joining.py (cat, stack, split, chunk), ops/rearranging.py
(repeat, tril) and ops/padding.py: error messages, views, torch agreement."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F


def test_reshape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"reshape: shape \(3, 3\) is invalid for input of "
                       r"shape \(4, 2\) \(8 elements\)"):  # fmt: skip
        nt.ones(4, 2).reshape(3, 3)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        nt.ones(4, 2).view(-1, -1)
    with pytest.raises(RuntimeError, match=r"shape \(3, -1\) is invalid"):
        nt.ones(4, 2).reshape((3, -1))


def test_reshape_minus_one_and_view_of_a_transposed_tensor():
    x = nt.arange(6.0).reshape(2, 3)
    assert x.reshape(-1).shape == (6,)
    assert x.T.view(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]  # view never fails


def test_reshape_returns_a_view_sharing_memory():
    x = nt.arange(6.0)
    assert np.shares_memory(x.reshape(2, 3).array, x.array)


def test_dim_errors():
    x = nt.ones(2, 3)
    with pytest.raises(IndexError, match=r"transpose: dimension 2 is out of range"):
        x.transpose(0, 2)
    with pytest.raises(ValueError, match=r"permute: dims \(0, 0\) is not a permutation"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"unsqueeze: dimension 3 is out of range"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match="flatten: start_dim"):
        nt.ones(2, 3, 4).flatten(2, 1)
    with pytest.raises(ValueError, match=r"t: expects a tensor with <= 2 dims"):
        nt.ones(2, 3, 4).t()


def test_squeeze_keeps_non_unit_dims_like_torch():
    x = nt.ones(1, 3, 1)
    assert x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze().shape == (3,)
    assert x.squeeze((0, 1)).shape == (3, 1)


def test_T_reverses_dims_and_mT_swaps_the_last_two():
    x = nt.ones(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    with pytest.raises(ValueError, match="mT needs a tensor with at least 2 dims"):
        _ = nt.ones(3).mT


def test_cat_stack_errors():
    with pytest.raises(ValueError, match=r"cat: sizes of tensors must match except in dim 0: "
                       r"entry 0 has shape \(2, 3\) but entry 1 has shape \(2, 4\)"):  # fmt: skip
        nt.cat([nt.ones(2, 3), nt.ones(2, 4)])
    with pytest.raises(ValueError, match=r"stack: expects each tensor to be equal size"):
        nt.stack([nt.ones(2), nt.ones(3)])
    with pytest.raises(TypeError, match="cat: expected a list or tuple of tensors"):
        nt.cat(nt.ones(2))
    with pytest.raises(ValueError, match="cat: expected a non-empty list"):
        nt.cat([])


def test_cat_mixed_requires_grad():
    a = nt.ones(2, requires_grad=True)
    b = nt.zeros(3)
    nt.cat([a, b]).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad is None


def test_split_chunk_like_torch(torch):
    x = nt.arange(6)
    assert [p.tolist() for p in x.chunk(4)] == [p.tolist() for p in torch.arange(6).chunk(4)]
    assert [p.shape for p in x.split(4)] == [(4,), (2,)]
    with pytest.raises(ValueError, match=r"split: split sizes \[2, 2\] must be non-negative and "
                       r"sum exactly to 6"):  # fmt: skip
        x.split([2, 2])


def test_split_backward_fills_unused_pieces_with_zeros():
    x = nt.ones(5, requires_grad=True)
    a, b, c = x.split(2)
    (b * 3.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0]


def test_expand_errors():
    with pytest.raises(ValueError, match=r"expand: the expanded size \(4\) must match the existing "
                       r"size \(3\) at non-singleton dim 1"):  # fmt: skip
        nt.ones(2, 3).expand(2, 4)
    with pytest.raises(ValueError, match="-1 is not allowed for a new leading dim"):
        nt.ones(3).expand(-1, 3)


def test_repeat_and_tril_errors():
    with pytest.raises(ValueError, match=r"repeat: the number of repeat sizes \(1\) can not be"):
        nt.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match=r"tril: input must have at least 2 dims"):
        nt.tril(nt.ones(3))


def test_movedim_like_numpy():
    x = nt.ones(2, 3, 4, 5)
    assert nt.movedim(x, (0, 3), (1, 0)).shape == np.moveaxis(x.array, (0, 3), (1, 0)).shape


def test_pad_float32_value_stays_float32():
    y = F.pad(nt.ones(2, 2), (1, 1), value=0.5)
    assert y.dtype == np.float32 and y.tolist()[0] == [0.5, 1.0, 1.0, 0.5]


def test_pad_errors():
    x = nt.ones(1, 2, 3)
    with pytest.raises(ValueError, match="padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match=r"in mode 'reflect' the padding must be less than the "
                       r"size of the dim it pads, but got padding \(3, 0\) at dim 2"):  # fmt: skip
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="in mode 'circular' the padding must be at most"):
        F.pad(x, (4, 0), mode="circular")
    with pytest.raises(
        ValueError, match=r"mode 'replicate' with a padding of length 2 needs a 2-D"
    ):
        F.pad(nt.ones(3), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="mode must be 'constant', 'reflect', 'replicate' or"):
        F.pad(x, (1, 1), mode="edge")
    with pytest.raises(
        ValueError, match=r"the size 3 of dim 2 plus padding \(-2, -2\) is negative"
    ):
        F.pad(x, (-2, -2))
    with pytest.raises(ValueError, match="does not take a value argument"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)


def test_cat_and_stack_promote_ints_to_the_float_dtype_as_torch(torch):
    ints = nt.tensor([1, 2])
    floats = nt.tensor([0.5, 1.5], requires_grad=True)
    for op in ("cat", "stack"):
        ours = getattr(nt, op)([ints, floats])
        theirs = getattr(torch, op)([torch.tensor([1, 2]), torch.tensor([0.5, 1.5])])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") == "float32"
        np.testing.assert_array_equal(ours.array, theirs.numpy())
    nt.cat([ints, floats]).sum().backward()
    np.testing.assert_array_equal(floats.grad.array, [1.0, 1.0])
