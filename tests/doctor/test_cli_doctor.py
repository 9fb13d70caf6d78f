"""`neuronet doctor`, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json

from support.cli import neuronet


def test_doctor_on_model_and_data_flags_writes_the_report(tmp_path):
    out = tmp_path / "report"
    proc = neuronet("doctor", "--model", "mlp", "--data", "digits", "--lr", "5", "--out", str(out))
    assert proc.returncode in (0, 1), proc.stderr
    text = proc.stdout
    assert text.startswith("neuronet doctor: MLP")
    assert "lr.too_high" in text.split("Stages:")[0]
    assert "7. Short training run" in text
    for name in ("doctor.md", "doctor.json", "lr_find.png", "grad_flow.png", "loss.png"):
        assert (out / name).is_file(), name
    data = json.loads((out / "doctor.json").read_text())
    assert data["meta"]["lr"] == 5.0
    codes = [f["code"] for f in data["findings"]]
    assert codes[0] == "lr.too_high"
    assert proc.returncode == (1 if any(f["severity"] == "error" for f in data["findings"]) else 0)


def test_doctor_on_a_run_folder_with_json(tmp_path):
    run = tmp_path / "run"
    train = neuronet("train", "--epochs", "1", "--quiet", "--out", str(run))
    assert train.returncode == 0, train.stderr
    proc = neuronet("doctor", str(run), "--json")
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert [s["name"] for s in data["stages"]][-1] == "history"
    assert data["meta"]["model"] == "MLP"
    assert (run / "doctor.md").is_file() and (run / "doctor.json").is_file()


def test_doctor_mistakes_are_one_line_and_exit_2(tmp_path):
    proc = neuronet("doctor", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "is not a run folder" in proc.stderr
    proc = neuronet("doctor", "--budget", "slow")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    help_text = neuronet("doctor", "--help").stdout
    for option in ("--budget", "--json", "--out", "--model", "--lr", "--optimizer"):
        assert option in help_text
