"""The `neuronet` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_helpers import digits_test_rows, neuronet, read_csv


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "sample", "summary"])
def test_help_with_an_example(command):
    out = neuronet(command, "--help").stdout
    assert "usage: neuronet " + command in out and "example" in out


def test_train_evaluate_predict_resume_and_config_round_trip(tmp_path):
    run = tmp_path / "run"
    out = neuronet("train", "--epochs", "2", "--quiet", "--out", str(run)).stdout
    assert "test accuracy" in out
    for name in (
        "config.toml",
        "model.safetensors",
        "preprocess.json",
        "checkpoint.safetensors",
        "history.csv",
        "curves.png",
        "metrics.json",
    ):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    evaluated = json.loads(neuronet("evaluate", str(run)).stdout)
    assert evaluated["accuracy"] == pytest.approx(metrics["test"]["accuracy"])

    x = digits_test_rows()[:5, :64]  # as the digits file holds them: pixels 0..16
    np.savetxt(tmp_path / "x.csv", x, delimiter=",")
    lines = neuronet("predict", str(run), str(tmp_path / "x.csv")).stdout.splitlines()
    assert lines[0] == "prediction,confidence" and len(lines) == 6

    resumed = neuronet("train", "--resume", str(run), "--epochs", "3", "--quiet").stdout
    assert "test accuracy" in resumed
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 3

    again = tmp_path / "again"
    neuronet(
        "train",
        "--config",
        str(run / "config.toml"),
        "--epochs",
        "2",
        "--quiet",
        "--out",
        str(again),
    )
    first = json.loads((run / "history.json").read_text())["epochs"][:2]
    second = json.loads((again / "history.json").read_text())["epochs"]
    assert [e["loss"] for e in first] == [e["loss"] for e in second]  # reproduces the run


def test_sample_and_summary(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("hello world, hello neural networks. " * 200)
    run = tmp_path / "gpt"
    neuronet(
        "train",
        "--model",
        "gpt",
        "--data",
        f"text:{text}",
        "--steps",
        "3",
        "--block-size",
        "16",
        "--quiet",
        "--out",
        str(run),
    )
    out = neuronet(
        "sample",
        str(run),
        "--prompt",
        "hello",
        "--tokens",
        "20",
        "--temperature",
        "0.8",
        "--top-k",
        "5",
    ).stdout
    assert out.startswith("hello") and len(out.rstrip("\n")) == 25
    table = neuronet("summary", "--model", "lenet").stdout
    assert "Conv2d" in table and "Total params" in table


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["train", "--epoch", "3"],
            "unrecognized arguments: --epoch 3 (see neuronet train --help)",
        ),
        (["predict", "run", "x.csv", "--out", "y"], "(see neuronet predict --help)"),
        (["train", "--task", "ranking"], "invalid choice: 'ranking'"),
        (["train", "--model", "gpt", "--data", "digits", "--quiet"], "needs text data"),
        (["train", "--data", "csv:/nonexistent.csv", "--quiet"], "/nonexistent.csv"),
        (["train", "--data", "mnist:/nonexistent", "--quiet"], "/nonexistent"),
        (["train", "--config", "/nonexistent.toml"], "does not exist"),
        (["train", "--lr", "-1", "--quiet"], "--lr must be positive"),
        (["evaluate", "/nonexistent-run"], "no trained model"),
        (["sample", "/nonexistent-run"], "no trained model"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args, message):
    proc = neuronet(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_summary_prints_once_and_version():
    table = neuronet("summary", "--model", "mlp").stdout
    assert table.count("Total params") == 1 and table.count("Layer (type)") == 1
    assert neuronet("--version").stdout.strip() == f"neuronet {__import__('neuronet').__version__}"


def test_console_lr_is_the_rate_the_epoch_used_as_in_history(tmp_path):
    out = neuronet("train", "--epochs", "3", "--schedule", "cosine", "--out", tmp_path).stdout
    console = [float(m) for m in re.findall(r"^epoch \d/3 .*?  lr (\S+)", out, flags=re.M)]
    rows = read_csv(tmp_path / "history.csv")
    history = [float(r[rows[0].index("lr")]) for r in rows[1:]]
    assert len(console) == 3 and console == pytest.approx(history, rel=1e-3)
    assert history[0] == pytest.approx(2e-3)  # the first epoch ran at the initial rate
    assert b"\r" not in (tmp_path / "history.csv").read_bytes()
