"""Every reference architecture reaches its quality bar on real bundled data, trained exactly as
`neuronet train --model X` trains it (the command's per-model defaults)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuronet.cli.train_cmd import train

pytestmark = pytest.mark.slow


def run(tmp_path, model, **flags):
    code = train({"model": model, "quiet": True, "out": str(tmp_path / model), **flags})
    assert code == 0
    return json.loads((tmp_path / model / "metrics.json").read_text())["test"]


@pytest.mark.parametrize(
    "model, bar",
    [
        ("mlp", 0.97),
        ("lenet", 0.98),
        ("resnet", 0.97),
        ("lstm", 0.95),
        ("gru", 0.95),
        ("rnn", 0.90),
        ("transformer", 0.95),
    ],
)
def test_classifiers_reach_their_bar_on_digits(tmp_path, model, bar):
    assert run(tmp_path, model)["accuracy"] >= bar


def test_gpt_beats_a_unigram_model_by_25_percent(tmp_path):
    from neuronet.data import load

    data = load("pydoc_text", block_size=64)
    counts = np.bincount(data.train.ids, minlength=data.vocab_size) + 1.0  # add-one smoothing
    log_p = np.log(counts / counts.sum())
    unigram = -float(np.mean(log_p[data.test.ids]))
    loss = run(tmp_path, "gpt", steps=200)["loss"]  # 250 steps measured 1.93, bar ~2.43
    assert loss <= 0.75 * unigram, (loss, unigram)


def test_autoencoder_beats_pca_with_16_components(tmp_path):
    from neuronet.data import load_digits

    x_train = load_digits("train").arrays[0].astype(np.float64)
    x_test = load_digits("test").arrays[0].astype(np.float64)
    mean = x_train.mean(0)
    _, _, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    basis = vt[:16]
    recon = (x_test - mean) @ basis.T @ basis + mean
    pca_mse = float(np.mean((recon - x_test) ** 2))
    mse = run(tmp_path, "autoencoder")["mse"]
    assert mse <= pca_mse, (mse, pca_mse)
