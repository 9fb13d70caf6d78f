"""Step-based runs (--steps) write real curves and a per-step history, interrupted or not;
config.toml records the epochs and steps that ran."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from cli_helpers import neuronet, read_csv


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text("hello world, hello neural networks. " * 200)
    return path


def test_gpt_steps_history_per_step_validation_points_and_lr(corpus, tmp_path):
    run = tmp_path / "gpt"
    neuronet(
        "train",
        "--model",
        "gpt",
        "--data",
        f"text:{corpus}",
        "--steps",
        "20",
        "--block-size",
        "16",
        "--batch-size",
        "16",
        "--quiet",
        "--out",
        run,
    )
    raw = (run / "history.csv").read_bytes()
    assert b"\r" not in raw
    rows = read_csv(run / "history.csv")
    head, body = rows[0], rows[1:]
    assert head[:4] == ["step", "epoch", "loss", "lr"] and "val_loss" in head
    assert [int(r[0]) for r in body] == list(range(1, 21))  # one row per optimizer step
    val = {int(r[0]): float(r[head.index("val_loss")]) for r in body if r[head.index("val_loss")]}
    assert set(val) == {2, 4, 6, 8, 10, 12, 14, 16, 18, 20} | _epoch_ends(body)
    lrs = [float(r[3]) for r in body]
    assert len(set(lrs)) > 10  # warmup + cosine, per step
    assert lrs[-1] < 0.2 * max(lrs)  # the cosine decay, step by step
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # config.toml: what ran (the epochs the steps span), and --config reproduces it
    config = (run / "config.toml").read_text()
    epochs = max(int(r[1]) for r in body) + 1
    assert "steps = 20\n" in config and f"epochs = {epochs}\n" in config
    again = tmp_path / "again"
    neuronet("train", "--config", run / "config.toml", "--quiet", "--out", again)
    assert read_csv(again / "history.csv") == rows
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["steps"] == 20 and metrics["epochs"] == epochs


def _epoch_ends(body) -> set:
    last = {}
    for r in body:
        last[int(r[1])] = int(r[0])
    return set(last.values())


def test_steps_decide_and_a_conflicting_epochs_flag_is_named(corpus, tmp_path):
    proc = neuronet("train", "--epochs", "5", "--steps", "3", "--out", tmp_path / "r")
    assert (
        "note: --steps 3 decides the length (1 epoch(s) of 46 steps); --epochs 5 is not used"
        in (proc.stdout)
    )
    assert "epochs = 1\nsteps = 3\n" in (tmp_path / "r" / "config.toml").read_text()


def test_an_interrupted_step_run_still_writes_history_and_curves(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neuronet",
            "train",
            "--steps",
            "1000000",
            "--quiet",
            "--out",
            str(run),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (run / "checkpoint.safetensors").is_file() and time.time() < deadline:
        time.sleep(0.2)  # the first epoch has ended: some steps are in the history
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    rows = read_csv(run / "history.csv")
    assert rows[0][:4] == ["step", "epoch", "loss", "lr"] and len(rows) > 46
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((run / "metrics.json").read_text())["interrupted"] is True
