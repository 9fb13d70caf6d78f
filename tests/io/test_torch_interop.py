"""PyTorch interop: every reference model exchanges weights with its PyTorch twin (built from
the same definition, ``torch_twins.py``) in both directions with outputs equal within 1e-5,
and training continues across frameworks with the same loss curve."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import functional as F
from neuronet import models
from neuronet.io import from_torch_state_dict, load_torch, read_torch_file, to_torch_state_dict

torch = pytest.importorskip(
    "torch", reason="torch not installed; install the `torch` extra (torch==2.13.0)"
)
pytestmark = pytest.mark.parity

from torch_twins import twin  # noqa: E402


def floats(*shape):
    return lambda n, rng: rng.standard_normal((n, *shape)).astype(np.float32)


def tokens(vocab, length):
    return lambda n, rng: rng.integers(0, vocab, size=(n, length)).astype(np.int64)


def classes(k):
    return lambda x, rng: rng.integers(0, k, size=x.shape[0]).astype(np.int64)


def next_tokens(vocab):
    return lambda x, rng: rng.integers(0, vocab, size=x.shape).astype(np.int64)


def same(x, rng):
    return x


CASES = {
    # name: (builder, input maker, target maker, loss)
    "MLP": (lambda: models.MLP(20, [16, 12], 5, norm="batch"), floats(20), classes(5), "ce"),
    "LeNet": (
        lambda: models.LeNet(1, 10, image_size=8, channels=(4, 8)),
        floats(1, 8, 8),
        classes(10),
        "ce",
    ),
    "ResNet": (lambda: models.ResNet(3, 10, widths=(4, 8)), floats(3, 8, 8), classes(10), "ce"),
    "RecurrentClassifier_lstm": (
        lambda: models.RecurrentClassifier("lstm", 8, 16, 2, 10, bidirectional=True),
        floats(6, 8),
        classes(10),
        "ce",
    ),
    "RecurrentClassifier_gru": (
        lambda: models.RecurrentClassifier("gru", 8, 16),
        floats(6, 8),
        classes(10),
        "ce",
    ),
    "RecurrentClassifier_rnn": (
        lambda: models.RecurrentClassifier("rnn", 8, 16),
        floats(6, 8),
        classes(10),
        "ce",
    ),
    "RecurrentLM": (
        lambda: models.RecurrentLM(20, "gru", 8, 16),
        tokens(20, 6),
        next_tokens(20),
        "lm",
    ),
    "TransformerClassifier": (
        lambda: models.TransformerClassifier(
            8, 10, d_model=16, nhead=4, num_layers=2, dim_feedforward=32, dropout=0.0, max_len=8
        ),
        floats(8, 8),
        classes(10),
        "ce",
    ),
    "GPT": (
        lambda: models.GPT(vocab_size=30, block_size=16, n_layer=2, n_head=2, n_embd=16),
        tokens(30, 9),
        next_tokens(30),
        "lm",
    ),
    "Autoencoder": (lambda: models.Autoencoder(20, [16], 4), floats(20), same, "mse"),
    "ConvAutoencoder": (lambda: models.ConvAutoencoder(1, (4, 8)), floats(1, 8, 8), same, "mse"),
}


def _build(name):
    nt.manual_seed(0)
    model = CASES[name][0]()
    torch.manual_seed(1)
    return model, twin(model)


def _nt_out(model, x):
    with nt.no_grad():
        return model(nt.tensor(x)).array


def _torch_out(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_weights_both_ways_give_the_same_outputs(name):
    model, torch_model = _build(name)
    x = CASES[name][1](4, np.random.default_rng(0))
    model.eval()
    torch_model.eval()
    torch_model.load_state_dict(to_torch_state_dict(model))  # neuronet -> torch
    np.testing.assert_allclose(_torch_out(torch_model, x), _nt_out(model, x), rtol=1e-5, atol=1e-5)
    torch.manual_seed(7)
    fresh = twin(model).eval()  # other weights, made by PyTorch
    from_torch_state_dict(model, fresh.state_dict())  # torch -> neuronet
    np.testing.assert_allclose(_nt_out(model, x), _torch_out(fresh, x), rtol=1e-5, atol=1e-5)


def _loss_nt(kind, out, y):
    if kind == "ce":
        return F.cross_entropy(out, y)
    if kind == "lm":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.mse_loss(out, y)


def _loss_torch(kind, out, y):
    tf = torch.nn.functional
    if kind == "ce":
        return tf.cross_entropy(out, y)
    if kind == "lm":
        return tf.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return tf.mse_loss(out, y)


def _steps_nt(model, batches, kind, lr):
    opt = nt.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for x, y in batches:
        loss = _loss_nt(kind, model(nt.tensor(x)), nt.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _steps_torch(model, batches, kind, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for x, y in batches:
        loss = _loss_torch(kind, model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", list(CASES))
def test_training_continues_across_frameworks(name):
    _, make_x, make_y, kind = CASES[name]
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(6):
        x = make_x(4, rng)
        batches.append((x, make_y(x, rng)))
    lr = 0.05
    # reference curves: six steps in one framework
    model, torch_model = _build(name)
    torch_model.load_state_dict(to_torch_state_dict(model))
    start = to_torch_state_dict(model)
    only_nt = _steps_nt(model, batches, kind, lr)
    only_torch = _steps_torch(torch_model, batches, kind, lr)
    # three steps in neuronet, then three in PyTorch
    model, torch_model = _build(name)
    from_torch_state_dict(model, start)
    first = _steps_nt(model, batches[:3], kind, lr)
    torch_model.load_state_dict(to_torch_state_dict(model))
    mixed = first + _steps_torch(torch_model, batches[3:], kind, lr)
    # three steps in PyTorch, then three in neuronet
    model, torch_model = _build(name)
    torch_model.load_state_dict(start)
    first = _steps_torch(torch_model, batches[:3], kind, lr)
    from_torch_state_dict(model, torch_model.state_dict())
    mixed_back = first + _steps_nt(model, batches[3:], kind, lr)
    for curve in (only_torch, mixed, mixed_back):
        np.testing.assert_allclose(curve, only_nt, rtol=1e-4, atol=1e-5)
    assert only_nt[-1] != only_nt[0]  # the steps did change the weights


def test_pt_file_round_trip(tmp_path):
    nt.manual_seed(0)
    model = models.MLP(6, [5], 3)
    torch_model = twin(model)
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": torch_model.state_dict()}, path)
    load_torch(model, path)
    x = np.random.default_rng(0).standard_normal((2, 6)).astype(np.float32)
    np.testing.assert_allclose(_nt_out(model, x), _torch_out(torch_model, x), rtol=1e-6)
    assert set(read_torch_file(path)) == set(model.state_dict())


def test_pickled_object_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), path)  # a whole module: needs unpickling code
    with pytest.raises(ValueError, match="weights-only"):
        read_torch_file(path)
    with pytest.raises(FileNotFoundError):
        read_torch_file(tmp_path / "missing.pt")


def test_shape_mismatch_changes_nothing():
    model = models.MLP(6, [5], 3)
    before = {k: v.array.copy() for k, v in model.state_dict().items()}
    bad = twin(models.MLP(6, [4], 3)).state_dict()
    with pytest.raises(RuntimeError, match="Size mismatch"):
        from_torch_state_dict(model, bad)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.array, before[k])
    with pytest.raises(TypeError, match="mapping"):
        from_torch_state_dict(model, [1, 2])
