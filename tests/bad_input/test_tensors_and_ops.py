"""Bad input, tried systematically, part 1: tensor creation and ops.

Every call gets a wrong type, shape, dtype, an empty input or an out-of-range value, and must
raise a clear error that names the function and the offending value (never a bare NumPy or
Python error from inside neuronet, never a silent result). What PyTorch accepts on purpose
(NaN flowing through an op, ``clamp`` with min > max, unbatched conv inputs, the mean of an
empty tensor) is accepted here too and checked in ``ACCEPTED``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F

x = nt.randn(2, 3)
img = nt.randn(1, 1, 4, 4)
seq = nt.randn(2, 5, 3)
logits = nt.randn(4, 3)
NAN = float("nan")

CASES = [
    # creation
    ("tensor of a string", lambda: nt.tensor("abc"), TypeError, r"cannot make a tensor from str"),
    ("tensor of ragged lists", lambda: nt.tensor([[1, 2], [3]]), TypeError,
     r"cannot make a tensor from this list .*inhomogeneous"),
    ("tensor of None", lambda: nt.tensor(None), TypeError, "cannot make a tensor from NoneType"),
    ("zeros(-1)", lambda: nt.zeros(-1), ValueError, r"non-negative int, got \(-1,\)"),
    ("zeros(2.5)", lambda: nt.zeros(2.5), ValueError, r"non-negative int, got \(2.5,\)"),
    ("ones(dtype='bad')", lambda: nt.ones(2, dtype="bad"), TypeError, "unknown dtype 'bad'"),
    ("rand with int64", lambda: nt.rand(2, dtype=nt.int64), TypeError,
     "rand: dtype must be floating point .* got int64"),
    ("randn with bool", lambda: nt.randn(2, dtype=nt.bool_), TypeError, "randn: dtype must be"),
    ("randint high <= low", lambda: nt.randint(5, 2, (3,)), ValueError,
     r"randint: high \(2\) must be greater than low \(5\)"),
    ("randint nan", lambda: nt.randint(0, NAN, (3,)), ValueError, "randint: high must be finite"),
    ("arange step 0", lambda: nt.arange(0, 10, 0), ValueError, "arange: step must be nonzero"),
    ("arange nan", lambda: nt.arange(NAN), ValueError, "arange: end must be finite, got nan"),
    ("arange of a string", lambda: nt.arange("5"), TypeError, "arange: end must be a number"),
    ("linspace -3 steps", lambda: nt.linspace(0, 1, -3), ValueError,
     "linspace: steps must be a non-negative int, got -3"),
    ("eye(-1)", lambda: nt.eye(-1), ValueError, r"non-negative int, got \(-1,\)"),
    ("full with a string", lambda: nt.full((2,), "x"), TypeError,
     "full: fill_value must be a number or a bool, got 'x'"),
    ("randperm(-1)", lambda: nt.randperm(-1), ValueError, "randperm: n must be a non-negative"),
    ("manual_seed('a')", lambda: nt.manual_seed("a"), TypeError, "manual_seed expects an int"),
    ("manual_seed(2**70)", lambda: nt.manual_seed(2**70), ValueError, "must fit in 64 bits"),
    ("from_numpy(list)", lambda: nt.from_numpy([1, 2]), TypeError,
     "from_numpy expects a numpy.ndarray, got list"),
    ("from_numpy(strings)", lambda: nt.from_numpy(np.array(["a"])), TypeError,
     "dtype <U1 is not supported"),
    ("int tensor requiring grad", lambda: nt.tensor([1, 2], requires_grad=True), RuntimeError,
     "only floating-point tensors can require gradients, got dtype int64"),
    # arithmetic and shapes
    ("add a string", lambda: nt.add(x, "a"), TypeError,
     "add: the other operand must be a Tensor, a number .* got str 'a'"),
    ("add None", lambda: nt.add(x, None), TypeError, "add: the other operand .* got NoneType"),
    ("tensor + list", lambda: x + [1, 2, 3], TypeError, r"got list \[1, 2, 3\]"),
    ("pow a string", lambda: nt.pow(x, "a"), TypeError, "pow: the other operand"),
    ("lt a string", lambda: x < "a", TypeError, "lt: the other operand"),
    ("mul mismatched shapes", lambda: nt.mul(x, nt.randn(4, 5)), ValueError,
     r"mul: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"),
    ("matmul mismatched", lambda: nt.matmul(x, nt.randn(4, 2)), ValueError,
     r"matmul: shapes \(2, 3\) and \(4, 2\) cannot be multiplied"),
    ("matmul 0-d", lambda: nt.matmul(nt.tensor(1.0), x), ValueError, "matmul: both arguments"),
    ("matmul a list", lambda: nt.matmul(x, [[1.0]]), TypeError, "matmul: expected Tensors"),
    ("sum dim 5", lambda: nt.sum(x, dim=5), IndexError, "sum: dimension 5 is out of range"),
    ("sum dim 'a'", lambda: nt.sum(x, dim="a"), TypeError, "sum: dim must be an int"),
    ("mean of ints", lambda: nt.mean(nt.tensor([1, 2])), TypeError, "mean.*got int64"),
    ("max of empty", lambda: nt.max(nt.zeros(0)), RuntimeError,
     r"max\(\): cannot reduce an empty tensor"),
    ("reshape wrong size", lambda: x.reshape(4, 2), RuntimeError,
     r"reshape: shape \(4, 2\) is invalid for input of shape \(2, 3\)"),
    ("reshape two -1", lambda: x.reshape(-1, -1), RuntimeError, "only one dimension can be"),
    ("transpose dim 5", lambda: x.transpose(0, 5), IndexError, "transpose: dimension 5"),
    ("permute repeated", lambda: x.permute(0, 0), ValueError, r"permute: dims \(0, 0\)"),
    ("expand mismatch", lambda: x.expand(4, 4), ValueError, "expand: the expanded size"),
    ("cat of nothing", lambda: nt.cat([]), ValueError, "cat: expected a non-empty list"),
    ("cat mismatched", lambda: nt.cat([x, nt.randn(2, 4)]), ValueError, "cat: sizes of tensors"),
    ("stack mismatched", lambda: nt.stack([x, nt.randn(3, 3)]), ValueError, "stack: expects"),
    ("split size 0", lambda: nt.split(x, 0), ValueError, "split: split_size must be a positive"),
    ("index out of range", lambda: x[5], IndexError, "index 5 is out of range for dim 0"),
    ("float index", lambda: x[1.5], IndexError, "only integers, slices"),
    ("gather out of range", lambda: nt.gather(x, 1, nt.tensor([[5, 0, 0], [0, 0, 0]])),
     IndexError, "gather: index 5 is out of bounds for dim 1 with size 3"),
    ("gather float index", lambda: nt.gather(x, 1, nt.tensor([[0.0]])), TypeError,
     "gather: index must be an integer"),
    ("masked_fill float mask", lambda: nt.masked_fill(x, nt.zeros(2, 3), 0.0), TypeError,
     "masked_fill: mask must be a bool tensor, got dtype float32"),
    ("where float condition", lambda: nt.where(x, x, x), TypeError, "where: condition must be"),
    ("clamp without bounds", lambda: nt.clamp(x), ValueError, "clamp: at least one of"),
    ("one_hot negative", lambda: F.one_hot(nt.tensor([-1, 0]), 3), ValueError,
     "one_hot: class values must be non-negative"),
    ("one_hot too large", lambda: F.one_hot(nt.tensor([5]), 3), ValueError,
     r"one_hot: class values must be smaller than num_classes \(3\), got 5"),
    ("repeat negative", lambda: x.repeat(-1, 1), ValueError, "repeat: sizes must be non-neg"),
    ("tril of 1-d", lambda: nt.tril(nt.randn(3)), ValueError, "tril: input must have at least 2"),
    ("pad odd length", lambda: F.pad(x, (1,)), ValueError, "pad: padding length must be"),
    ("pad unknown mode", lambda: F.pad(x, (1, 1), mode="wat"), ValueError, "pad: mode must be"),
    ("norm p='bad'", lambda: nt.norm(x, p="bad"), ValueError,
     "norm: p must be 'fro', 'nuc' or a number .* got 'bad'"),
    ("softmax dim 9", lambda: F.softmax(x, dim=9), IndexError, "softmax: dimension 9"),
    ("log_softmax of ints", lambda: F.log_softmax(nt.tensor([1, 2]), dim=0), TypeError,
     "log_softmax: expected a floating-point tensor, got dtype int64"),
    ("backward without grad", lambda: (x * 2).backward(), RuntimeError,
     r"this tensor \(shape \(2, 3\)\) does not require grad"),
    ("item of many", lambda: x.item(), ValueError, r"item\(\) needs a tensor with one element"),
    # activations, dropout
    ("leaky_relu slope 'a'", lambda: F.leaky_relu(x, "a"), TypeError,
     "leaky_relu: negative_slope must be a number, got 'a'"),
    ("hardtanh min > max", lambda: F.hardtanh(x, 2.0, 1.0), ValueError,
     r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"),
    ("softplus beta 0", lambda: F.softplus(x, beta=0), ValueError, "softplus: beta must be"),
    ("gelu approximate 'bad'", lambda: F.gelu(x, approximate="bad"), ValueError,
     "gelu: approximate must be 'none' or 'tanh', got 'bad'"),
    ("dropout p 1.5", lambda: F.dropout(x, 1.5), ValueError, "dropout: .* got 1.5"),
    ("dropout p nan", lambda: F.dropout(x, NAN), ValueError, "dropout: .* got nan"),
    ("dropout p 'a'", lambda: F.dropout(x, "a"), ValueError, "dropout: .* got 'a'"),
    ("dropout2d of 2-d", lambda: F.dropout2d(x, 0.5), ValueError,
     r"dropout2d: expected a 4-D input .* got shape \(2, 3\)"),
    # conv, pooling, embedding, normalization, attention
    ("conv2d channel mismatch", lambda: F.conv2d(img, nt.randn(2, 3, 3, 3)), ValueError,
     "conv2d: input has 1 channels but weight"),
    ("conv2d stride 0", lambda: F.conv2d(img, nt.randn(1, 1, 3, 3), stride=0), ValueError,
     "conv2d: stride must be positive, got 0"),
    ("conv2d padding -1", lambda: F.conv2d(img, nt.randn(1, 1, 3, 3), padding=-1), ValueError,
     "conv2d: padding must be non-negative, got -1"),
    ("conv2d kernel > input", lambda: F.conv2d(img, nt.randn(1, 1, 5, 5)), ValueError,
     r"conv2d: padded input size per channel \(4, 4\) is smaller"),
    ("conv2d int input", lambda: F.conv2d(nt.ones(1, 1, 4, 4, dtype=nt.int64),
                                          nt.randn(1, 1, 3, 3)), TypeError,
     "conv2d: input must be floating point, got int64"),
    ("conv2d padding 'bad'", lambda: F.conv2d(img, nt.randn(1, 1, 3, 3), padding="bad"),
     ValueError, "conv2d: invalid padding string 'bad'"),
    ("max_pool2d kernel 0", lambda: F.max_pool2d(img, 0), ValueError,
     "max_pool2d: kernel_size must be positive"),
    ("max_pool2d 2-d input", lambda: F.max_pool2d(x, 2), ValueError,
     r"max_pool2d: expected .* got shape \(2, 3\)"),
    ("avg_pool2d big padding", lambda: F.avg_pool2d(img, 2, padding=2), ValueError,
     "avg_pool2d: padding should be at most half"),
    ("embedding out of range", lambda: F.embedding(nt.tensor([5]), nt.randn(3, 2)), IndexError,
     "embedding: index 5 is out of range for an embedding with num_embeddings=3"),
    ("embedding float index", lambda: F.embedding(nt.tensor([1.0]), nt.randn(3, 2)), TypeError,
     "embedding: input must hold integer indices"),
    ("linear shape", lambda: F.linear(x, nt.randn(4, 5)), ValueError,
     r"linear: input of shape \(2, 3\) has 3 features"),
    ("layer_norm shape", lambda: F.layer_norm(x, (4,)), ValueError,
     r"layer_norm: normalized_shape=\(4,\) expects an input of shape \(\*, 4\)"),
    ("batch_norm one sample", lambda: F.batch_norm(nt.randn(1, 3), nt.zeros(3), nt.ones(3),
                                                   training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size \(1, 3\)"),
    ("group_norm groups", lambda: F.group_norm(nt.randn(2, 6, 4), 4), ValueError,
     "group_norm: .* num_groups=4"),
    ("attention shapes", lambda: F.scaled_dot_product_attention(seq, nt.randn(2, 4, 7), seq),
     ValueError, "scaled_dot_product_attention: query's last dimension"),
    # losses
    ("cross_entropy target 3 of 3 classes", lambda: F.cross_entropy(logits, nt.tensor([0, 1, 2,
                                                                                       3])),
     IndexError, "cross_entropy: target 3 is out of bounds for C = 3 classes"),
    ("cross_entropy float target", lambda: F.cross_entropy(logits, nt.tensor([0.0, 1, 2, 1])),
     TypeError, "cross_entropy: class-index targets must be integers, got dtype float32"),
    ("cross_entropy batch mismatch", lambda: F.cross_entropy(logits, nt.tensor([0, 1])),
     ValueError, r"needs a target of shape \(4,\), got \(2,\)"),
    ("cross_entropy reduction", lambda: F.cross_entropy(logits, nt.tensor([0, 1, 2, 1]),
                                                        reduction="avg"), ValueError,
     "cross_entropy: 'avg' is not a valid value for reduction"),
    ("cross_entropy smoothing 2", lambda: F.cross_entropy(logits, nt.tensor([0, 1, 2, 1]),
                                                          label_smoothing=2.0), ValueError,
     "label_smoothing must be between 0.0 and 1.0, got 2.0"),
    ("nll target out of range", lambda: F.nll_loss(logits, nt.tensor([0, 1, 2, 3])),
     IndexError, "nll_loss: target 3 is out of bounds"),
    ("mse shapes differ", lambda: F.mse_loss(nt.randn(4, 1), nt.randn(4)), ValueError,
     r"mse_loss: input shape \(4, 1\) and target shape \(4,\) differ"),
    ("bce target 2", lambda: F.binary_cross_entropy(nt.rand(3), nt.tensor([0.0, 2.0, 1.0])),
     ValueError, r"binary_cross_entropy: target contains the value 2, outside \[0, 1\]"),
    ("bce input 1.5", lambda: F.binary_cross_entropy(nt.tensor([1.5, 0.5]),
                                                     nt.tensor([0.0, 1.0])), ValueError,
     "input contains the value 1.5"),
    ("huber delta 0", lambda: F.huber_loss(nt.randn(3), nt.randn(3), delta=0.0), ValueError,
     "huber_loss does not support non-positive values for delta, got 0.0"),
    ("kl_div reduction", lambda: F.kl_div(nt.randn(3), nt.randn(3), reduction="x"), ValueError,
     "kl_div: 'x' is not a valid value for reduction"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


ACCEPTED = [
    ("NaN flows through an op", lambda: math.isnan(nt.exp(nt.tensor([NAN])).item())),
    ("clamp min > max gives max", lambda: bool((nt.clamp(x, 2, 1).array == 1).all())),
    ("unbatched conv2d", lambda: F.conv2d(nt.randn(1, 4, 4), nt.randn(2, 1, 3, 3)).shape
     == (2, 2, 2)),
    ("mean of empty is nan", lambda: math.isnan(nt.mean(nt.zeros(0)).item())),
    ("negative seed wraps", lambda: nt.manual_seed(-1).initial_seed() == 2**64 - 1),
    ("cross_entropy of an empty batch is nan", lambda: math.isnan(
        F.cross_entropy(nt.zeros(0, 3), nt.zeros(0, dtype=nt.int64)).item())),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("check", [c[1] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_what_pytorch_accepts_is_accepted(check):
    assert check()
