"""The command line never shows a traceback for a user's mistake, never half-writes or silently
replaces a run, resumes exactly after Ctrl-C, and two runs with one seed are bitwise equal."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from neuronet import cli, io
from neuronet.data import load_digits
from support.cli import neuronet


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A trained MLP run, a tiny GPT run and some input files, shared by the error tests."""
    root = tmp_path_factory.mktemp("runs")
    assert cli.main(["train", "--epochs", "1", "--quiet", "--out", str(root / "mlp")]) == 0
    text = root / "corpus.txt"
    text.write_text("hello world, hello neural networks. " * 100)
    gpt = ["train", "--model", "gpt", "--data", f"text:{text}", "--steps", "2"]
    assert cli.main([*gpt, "--block-size", "16", "--quiet", "--out", str(root / "gpt")]) == 0
    x = load_digits("test").arrays[0][:4]
    np.save(root / "strings.npy", np.array(["a", "b"]))
    np.save(root / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = x.copy()
    bad[2, 7] = np.nan
    np.save(root / "nan.npy", bad)
    np.savetxt(root / "inf.csv", np.where(np.arange(64) == 3, np.inf, x[:1]), delimiter=",")
    rng = np.random.default_rng(0)
    five = np.column_stack([rng.random((30, 5)), rng.integers(0, 10, 30)])
    np.savetxt(root / "five.csv", five, delimiter=",", fmt="%g")
    (root / "nan_feature.csv").write_text("a,b,label\n1,2,0\n3,nan,1\n5,6,0\n")
    (root / "nan_label.csv").write_text("a,b,label\n1,2,0\n3,4,nan\n5,6,1\n")
    (root / "typed.toml").write_text('[train]\nlr = "fast"\n')
    return root


def _damage(run: Path, name: str, how: str, dest: Path) -> Path:
    shutil.copytree(run, dest)
    data = (run / name).read_bytes()
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "empty":
        data = b""
    else:  # one flipped bit in the tensor bytes
        data = bytearray(data)
        data[-5] ^= 0x10
        data = bytes(data)
    (dest / name).write_bytes(data)
    return dest


def _one_line(capsys, code, *messages):
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for message in messages:
        assert message in lines[0], err
    return lines[0]


@pytest.mark.parametrize("how", ["truncated", "empty", "bit-flipped"])
@pytest.mark.parametrize(
    "command, file",
    [
        ("train --resume RUN", "checkpoint.safetensors"),
        ("evaluate RUN", "model.safetensors"),
        ("predict RUN X", "model.safetensors"),
    ],
)
def test_a_damaged_run_file_is_one_line(runs, tmp_path, capsys, command, file, how):
    run = _damage(runs / "mlp", file, how, tmp_path / "run")
    argv = command.replace("RUN", str(run)).replace("X", str(runs / "inf.csv")).split()
    before = (run / "config.toml").read_bytes()
    code = cli.main(argv + (["--quiet"] if argv[0] == "train" else []))
    expected = {"truncated": "truncated", "empty": "only 0 bytes", "bit-flipped": "checksum"}
    _one_line(capsys, code, file, expected[how])
    assert (run / "config.toml").read_bytes() == before  # nothing rewritten


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--grad-clip", "-1"], "--grad-clip must be a positive"),
        (["train", "--weight-decay", "-1"], "--weight-decay must be >= 0"),
        (["train", "--lr", "inf"], "--lr must be positive"),
        (["train", "--config", "TYPED"], "--lr must be a number, got 'fast'"),
        (["train", "--data", "csv:NAN_FEATURE"], "line 3, column 'b': nan is not a finite"),
        (["train", "--data", "csv:NAN_LABEL"], "line 3, column 'label': nan is not a finite"),
        (["sample", "GPT", "--prompt", "hello", "--top-k", "0"], "top_k must be >= 1"),
        (["predict", "MLP", "STRINGS"], "holds an array of <U1, not numbers"),
        (["predict", "MLP", "OBJECTS"], "cannot be read without unpickling"),
        (["predict", "MLP", "NAN_NPY"], "row 2, column 7: nan is not a finite number"),
        (["predict", "MLP", "INF_CSV"], "line 1, column 'column 3': inf is not a finite"),
        (["evaluate", "MLP", "--data", "csv:FIVE"], "samples of 64 values; --data csv:"),
        (["train", "--resume", "MLP", "--model", "lenet"], "--model lenet conflicts with the run"),
        (["train", "--resume", "MLP", "--lr", "0.5"], "--lr 0.5 conflicts with the run"),
        (["train", "--resume", "MLP"], "nothing to resume"),
        (["train", "--out", "MLP"], "already holds a run"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_user_mistakes_are_one_line_with_exit_code_2(runs, tmp_path, capsys, argv, message):
    names = {
        "TYPED": "typed.toml",
        "GPT": "gpt",
        "MLP": "mlp",
        "STRINGS": "strings.npy",
        "OBJECTS": "objects.npy",
        "NAN_NPY": "nan.npy",
        "INF_CSV": "inf.csv",
        "FIVE": "five.csv",
        "NAN_FEATURE": "nan_feature.csv",
        "NAN_LABEL": "nan_label.csv",
    }
    run = tmp_path / "mlp"
    shutil.copytree(runs / "mlp", run)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir())

    def path(word):
        for key, name in names.items():
            word = word.replace(key, str(run if name == "mlp" else runs / name))
        return word

    argv = [path(a) for a in argv]
    if argv[0] == "train":
        argv.append("--quiet")
        if "--out" not in argv and "--resume" not in argv:
            argv += ["--out", str(tmp_path / "new")]
    _one_line(capsys, cli.main(argv), message)
    assert not (tmp_path / "new").exists()  # a run that fails before training leaves nothing
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.iterdir()) == before


def test_a_bug_keeps_its_traceback(monkeypatch):
    from neuronet.cli import commands

    def broken(flags):
        return None + 1  # a TypeError raised by Python, not by a check in neuronet

    monkeypatch.setattr(commands, "summary", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.main(["summary"])


def test_overwrite_replaces_a_run(runs, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(runs / "mlp", run)
    (run / "notes.txt").write_text("mine")
    assert cli.main(["train", "--epochs", "2", "--quiet", "--out", str(run), "--overwrite"]) == 0
    assert json.loads((run / "metrics.json").read_text())["epochs"] == 2
    assert (run / "notes.txt").read_text() == "mine"  # only the run's own files are replaced


def test_config_works_from_any_directory(tmp_path):
    data = tmp_path / "project" / "table.csv"
    data.parent.mkdir()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4))
    np.savetxt(data, np.column_stack([x, x[:, 0] > 0]), delimiter=",")
    first = neuronet(
        "train", "--data", "csv:table.csv", "--epochs", "2", "--quiet", "--out", "run",
        cwd=data.parent,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    config = data.parent / "run" / "config.toml"
    assert f'data = "csv:{data}"' in config.read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = neuronet("train", "--config", str(config), "--quiet", "--out", "again", cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    a = json.loads((data.parent / "run" / "history.json").read_text())
    b = json.loads((elsewhere / "again" / "history.json").read_text())
    assert a == b


def _tensors(run: Path) -> dict:
    return {k: v.array for k, v in io.load_state_dict(run / "model.safetensors").items()}


def _same_run(a: Path, b: Path) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for k in ta:
        assert np.array_equal(ta[k], tb[k]), k
    ha = json.loads((a / "history.json").read_text())
    hb = json.loads((b / "history.json").read_text())
    assert ha == hb
    ma, mb = (json.loads((r / "metrics.json").read_text()) for r in (a, b))
    assert ma["test"] == mb["test"] and ma["steps"] == mb["steps"]


TRAIN = ["train", "--epochs", "5", "--dropout", "0.2", "--seed", "3"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """An uninterrupted seeded run, through the command line."""
    run = tmp_path_factory.mktemp("straight") / "run"
    proc = neuronet(*TRAIN, "--quiet", "--out", str(run))
    assert proc.returncode == 0, proc.stderr
    return run


def test_two_runs_with_one_seed_are_bitwise_identical(straight, tmp_path):
    proc = neuronet(*TRAIN, "--quiet", "--out", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    _same_run(straight, tmp_path / "b")
    other = neuronet(*TRAIN[:-1], "4", "--epochs", "1", "--quiet", "--out", str(tmp_path / "c"))
    assert other.returncode == 0
    first = json.loads((straight / "history.json").read_text())["steps"][0]
    assert json.loads((tmp_path / "c" / "history.json").read_text())["steps"][0] != first


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_then_resume_equals_the_uninterrupted_run(straight, tmp_path, presses):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuronet", *TRAIN, "--out", str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.time() + 120
        for line in proc.stdout:  # the progress summary of the first epoch
            if line.startswith("epoch 1/5") or time.time() > deadline:
                break
        for _ in range(presses):
            proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, out
    assert "interrupted: continue with `neuronet train --resume" in out
    state = io.read_metadata(run / "checkpoint.safetensors")["extra"]["trainer"]
    assert 1 <= state["epoch"] < 5  # stopped inside the run
    resumed = neuronet("train", "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    _same_run(straight, run)


def test_a_run_that_goes_non_finite_keeps_its_last_finite_files(tmp_path):
    run = tmp_path / "run"
    proc = neuronet("train", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "2", "--quiet",
                    "--out", str(run))  # fmt: skip
    assert proc.returncode == 1
    assert "the loss became nan at step 2 (epoch 1, batch 2/46)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (run / "model.safetensors").exists()
    assert not (run / "checkpoint.safetensors").exists()  # no epoch ended finite
    assert json.loads((run / "metrics.json").read_text())["nonfinite"]["step"] == 2


@pytest.mark.parametrize(
    "first, extended",
    [(["--steps", "5"], ["--steps", "60"]), (["--epochs", "2"], ["--epochs", "3"])],
    ids=["by steps", "by epochs"],
)
def test_extending_a_run_trains_exactly_what_was_asked(tmp_path, first, extended):
    base = ["train", "--dropout", "0.1", "--val-every", "0", "--quiet"]  # one validation plan
    assert cli.main([*base, *extended, "--out", str(tmp_path / "straight")]) == 0
    run = tmp_path / "run"
    assert cli.main([*base, *first, "--out", str(run)]) == 0
    assert cli.main(["train", "--resume", str(run), *extended, "--quiet"]) == 0
    _same_run(tmp_path / "straight", run)
    steps = json.loads((run / "metrics.json").read_text())["steps"]
    assert steps == (60 if first[0] == "--steps" else 3 * 46)
    assert "epochs = 3" in (run / "config.toml").read_text() or first[0] == "--steps"
