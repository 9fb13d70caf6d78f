"""``neuronet export RUN --format onnx [--opset N]``, run as a user runs it."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import models
from support.cli import neuronet

ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed; install `onnx` extra")
pytest.importorskip("onnx", reason="onnx not installed; install the `onnx` extra")


def test_export_a_trained_run(tmp_path):
    run = tmp_path / "lstm-run"
    done = neuronet("train", "--model", "lstm", "--steps", "2", "--quiet", "--out", str(run))
    assert done.returncode == 0, done.stderr
    done = neuronet("export", str(run), "--format", "onnx", "--opset", "18")
    assert done.returncode == 0, done.stderr
    assert "onnxruntime matches neuronet" in done.stdout
    model = nt.load_model(run)
    x = np.random.default_rng(1).random((3, 64)).astype(np.float32)  # flat digit rows
    session = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": model.preprocess(x)})
    np.testing.assert_allclose(got, model.predict(x), atol=1e-4)


def test_export_a_saved_language_model(tmp_path):
    nt.manual_seed(0)
    gpt = models.GPT(vocab_size=12, block_size=8, n_layer=1, n_head=2, n_embd=8)
    nt.save_model(
        gpt,
        tmp_path,
        task="language_model",
        preprocessing={"input_shape": [8], "input_dtype": "int64"},
    )
    done = neuronet("export", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "model.onnx").is_file()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "tflite"], "unknown --format 'tflite'"),
        (["--opset", "9"], "--opset must be from 17 to 21"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(tmp_path, args, message):
    nt.save_model(models.MLP(4, [3], 2), tmp_path, preprocessing={"input_shape": [4]})
    done = neuronet("export", str(tmp_path), *args)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_run_and_unrecorded_shape(tmp_path):
    done = neuronet("export", str(tmp_path / "nope"))
    assert done.returncode == 2 and "does not exist" in done.stderr
    nt.save_model(models.MLP(4, [3], 2), tmp_path)  # no input shape recorded
    done = neuronet("export", str(tmp_path))
    assert done.returncode == 2 and "input shape" in done.stderr
