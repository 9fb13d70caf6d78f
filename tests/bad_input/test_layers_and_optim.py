"""Bad input, tried systematically, part 2: layers, initializers, clipping, optimizers and
learning-rate schedulers (see test_tensors_and_ops.py for the rules)."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn, optim

x = nt.randn(2, 3)
NAN = float("nan")
S = optim.lr_scheduler


def P():
    return [nn.Parameter(np.zeros(3, np.float32))]


def sgd():
    return optim.SGD(P(), lr=0.1)


def gpt():
    from neuronet import models

    return models.GPT(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=8)


CASES = [
    # layers: construction
    ("Linear(-1, 3)", lambda: nn.Linear(-1, 3), ValueError,
     "Linear: in_features must be a non-negative int, got -1"),
    ("Linear('a', 3)", lambda: nn.Linear("a", 3), ValueError, "in_features .* got 'a'"),
    ("Conv2d kernel 0", lambda: nn.Conv2d(1, 1, 0), ValueError,
     "Conv2d: kernel_size must be positive, got 0"),
    ("Conv2d groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError,
     r"Conv2d: in_channels must be divisible by groups \(in_channels=3, groups=2\)"),
    ("Conv2d padding_mode", lambda: nn.Conv2d(1, 1, 3, padding_mode="bad"), ValueError,
     "Conv2d: padding_mode='bad' is not supported"),
    ("GroupNorm(4, 6)", lambda: nn.GroupNorm(4, 6), ValueError,
     "GroupNorm: num_channels must be divisible by num_groups"),
    ("Dropout(1.5)", lambda: nn.Dropout(1.5), ValueError, "Dropout: .* got 1.5"),
    ("Embedding padding_idx", lambda: nn.Embedding(3, 2, padding_idx=9), ValueError,
     "Embedding: padding_idx=9 must be within num_embeddings=3"),
    ("LSTM num_layers 0", lambda: nn.LSTM(3, 3, num_layers=0), ValueError,
     "LSTM: num_layers must be greater than zero, got 0"),
    ("LSTM dropout 2", lambda: nn.LSTM(3, 3, dropout=2.0), ValueError, "LSTM: dropout .* got 2.0"),
    ("MultiheadAttention 10/3", lambda: nn.MultiheadAttention(10, 3), ValueError,
     r"MultiheadAttention: embed_dim \(10\) must be divisible by num_heads \(3\)"),
    ("Transformer activation", lambda: nn.TransformerEncoderLayer(8, 2, activation="bad"),
     ValueError, "activation should be 'relu' or 'gelu' .* not 'bad'"),
    ("Sequential of a string", lambda: nn.Sequential(nn.Linear(2, 2), "relu"), TypeError,
     "Sequential argument 1 is str, not a Module"),
    ("ModuleList of an int", lambda: nn.ModuleList([1]), TypeError, "int is not a Module"),
    ("register_buffer 'a.b'", lambda: nn.Linear(2, 2).register_buffer("a.b", nt.zeros(1)),
     KeyError, "register_buffer: a buffer name must be .* got 'a.b'"),
    ("Parameter of a string", lambda: nn.Parameter("abc"), TypeError, "cannot make a tensor"),
    ("Parameter of ints", lambda: nn.Parameter(np.arange(3)), RuntimeError,
     "only floating-point tensors can require gradients"),
    # layers: forward
    ("Linear wrong features", lambda: nn.Linear(4, 2)(x), ValueError,
     r"Linear: expected input with last dimension 4 \(in_features\), got shape \(2, 3\)"),
    ("Linear int input", lambda: nn.Linear(3, 2)(nt.tensor([[1, 2, 3]])), TypeError,
     "Linear: input dtype int64 does not match the weight dtype float32"),
    ("Linear on an ndarray", lambda: nn.Linear(3, 2)(np.zeros((1, 3), np.float32)), TypeError,
     "Linear: expected a Tensor, got ndarray"),
    ("Conv2d wrong channels", lambda: nn.Conv2d(3, 4, 3)(nt.randn(1, 2, 5, 5)), ValueError,
     r"Conv2d: expected input with 3 channels \(in_channels\), got shape \(1, 2, 5, 5\)"),
    ("BatchNorm2d on 2-d", lambda: nn.BatchNorm2d(3)(x), ValueError,
     r"BatchNorm2d: expected 4-D input \(N, C, H, W\) with C=3, got shape \(2, 3\)"),
    ("LSTM wrong features", lambda: nn.LSTM(3, 4)(nt.randn(5, 2, 7)), ValueError,
     r"LSTM: expected input of size 3 .* got shape \(5, 2, 7\)"),
    ("GRU wrong h0", lambda: nn.GRU(3, 4)(nt.randn(5, 2, 3), nt.randn(1, 2, 9)), ValueError,
     r"GRU: expected h_0 of shape \(1, 2, 4\)"),
    ("Sequential names the layer", lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1))(
        nt.randn(1, 2)), ValueError, "Linear at '1': expected input with last dimension 4"),
    ("LeakyReLU('a')", lambda: nn.LeakyReLU("a")(x), TypeError,
     "leaky_relu: negative_slope must be a number, got 'a'"),
    ("load_state_dict missing keys", lambda: nn.Linear(2, 2).load_state_dict({}), RuntimeError,
     r"(?s)loading state_dict for Linear:.Missing key\(s\): weight, bias"),
    ("load_state_dict shapes", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": nt.zeros(3, 3), "bias": nt.zeros(2)}), RuntimeError,
     r"weight: checkpoint has shape \(3, 3\), this model has \(2, 2\)"),
    ("GPT input too long", lambda: gpt()(nt.tensor([[1, 2, 3, 4, 1]])), ValueError,
     "GPT at '': sequence length 5 is longer than block_size 4"),
    ("GPT token out of range", lambda: gpt()(nt.tensor([[9]])), IndexError,
     "Embedding at 'wte': index 9 is out of range for an embedding with num_embeddings=5"),
    ("GPT.generate top_k 0", lambda: gpt().generate(nt.tensor([[1]]), 2, top_k=0), ValueError,
     r"GPT.generate: top_k must be >= 1 \(or None for no limit\), got 0"),
    ("GPT.generate temperature -1", lambda: gpt().generate(nt.tensor([[1]]), 2, temperature=-1),
     ValueError, "GPT.generate: temperature must be >= 0 .* got -1"),
    ("GPT.generate -1 tokens", lambda: gpt().generate(nt.tensor([[1]]), -1), ValueError,
     "GPT.generate: max_new_tokens must be >= 0, got -1"),
    # initializers and clipping
    ("xavier on 1-d", lambda: nn.init.xavier_uniform_(nt.zeros(3)), ValueError,
     r"Fan in and fan out can not be computed .* \(got shape \(3,\)\)"),
    ("kaiming nonlinearity", lambda: nn.init.kaiming_uniform_(nt.zeros(3, 3),
                                                              nonlinearity="bad"), ValueError,
     "Unsupported nonlinearity bad"),
    ("normal_ std -1", lambda: nn.init.normal_(nt.zeros(3), std=-1.0), ValueError,
     "nn.init.normal_: expects std >= 0, got -1.0"),
    ("uniform_ a > b", lambda: nn.init.uniform_(nt.zeros(3), 2.0, 1.0), ValueError,
     "nn.init.uniform_: expects a <= b .* got a=2.0, b=1.0"),
    ("clip_grad_norm_ -1", lambda: nn.utils.clip_grad_norm_(P(), -1.0), ValueError,
     "clip_grad_norm_: max_norm must be >= 0, got -1.0"),
    ("clip_grad_norm_ nan", lambda: nn.utils.clip_grad_norm_(P(), NAN), ValueError,
     "clip_grad_norm_: max_norm must be >= 0, got nan"),
    ("clip_grad_norm_ 'a'", lambda: nn.utils.clip_grad_norm_(P(), "a"), TypeError,
     "clip_grad_norm_: max_norm must be a number, got 'a'"),
    ("clip_grad_value_ -1", lambda: nn.utils.clip_grad_value_(P(), -1.0), ValueError,
     "clip_grad_value_: clip_value must be >= 0, got -1.0"),
    # optimizers
    ("SGD of nothing", lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    ("SGD of one tensor", lambda: optim.SGD(nt.zeros(3), lr=0.1), TypeError,
     "got a single Tensor; pass \\[param\\] or model.parameters\\(\\)"),
    ("SGD lr -1", lambda: optim.SGD(P(), lr=-1), ValueError, "Invalid learning rate: -1"),
    ("SGD lr nan", lambda: optim.SGD(P(), lr=NAN), ValueError, "SGD: lr is nan"),
    ("SGD lr 'a'", lambda: optim.SGD(P(), lr="a"), TypeError, "SGD: lr must be a number, got 'a'"),
    ("Adam lr inf", lambda: optim.Adam(P(), lr=float("inf")), ValueError,
     r"Invalid learning rate: inf \(Adam: lr must be finite\)"),
    ("SGD momentum -1", lambda: optim.SGD(P(), lr=0.1, momentum=-1), ValueError,
     "Invalid momentum value: -1"),
    ("SGD nesterov without momentum", lambda: optim.SGD(P(), lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum"),
    ("Adam betas 1.5", lambda: optim.Adam(P(), betas=(1.5, 0.9)), ValueError,
     "Invalid beta parameter at index 0: 1.5"),
    ("Adam betas nan", lambda: optim.Adam(P(), betas=(0.9, NAN)), ValueError,
     "Invalid beta parameter at index 1: nan"),
    ("Adam one beta", lambda: optim.Adam(P(), betas=(0.9,)), ValueError,
     r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    ("Adam eps -1", lambda: optim.Adam(P(), eps=-1), ValueError, "Invalid epsilon value: -1"),
    ("AdamW weight_decay nan", lambda: optim.AdamW(P(), weight_decay=NAN), ValueError,
     "weight_decay"),
    ("RMSprop alpha -1", lambda: optim.RMSprop(P(), alpha=-1), ValueError, "Invalid alpha"),
    ("Adagrad lr_decay -1", lambda: optim.Adagrad(P(), lr_decay=-1), ValueError, "lr_decay"),
    ("LAMB beta 1.0", lambda: optim.LAMB(P(), betas=(0.9, 1.0)), ValueError,
     "Invalid beta parameter at index 1: 1.0"),
    ("make_optimizer 'adamx'", lambda: optim.make_optimizer("adamx", P()), ValueError,
     "unknown optimizer 'adamx'; choose one of"),
    ("grad of the wrong shape", lambda: (lambda p, o: (setattr(p[0], "grad", nt.zeros(4)),
                                                       o.step()))(*(lambda p: (p, optim.SGD(
                                                           p, lr=0.1)))(P())), RuntimeError,
     r"SGD.step: a parameter of shape \(3,\) has a gradient of shape \(4,\)"),
    ("optimizer load garbage", lambda: sgd().load_state_dict({"x": 1}), ValueError,
     "load_state_dict expects the dict returned by optimizer.state_dict"),
    # schedulers
    ("StepLR of a string", lambda: S.StepLR("opt", 1), TypeError, "str is not an Optimizer"),
    ("StepLR step_size 0", lambda: S.StepLR(sgd(), 0), ValueError,
     "StepLR: step_size must be a positive integer, got 0"),
    ("CosineAnnealingLR T_max 0", lambda: S.CosineAnnealingLR(sgd(), 0), ValueError,
     "CosineAnnealingLR: T_max must be a positive integer, got 0"),
    ("LinearLR start 0", lambda: S.LinearLR(sgd(), start_factor=0), ValueError,
     "Starting multiplicative factor .* got start_factor=0"),
    ("OneCycleLR total 0", lambda: S.OneCycleLR(sgd(), max_lr=1, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    ("OneCycleLR past its end", lambda: [s.step() for s in [S.OneCycleLR(sgd(), max_lr=1,
                                                                         total_steps=3)]
                                         for _ in range(5)], ValueError,
     "Tried to step 4 times. The specified number of total steps is 3"),
    ("warmup_cosine warmup > total", lambda: S.warmup_cosine(sgd(), 10, 5), ValueError,
     r"warmup_cosine: total_steps \(5\) must be an integer larger than warmup_steps \(10\)"),
    ("ReduceLROnPlateau factor 2", lambda: S.ReduceLROnPlateau(sgd(), factor=2), ValueError,
     "Factor should be < 1.0, got factor=2"),
    ("ReduceLROnPlateau step 'a'", lambda: S.ReduceLROnPlateau(sgd()).step("a"), TypeError,
     "ReduceLROnPlateau.step: metrics must be a number .* got 'a'"),
    ("LambdaLR of an int", lambda: S.LambdaLR(sgd(), 3), TypeError,
     "lr_lambda must be callable, got int"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_schedulers_declare_whether_they_need_a_metric():
    assert S.ReduceLROnPlateau(sgd()).needs_metric is True
    for scheduler in (S.StepLR(sgd(), 1), S.OneCycleLR(sgd(), max_lr=1, total_steps=3)):
        assert scheduler.needs_metric is False
