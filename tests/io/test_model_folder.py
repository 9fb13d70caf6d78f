"""Self-describing model folders: save_model / load_model / Model.predict, and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuronet as nt
from neuronet import models, nn
from neuronet.io import CheckpointError, load_model, read_model_json, save_model

CASES = {
    "MLP": (lambda: models.MLP(12, [8], 3), (12,), "float32"),
    "LeNet": (lambda: models.LeNet(1, 10, image_size=8, channels=(4, 8)), (1, 8, 8), "float32"),
    "ResNet": (lambda: models.ResNet(3, 4, widths=(4, 8)), (3, 8, 8), "float32"),
    "RecurrentClassifier": (lambda: models.RecurrentClassifier("gru", 8, 6), (5, 8), "float32"),
    "RecurrentLM": (lambda: models.RecurrentLM(12, "lstm", 4, 6), (5,), "int64"),
    "TransformerClassifier": (
        lambda: models.TransformerClassifier(
            8, 3, d_model=8, nhead=2, num_layers=1, dim_feedforward=16, max_len=6
        ),
        (6, 8),
        "float32",
    ),
    "GPT": (lambda: models.GPT(12, 8, n_layer=1, n_head=2, n_embd=8), (5,), "int64"),
    "Autoencoder": (lambda: models.Autoencoder(12, [8], 3), (12,), "float32"),
    "ConvAutoencoder": (lambda: models.ConvAutoencoder(1, (2, 4)), (1, 8, 8), "float32"),
}


def _sample(shape, dtype, n=3):
    rng = np.random.default_rng(0)
    if dtype == "int64":
        return rng.integers(0, 12, size=(n, *shape)).astype(np.int64)
    return rng.standard_normal((n, *shape)).astype(np.float32)


@pytest.mark.parametrize("name", list(CASES))
def test_every_reference_model_rebuilds_from_its_folder(tmp_path, name):
    builder, shape, dtype = CASES[name]
    nt.manual_seed(0)
    model = builder().eval()
    save_model(
        model,
        tmp_path / "run",
        task="regression",
        preprocessing={"input_shape": shape, "input_dtype": dtype},
    )
    loaded = load_model(tmp_path / "run")
    assert type(loaded.module) is type(model) and not loaded.module.training
    x = _sample(shape, dtype)
    with nt.no_grad():
        expected = model(nt.tensor(x)).array
    np.testing.assert_array_equal(loaded.predict(x), expected)
    np.testing.assert_allclose(loaded.predict(x, batch_size=2), expected, rtol=1e-5, atol=1e-6)
    assert loaded.predict(x[0]).shape == expected[:1].shape  # one sample without a batch dim
    assert loaded.config == model.config and loaded.task == "regression"


def test_preprocessing_steps_turn_a_flat_row_into_the_input(tmp_path):
    nt.manual_seed(0)
    model = models.RecurrentClassifier("lstm", 6, 5, num_classes=3).eval()  # rows of 2x4x3 images
    steps = [
        {"op": "reshape", "shape": [2, 4, 3]},
        {"op": "transpose", "axes": [1, 0, 2]},
        {"op": "reshape", "shape": [4, 6]},
    ]
    save_model(
        model,
        tmp_path,
        task="classification",
        preprocessing={"input_shape": [4, 6], "steps": steps, "classes": ["a", "b", "c"]},
    )
    images = np.random.default_rng(0).standard_normal((5, 2, 4, 3)).astype(np.float32)
    rows = images.transpose(0, 2, 1, 3).reshape(5, 4, 6)
    loaded = load_model(tmp_path / "model.json")
    with nt.no_grad():
        expected = model(nt.tensor(rows)).array
    np.testing.assert_allclose(loaded.predict(images.reshape(5, -1)), expected, rtol=1e-6)
    assert loaded.classes == ["a", "b", "c"]
    with pytest.raises(ValueError, match="do not fit"):
        loaded.predict(np.zeros((2, 7), np.float32))


def test_schema_is_versioned_and_checked(tmp_path):
    save_model(models.MLP(4, [3], 2), tmp_path, preprocessing={"input_shape": [4]})
    document = read_model_json(tmp_path)
    assert document["format"] == "neuronet.model" and document["schema_version"] == 1
    assert document["architecture"]["name"] == "MLP" and document["weights"] == "model.safetensors"
    document["schema_version"] = 99
    (tmp_path / "model.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="schema version 99"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_model(tmp_path)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="no config"):
        save_model(nn.Linear(2, 2), tmp_path)
    with pytest.raises(ValueError, match="task"):
        save_model(models.MLP(4, [3], 2), tmp_path, task="magic")
    with pytest.raises(ValueError, match="preprocessing step 0"):
        save_model(models.MLP(4, [3], 2), tmp_path, preprocessing={"steps": [{"op": "fft"}]})
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing")
    nt.io.save(nn.Linear(2, 2), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match="no model config"):
        load_model(tmp_path / "w.safetensors")


def test_weights_file_of_an_older_run_still_loads(tmp_path):
    model = models.MLP(4, [3], 2)
    nt.io.save(
        model,
        tmp_path / "model.safetensors",
        metadata={"model_config": json.dumps(model.config), "task": "classification"},
    )
    loaded = nt.load_model(tmp_path)
    assert loaded.task == "classification" and loaded.predict(np.zeros((1, 4))).shape == (1, 2)
