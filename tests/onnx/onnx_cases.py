"""The layers and models the ONNX export is tested on: one entry per case, grouped by family.

Each case builds a module (seeded) and an input maker ``make(batch, rng)``; the tests export it
and run the file in onnxruntime on inputs of two batch sizes (``BATCHES``).
"""

from __future__ import annotations

import numpy as np

import neuronet as nt
from neuronet import functional as F
from neuronet import models, nn

BATCHES = (2, 5)


def floats(*shape):
    return lambda n, rng: rng.standard_normal((n, *shape)).astype(np.float32)


def tokens(vocab, length):
    return lambda n, rng: rng.integers(0, vocab, size=(n, length)).astype(np.int64)


class Wrap(nn.Module):
    """A module from a function of the input (for functional ops)."""

    def __init__(self, fn, *children):
        super().__init__()
        self.fn = fn
        self.layers = nn.ModuleList(children)

    def forward(self, x):
        return self.fn(x, *self.layers)


def _bn(module):
    """Non-trivial running statistics and affine parameters, as after training."""
    rng = np.random.default_rng(1)
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.array[...] = rng.standard_normal(c)
            m.running_var.array[...] = rng.uniform(0.5, 2.0, c)
            m.weight.array[...] = rng.uniform(0.5, 1.5, c)
            m.bias.array[...] = rng.standard_normal(c)
    return module


def _seq_first_lstm():
    lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True)
    return Wrap(lambda x, m: m(x)[0], lstm)


LAYERS = {
    # family: {case name: (module builder, input maker)}
    "linear": {
        "linear": (lambda: nn.Linear(7, 4), floats(7)),
        "linear_3d": (lambda: nn.Linear(7, 4), floats(3, 7)),
        "linear_no_bias": (lambda: nn.Linear(7, 4, bias=False), floats(7)),
        "flatten_unflatten": (
            lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.Unflatten(1, (2, 3))),
            floats(3, 4),
        ),
    },
    "conv": {
        "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), floats(3, 10)),
        "conv1d_stride_dilation": (
            lambda: nn.Conv1d(4, 6, 3, stride=2, dilation=2, groups=2),
            floats(4, 16),
        ),
        "conv2d": (lambda: nn.Conv2d(3, 8, 3, padding=1), floats(3, 9, 9)),
        "conv2d_same_even_kernel": (lambda: nn.Conv2d(2, 4, 4, padding="same"), floats(2, 7, 7)),
        "conv2d_groups_stride": (
            lambda: nn.Conv2d(4, 8, 3, stride=2, groups=2, bias=False),
            floats(4, 9, 9),
        ),
        "conv2d_depthwise_dilation": (
            lambda: nn.Conv2d(4, 4, 3, dilation=2, padding=2, groups=4),
            floats(4, 8, 8),
        ),
        "conv2d_reflect_pad": (
            lambda: Wrap(
                lambda x, c: c(F.pad(x, (1, 1, 2, 2), mode="reflect")), nn.Conv2d(2, 3, 3)
            ),
            floats(2, 6, 6),
        ),
        "conv2d_replicate_pad": (
            lambda: Wrap(
                lambda x, c: c(F.pad(x, (1, 2, 1, 0), mode="replicate")), nn.Conv2d(2, 3, 3)
            ),
            floats(2, 6, 6),
        ),
        "conv2d_circular_pad": (
            lambda: Wrap(
                lambda x, c: c(F.pad(x, (1, 1, 1, 1), mode="circular")), nn.Conv2d(2, 3, 3)
            ),
            floats(2, 6, 6),
        ),
        "conv2d_constant_pad": (
            lambda: Wrap(lambda x, c: c(F.pad(x, (2, 1, 0, 1), value=0.5)), nn.Conv2d(2, 3, 3)),
            floats(2, 6, 6),
        ),
    },
    "conv_transpose": {
        "conv_transpose1d": (
            lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1),
            floats(3, 7),
        ),
        "conv_transpose2d": (
            lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
            floats(4, 5, 5),
        ),
        "conv_transpose2d_groups_dilation": (
            lambda: nn.ConvTranspose2d(4, 6, 3, groups=2, dilation=2),
            floats(4, 5, 5),
        ),
    },
    "pooling": {
        "max_pool2d": (lambda: nn.MaxPool2d(2), floats(3, 8, 8)),
        "max_pool2d_pad_stride_ceil": (
            lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            floats(2, 8, 9),
        ),
        "max_pool2d_dilation": (lambda: nn.MaxPool2d(2, stride=1, dilation=2), floats(2, 7, 7)),
        "max_pool1d": (lambda: nn.MaxPool1d(3, stride=2), floats(2, 11)),
        "avg_pool2d": (lambda: nn.AvgPool2d(2), floats(3, 8, 8)),
        "avg_pool2d_pad_exclude": (
            lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
            floats(2, 7, 7),
        ),
        "avg_pool2d_ceil": (lambda: nn.AvgPool2d(2, ceil_mode=True), floats(2, 7, 7)),
        "avg_pool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), floats(2, 10)),
        "adaptive_avg_pool2d_global": (lambda: nn.AdaptiveAvgPool2d(1), floats(3, 5, 6)),
        "adaptive_avg_pool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), floats(3, 7, 5)),
        "adaptive_avg_pool1d": (lambda: nn.AdaptiveAvgPool1d(4), floats(3, 10)),
        "adaptive_max_pool2d": (lambda: nn.AdaptiveMaxPool2d((3, 4)), floats(2, 7, 9)),
        "adaptive_max_pool1d": (lambda: nn.AdaptiveMaxPool1d(3), floats(2, 8)),
    },
    "batch_norm": {
        "batch_norm1d": (lambda: _bn(nn.BatchNorm1d(6)), floats(6)),
        "batch_norm1d_3d": (lambda: _bn(nn.BatchNorm1d(4)), floats(4, 5)),
        "batch_norm2d": (lambda: _bn(nn.BatchNorm2d(3)), floats(3, 5, 5)),
        "batch_norm2d_no_affine": (lambda: nn.BatchNorm2d(3, affine=False), floats(3, 4, 4)),
        "batch_norm2d_batch_stats": (
            lambda: nn.BatchNorm2d(3, track_running_stats=False),
            floats(3, 4, 4),
        ),
    },
    "norm": {
        "layer_norm": (lambda: nn.LayerNorm(8), floats(3, 8)),
        "layer_norm_2d_shape": (lambda: nn.LayerNorm((3, 4), eps=1e-3), floats(2, 3, 4)),
        "layer_norm_no_bias": (lambda: nn.LayerNorm(8, bias=False), floats(8)),
        "group_norm": (lambda: nn.GroupNorm(2, 6), floats(6, 4, 4)),
        "group_norm_instance": (lambda: nn.GroupNorm(3, 3, eps=1e-3), floats(3, 5)),
        "rms_norm": (lambda: nn.RMSNorm(8, eps=1e-5), floats(3, 8)),
    },
    "dropout": {
        "dropout_eval": (lambda: nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5)), floats(6)),
        "dropout2d_eval": (
            lambda: nn.Sequential(nn.Conv2d(2, 2, 1), nn.Dropout2d(0.3)),
            floats(2, 3, 3),
        ),
        "alpha_dropout_eval": (lambda: nn.AlphaDropout(0.2), floats(6)),
    },
    "embedding": {
        "embedding": (lambda: nn.Embedding(11, 5), tokens(11, 7)),
        "embedding_padding_idx": (lambda: nn.Embedding(11, 5, padding_idx=0), tokens(11, 4)),
    },
    "activation": {
        name: (lambda cls=cls: cls(), floats(3, 9))
        for name, cls in [
            ("relu", nn.ReLU),
            ("relu6", nn.ReLU6),
            ("leaky_relu", lambda: nn.LeakyReLU(0.2)),
            ("elu", lambda: nn.ELU(0.7)),
            ("gelu", nn.GELU),
            ("gelu_tanh", lambda: nn.GELU(approximate="tanh")),
            ("silu", nn.SiLU),
            ("sigmoid", nn.Sigmoid),
            ("tanh", nn.Tanh),
            ("softplus", lambda: nn.Softplus(beta=2.0, threshold=3.0)),
        ]
    },
    "softmax": {
        "softmax": (lambda: nn.Softmax(dim=-1), floats(3, 9)),
        "softmax_dim1": (lambda: nn.Softmax(dim=1), floats(3, 9)),
        "log_softmax": (lambda: nn.LogSoftmax(dim=-1), floats(3, 9)),
    },
    "recurrent": {
        "rnn_tanh": (
            lambda: Wrap(lambda x, m: m(x)[0], nn.RNN(6, 5, batch_first=True)),
            floats(4, 6),
        ),
        "rnn_relu_2layer_states": (
            lambda: Wrap(
                lambda x, m: (lambda o: (o[0], o[1]))(m(x)),
                nn.RNN(6, 5, num_layers=2, nonlinearity="relu", batch_first=True),
            ),
            floats(4, 6),
        ),
        "lstm": (lambda: Wrap(lambda x, m: m(x)[0], nn.LSTM(6, 5, batch_first=True)), floats(4, 6)),
        "lstm_bidirectional_2layer_seq_first": (_seq_first_lstm, None),
        "lstm_final_states": (
            lambda: Wrap(lambda x, m: m(x)[1], nn.LSTM(6, 5, num_layers=2, batch_first=True)),
            floats(4, 6),
        ),
        "gru": (lambda: Wrap(lambda x, m: m(x)[0], nn.GRU(6, 5, batch_first=True)), floats(4, 6)),
        "gru_bidirectional": (
            lambda: Wrap(lambda x, m: m(x)[1], nn.GRU(6, 5, bidirectional=True, batch_first=True)),
            floats(4, 6),
        ),
        "lstm_no_bias": (
            lambda: Wrap(lambda x, m: m(x)[0], nn.LSTM(6, 5, bias=False, batch_first=True)),
            floats(4, 6),
        ),
        "lstm_cell": (lambda: Wrap(lambda x, m: m(x)[1], nn.LSTMCell(6, 5)), floats(6)),
        "gru_cell": (lambda: nn.GRUCell(6, 5), floats(6)),
    },
    "attention": {
        "multihead_attention": (
            lambda: Wrap(lambda x, m: m(x, x, x)[0], nn.MultiheadAttention(8, 2, batch_first=True)),
            floats(5, 8),
        ),
        "multihead_attention_weights": (
            lambda: Wrap(lambda x, m: m(x, x, x)[1], nn.MultiheadAttention(8, 2, batch_first=True)),
            floats(5, 8),
        ),
        "multihead_attention_causal_mask": (
            lambda: Wrap(
                lambda x, m: m(
                    x, x, x, attn_mask=nn.Transformer.generate_square_subsequent_mask(5)
                )[0],
                nn.MultiheadAttention(8, 2, batch_first=True),
            ),
            floats(5, 8),
        ),
        "multihead_attention_cross_seq_first": (
            lambda: Wrap(
                lambda x, m: m(x, x[:3], x[:3], need_weights=False)[0],
                nn.MultiheadAttention(8, 4),
            ),
            None,
        ),
        "sdpa_causal": (
            lambda: Wrap(
                lambda x, lin: F.scaled_dot_product_attention(lin(x), lin(x), x, is_causal=True),
                nn.Linear(8, 8),
            ),
            floats(6, 8),
        ),
    },
    "transformer": {
        "encoder_layer": (
            lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True),
            floats(5, 8),
        ),
        "encoder_layer_norm_first_gelu": (
            lambda: nn.TransformerEncoderLayer(
                8, 2, 16, activation="gelu", norm_first=True, batch_first=True
            ),
            floats(5, 8),
        ),
        "encoder_stack_causal": (
            lambda: Wrap(
                lambda x, m: m(x, mask=nn.Transformer.generate_square_subsequent_mask(5)),
                nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2),
            ),
            floats(5, 8),
        ),
        "decoder_layer": (
            lambda: Wrap(
                lambda x, m: m(x, x * 0.5), nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)
            ),
            floats(5, 8),
        ),
    },
}


def _seq_first_input(n, rng):
    return rng.standard_normal((7, n, 6)).astype(np.float32)


LAYERS["recurrent"]["lstm_bidirectional_2layer_seq_first"] = (_seq_first_lstm, _seq_first_input)
LAYERS["attention"]["multihead_attention_cross_seq_first"] = (
    LAYERS["attention"]["multihead_attention_cross_seq_first"][0],
    lambda n, rng: rng.standard_normal((5, n, 8)).astype(np.float32),
)
SEQ_FIRST = {"lstm_bidirectional_2layer_seq_first", "multihead_attention_cross_seq_first"}


MODELS = {
    "MLP": (lambda: models.MLP(20, [16, 12], 5, activation="gelu", norm="layer"), floats(20)),
    "MLP_batchnorm": (lambda: _bn(models.MLP(20, [16], 5, norm="batch", dropout=0.2)), floats(20)),
    "LeNet": (lambda: models.LeNet(1, 10, image_size=28, dropout=0.1), floats(1, 28, 28)),
    "LeNet_digits": (lambda: models.LeNet(1, 10, image_size=8, channels=(16, 32)), floats(1, 8, 8)),
    "ResNet": (lambda: _bn(models.ResNet(3, 10, widths=(8, 16), blocks=1)), floats(3, 16, 16)),
    "RecurrentClassifier_lstm": (
        lambda: models.RecurrentClassifier("lstm", 8, 16, 2, 10, bidirectional=True),
        floats(6, 8),
    ),
    "RecurrentClassifier_gru": (lambda: models.RecurrentClassifier("gru", 8, 16), floats(6, 8)),
    "RecurrentClassifier_rnn": (lambda: models.RecurrentClassifier("rnn", 8, 16), floats(6, 8)),
    "RecurrentLM": (lambda: models.RecurrentLM(20, "lstm", 8, 16), tokens(20, 6)),
    "TransformerClassifier": (
        lambda: models.TransformerClassifier(
            8, 10, d_model=16, nhead=4, num_layers=2, dim_feedforward=32, max_len=8
        ),
        floats(8, 8),
    ),
    "GPT": (
        lambda: models.GPT(vocab_size=30, block_size=16, n_layer=2, n_head=2, n_embd=16),
        tokens(30, 9),
    ),
    "Autoencoder": (lambda: models.Autoencoder(20, [16], 4, output="sigmoid"), floats(20)),
    "ConvAutoencoder": (lambda: models.ConvAutoencoder(1, (4, 8)), floats(1, 8, 8)),
}


def build(builder):
    nt.manual_seed(0)
    return builder()


def run_case(name, builder, make, path, opset=17):
    """Export the case, run it in onnxruntime at each batch size of ``BATCHES``; return the
    largest absolute difference from neuronet's outputs per batch size."""
    import onnxruntime as ort

    model = build(builder).eval()
    rng = np.random.default_rng(0)
    batch_dim = 1 if name in SEQ_FIRST else 0
    nt.onnx.export(model, nt.tensor(make(3, rng)), path, opset=opset, batch_dim=batch_dim)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diffs = []
    for n in BATCHES:
        x = make(n, rng)
        if batch_dim == 1:
            x = np.ascontiguousarray(x)
        with nt.no_grad():
            out = model(nt.tensor(x))
        expected = [t.array for t in (out if isinstance(out, (tuple, list)) else (out,))]
        got = session.run(None, {"input": x})
        assert len(got) == len(expected)
        diff = 0.0
        for e, g in zip(expected, got):
            assert g.shape == e.shape, (name, n, g.shape, e.shape)
            diff = max(diff, float(np.max(np.abs(g.astype(np.float64) - e))) if e.size else 0.0)
        diffs.append(diff)
    return diffs
