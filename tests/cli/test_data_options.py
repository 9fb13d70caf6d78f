"""Regression from CSV (--task, --label, automatic detection), --encoding, Fashion-MNIST."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import neuronet, one_line_error, read_csv, write_rows

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _houses(path, n=400):
    rng = np.random.default_rng(1)
    area = rng.uniform(50, 250, n)
    rooms = rng.integers(1, 7, n).astype(float)
    age = rng.uniform(0, 60, n)
    price = 1500 * area + 8000 * rooms - 900 * age + rng.normal(0, 8000, n) + 50000
    write_rows(path, np.column_stack([price, area, rooms, age]), ["price", "area", "rooms", "age"])
    return np.column_stack([area, rooms, age]), price


def test_regression_is_detected_trained_and_reported_in_the_targets_units(tmp_path):
    x, price = _houses(tmp_path / "houses.csv")
    run = tmp_path / "run"
    out = neuronet(
        "train",
        "--data",
        f"csv:{tmp_path / 'houses.csv'}",
        "--label",
        "price",
        "--epochs",
        "40",
        "--quiet",
        "--out",
        run,
    ).stdout
    assert "label column 'price': it holds 400 distinct non-integer values -> regression" in out
    assert "test MSE" in out and "MAE" in out and "R2" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "regression" and metrics["test"]["r2"] > 0.95
    assert metrics["test"]["mae"] < 15000  # in dollars: the target was un-standardised
    # predict returns prices; its error on the whole file matches the reported scale
    write_rows(tmp_path / "x.csv", x, ["area", "rooms", "age"])
    rows = read_csv(neuronet("predict", run, tmp_path / "x.csv").stdout)
    assert rows[0] == ["prediction"]
    predicted = np.array([float(r[0]) for r in rows[1:]])
    r2 = 1 - np.sum((predicted - price) ** 2) / np.sum((price - price.mean()) ** 2)
    assert r2 > 0.95
    evaluated = json.loads(neuronet("evaluate", run).stdout)
    assert evaluated["mse"] == pytest.approx(metrics["test"]["mse"], rel=1e-6)
    assert evaluated["r2"] == pytest.approx(metrics["test"]["r2"], rel=1e-6)


def test_task_and_label_override_the_detection(tmp_path):
    rows = [[i % 3, i * 0.1, (i * 7) % 5] for i in range(60)]  # label column first, no header
    write_rows(tmp_path / "t.csv", rows)
    out = neuronet(
        "train",
        "--data",
        f"csv:{tmp_path / 't.csv'}",
        "--label",
        "0",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        tmp_path / "a",
    ).stdout
    assert "'column 0': it holds 3 distinct integer values -> classification" in out
    out = neuronet(
        "train",
        "--data",
        f"csv:{tmp_path / 't.csv'}",
        "--label",
        "0",
        "--task",
        "regression",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        tmp_path / "b",
    ).stdout
    assert "task='regression' was given -> regression" in out
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["task"] == "regression"
    toml = (tmp_path / "b" / "config.toml").read_text()
    assert 'task = "regression"' in toml and 'label = "0"' in toml
    proc = neuronet("train", "--data", "digits", "--label", "x", "--quiet", check=False)
    one_line_error(proc, "--label and --task apply to CSV data")


def test_text_encoding_and_empty_text(tmp_path):
    text = tmp_path / "latin.txt"
    text.write_bytes(("café crème brûlée, déjà vu. " * 80).encode("latin-1"))
    proc = neuronet(
        "train",
        "--model",
        "gpt",
        "--data",
        f"text:{text}",
        "--steps",
        "2",
        "--block-size",
        "8",
        "--quiet",
        "--out",
        tmp_path / "r",
        check=False,
    )
    one_line_error(proc, "is not valid utf-8 text")
    neuronet(
        "train",
        "--model",
        "gpt",
        "--data",
        f"text:{text}",
        "--steps",
        "2",
        "--block-size",
        "8",
        "--encoding",
        "latin-1",
        "--quiet",
        "--out",
        tmp_path / "r",
    )
    assert 'encoding = "latin-1"' in (tmp_path / "r" / "config.toml").read_text()
    assert "é" in json.loads((tmp_path / "r" / "preprocess.json").read_text())["vocab"]["chars"]
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    proc = neuronet("train", "--model", "gpt", "--data", f"text:{empty}", "--quiet", check=False)
    one_line_error(proc, f"{str(empty)!r} is empty")


def _fake_fashion(root: Path, n_train=96, n_test=32) -> np.ndarray:
    """Fashion-MNIST's four gzipped IDX files with tiny random images (as the Debian package
    ships them, gzipped); returns the test labels."""
    rng = np.random.default_rng(0)
    root.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n, dtype=np.uint8) % 10
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        images[:, labels.astype(int) + 5, 3:25] = 255  # a bright row tells the class
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            head = bytes([0, 0, 8, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
            with gzip.open(root / f"{prefix}-{kind}.gz", "wb") as f:
                f.write(head + arr.tobytes())
    return images, labels


def test_fashion_mnist_gz_folder_with_class_names(tmp_path):
    images, labels = _fake_fashion(tmp_path / "fashion")
    run = tmp_path / "run"
    neuronet(
        "train",
        "--model",
        "lenet",
        "--data",
        f"fashion_mnist:{tmp_path / 'fashion'}",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        run,
    )
    prep = json.loads((run / "preprocess.json").read_text())
    assert prep["scale"] == pytest.approx(1 / 255) and prep["sample_shape"] == [1, 28, 28]
    assert prep["classes"][9] == "Ankle boot"
    write_rows(tmp_path / "x.csv", images.reshape(len(images), -1)[:10])  # raw 0..255 pixels
    neuronet("predict", run, tmp_path / "x.csv", "--output", tmp_path / "p.csv")
    table = read_csv(tmp_path / "p.csv")
    assert table[0][2:] == [f"prob_{name}" for name in prep["classes"]]
    for row in table[1:]:  # the printed name is the most probable class's name
        probs = [float(v) for v in row[2:]]
        assert row[0] == prep["classes"][int(np.argmax(probs))]


@pytest.mark.skipif(
    not FASHION_DIR.is_dir() or shutil.which("dpkg") is None,
    reason="the Debian package dataset-fashion-mnist is not installed "
    "(apt-get install dataset-fashion-mnist)",
)
def test_the_debian_fashion_mnist_package_loads():
    from neuronet.data import load

    data = load(f"fashion_mnist:{FASHION_DIR}")
    assert (len(data.train), len(data.test), data.input_shape) == (60000, 10000, (1, 28, 28))
    x, y = data.test.arrays
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y).tolist() == [1000] * 10
