"""``neuronet train --nproc N`` launches mpiexec from the installed wheel and leaves one run
folder, written by rank 0; a bad --nproc is a one-line error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from mpi_runner import need_mpi

pytestmark = pytest.mark.xdist_group("mpi")


def _neuronet(*args, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "neuronet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )


def test_train_nproc_2_writes_one_run(tmp_path):
    need_mpi()
    out = tmp_path / "run"
    proc = _neuronet("train", "--nproc", "2", "--epochs", "1", "--steps", "6", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("test accuracy") == 1  # rank 0 reports, once
    assert proc.stdout.count("training MLP") == 1 and "2 ranks x batch 32" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["steps"] == 6 and metrics["test"]["accuracy"] > 0.2
    for name in ("model.safetensors", "checkpoint.safetensors", "config.toml", "history.csv"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".*tmp"))


@pytest.mark.parametrize("value", ["0", "-2"])
def test_bad_nproc_is_a_one_line_error(value, tmp_path):
    proc = _neuronet("train", "--nproc", value, "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"neuronet train: error: --nproc must be a positive integer, got {value}"
    ]
    assert not (tmp_path / "r").exists()
