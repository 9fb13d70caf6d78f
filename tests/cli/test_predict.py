"""predict and evaluate apply the preprocessing the run was trained with (preprocess.json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import digits_test_rows, neuronet, one_line_error, read_csv, write_rows


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "mlp"
    neuronet("train", "--epochs", "3", "--quiet", "--out", run)
    return run


def _accuracy(stdout: str, labels) -> float:
    rows = read_csv(stdout)
    assert rows[0] == ["prediction", "confidence"]
    predicted = np.array([int(r[0]) for r in rows[1:]])
    return float(np.mean(predicted == labels))


def test_preprocess_json_records_the_digits_pipeline(mlp_run):
    prep = json.loads((mlp_run / "preprocess.json").read_text())
    assert prep["format"] == "neuronet-preprocessing" and prep["version"] == 1
    assert prep["scale"] == pytest.approx(1 / 16) and prep["features"] == 64
    assert prep["sample_shape"] == [64] and prep["label_index"] == 64
    assert prep["classes"] == list(range(10)) and prep["rows_as_sequence"] is False


@pytest.mark.parametrize("with_label", [True, False])
def test_predict_on_the_file_rows_matches_evaluate(mlp_run, tmp_path, with_label):
    rows = digits_test_rows()
    samples = tmp_path / "samples.csv"
    write_rows(samples, rows if with_label else rows[:, :64])
    accuracy = _accuracy(neuronet("predict", mlp_run, samples).stdout, rows[:, 64])
    evaluated = json.loads(neuronet("evaluate", mlp_run).stdout)
    assert accuracy == pytest.approx(evaluated["accuracy"], abs=1e-12)
    assert accuracy > 0.8  # the raw 0..16 pixels were scaled as in training


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_sequence_models_take_the_same_rows(tmp_path, model):
    run = tmp_path / model
    neuronet("train", "--model", model, "--epochs", "1", "--quiet", "--out", run)
    prep = json.loads((run / "preprocess.json").read_text())
    assert prep["sample_shape"] == [1, 8, 8] and prep["rows_as_sequence"] is True
    rows = digits_test_rows()
    write_rows(tmp_path / "x.csv", rows[:, :64])
    accuracy = _accuracy(neuronet("predict", run, tmp_path / "x.csv").stdout, rows[:, 64])
    evaluated = json.loads(neuronet("evaluate", run).stdout)
    assert accuracy == pytest.approx(evaluated["accuracy"], abs=1e-12)
    # model.json's steps are the same preprocessing: load_model(run).predict takes raw rows too
    import neuronet as nt

    logits = nt.load_model(run).predict(rows[:, :64].astype(np.float32))
    assert np.mean(logits.argmax(1) == rows[:, 64]) == pytest.approx(accuracy, abs=1e-12)


def test_npy_input_and_output_file_with_probabilities(mlp_run, tmp_path):
    rows = digits_test_rows()[:7]
    np.save(tmp_path / "x.npy", rows[:, :64].astype(np.float32))
    out = tmp_path / "pred.csv"
    proc = neuronet("predict", mlp_run, tmp_path / "x.npy", "--output", out)
    assert "7 predictions written to" in proc.stdout
    table = read_csv(out)
    assert table[0] == ["prediction", "confidence"] + [f"prob_{k}" for k in range(10)]
    probs = np.array([[float(v) for v in r[2:]] for r in table[1:]])
    assert probs.shape == (7, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert [int(r[0]) for r in table[1:]] == probs.argmax(axis=1).tolist()
    assert [float(r[1]) for r in table[1:]] == pytest.approx(probs.max(axis=1), abs=1e-4)
    assert out.read_bytes().count(b"\r") == 0


def test_bad_inputs_are_one_line_errors(mlp_run, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    one_line_error(neuronet("predict", mlp_run, empty, check=False), "is empty")
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    one_line_error(neuronet("predict", mlp_run, blank, check=False), "is empty")
    narrow = tmp_path / "narrow.csv"
    write_rows(narrow, np.ones((2, 10)))
    one_line_error(
        neuronet("predict", mlp_run, narrow, check=False),
        "expects 64 feature values per row (or those and the label column)",
    )
    np.save(tmp_path / "narrow.npy", np.ones((2, 10), np.float32))
    one_line_error(
        neuronet("predict", mlp_run, tmp_path / "narrow.npy", check=False),
        "takes 64 values per sample",
    )
    text = tmp_path / "words.csv"
    write_rows(text, [["a"] * 64, ["1"] * 63 + ["x"]])
    one_line_error(neuronet("predict", mlp_run, text, check=False), "'x' is not a number")


def test_csv_class_names_header_and_column_order(tmp_path):
    rng = np.random.default_rng(0)
    area = rng.uniform(40, 250, 300)
    rooms = rng.integers(1, 7, 300)
    size = np.where(area > 160, "large", np.where(area > 90, "medium", "small"))
    data = tmp_path / "flats.csv"
    write_rows(data, [[s, a, r] for s, a, r in zip(size, area, rooms)], ["size", "area", "rooms"])
    run = tmp_path / "run"
    out = neuronet(
        "train",
        "--data",
        f"csv:{data}",
        "--label",
        "size",
        "--epochs",
        "40",
        "--quiet",
        "--out",
        run,
    ).stdout
    assert "label column 'size': it holds non-numeric values (class names) -> classification" in (
        out
    )
    prep = json.loads((run / "preprocess.json").read_text())
    assert prep["classes"] == ["large", "medium", "small"] and prep["named_columns"] is True
    assert prep["feature_names"] == ["area", "rooms"] and len(prep["mean"]) == 2
    # columns by name in another order, no label column; then the training layout with labels
    query = tmp_path / "query.csv"
    write_rows(query, [[3, 240.0], [2, 50.0], [4, 130.0]], ["rooms", "area"])
    rows = read_csv(neuronet("predict", run, query).stdout)
    assert [r[0] for r in rows[1:]] == ["large", "small", "medium"]
    again = read_csv(neuronet("predict", run, data).stdout)
    accuracy = np.mean([r[0] for r in again[1:]] == size)
    assert accuracy > 0.9
