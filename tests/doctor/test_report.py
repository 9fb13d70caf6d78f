"""The vocabulary, the ranking, and the report's forms (terminal, Markdown, JSON, PNGs)."""

from __future__ import annotations

import builtins
import json
import re
from pathlib import Path

import pytest

from neuronet.doctor import CODES, ORDER, Finding, Report
from neuronet.doctor.exam import Stage
from neuronet.doctor.findings import finding, rank

ISSUE_CODES = """data.non_finite data.unscaled_inputs data.single_class data.label_out_of_range
data.class_imbalance data.split_overlap data.no_signal loss.broadcast loss.double_softmax
loss.mismatch init.bad_initial_loss grad.vanishing grad.exploding numerics.non_finite
act.dead_relu act.saturated lr.too_high lr.too_low opt.missing_zero_grad opt.params_not_updated
train.cannot_overfit train.stuck train.diverging train.oscillating train.overfitting
train.eval_in_train_mode norm.batch_of_one""".split()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "doctor.md"


def test_every_issue_code_is_in_the_vocabulary():
    assert set(ISSUE_CODES) <= set(CODES)
    assert ORDER == list(CODES)
    for code in CODES.values():
        assert code.severity in ("error", "warning", "info")
        assert code.meaning and code.prescription
        assert set(code.causes) <= set(CODES), code.code


def test_every_code_is_documented():
    text = DOCS.read_text()
    missing = [c for c in CODES if f"`{c}`" not in text]
    assert not missing, f"docs/doctor.md does not document {missing}"


def test_the_default_explanation_graph_has_no_cycle():
    graph = {c: set(code.causes) for c, code in CODES.items()}
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"cycle: {' <- '.join(path + [node])}"
        state[node] = "open"
        for cause in graph[node]:
            visit(cause, path + [node])
        state[node] = "done"

    for node in graph:
        visit(node, [])


def test_unknown_code_and_severity_are_rejected():
    with pytest.raises(ValueError, match="unknown doctor code"):
        Finding("lr.wrong", "error", "x")
    with pytest.raises(ValueError, match="severity"):
        Finding("lr.too_high", "fatal", "x")


def test_rank_severity_then_causes_before_symptoms_then_evidence():
    stuck = finding("train.stuck", "flat")
    low = finding("lr.too_low", "slow rate")
    overfit = finding("train.cannot_overfit", "cannot memorise")
    unscaled = finding("data.unscaled_inputs", "inputs 255")
    imbalance = finding("data.class_imbalance", "rare class")
    ordered = rank([stuck, imbalance, overfit, low, unscaled])
    # unscaled inputs explain the error (cannot_overfit), so they rank as an error, first
    assert [f.code for f in ordered] == [
        "data.unscaled_inputs",
        "train.cannot_overfit",
        "data.class_imbalance",
        "lr.too_low",
        "train.stuck",
    ]


def test_a_root_cause_override_is_not_explained():
    not_in_opt = finding("opt.params_not_updated", "not in optimizer", causes=())
    dead = finding("act.dead_relu", "half dead")
    assert [f.code for f in rank([dead, not_in_opt])] == ["opt.params_not_updated", "act.dead_relu"]


def test_duplicates_keep_the_strongest_and_symptoms_that_cannot_explain():
    a = finding("grad.exploding", "weak", strength=1.0)
    b = finding("grad.exploding", "strong", strength=3.0)
    assert [f.message for f in rank([a, b])] == ["strong"]
    spikes = finding("grad.exploding", "spikes", can_explain=False, causes=("lr.too_high",))
    high = finding("lr.too_high", "rate", causes=("grad.exploding",))
    assert rank([spikes, high])[0] is high


def _report():
    stages = [
        Stage(
            "data",
            "1. Data",
            lines=["100 rows"],
            numbers={"rows": 100},
            table=[{"layer": "0", "type": "Linear"}],
        )
    ]
    plots = {
        "lr_find": {
            "lrs": [1e-4, 1e-3, 1e-2],
            "losses": [2.3, 2.0, 3.0],
            "smoothed": [2.3, 2.1, 2.6],
            "suggestion": 1e-3,
            "lr_min": 1e-3,
            "user_lr": 1e-2,
            "diverged_at": None,
        },
        "loss": {
            "losses": [2.3, 2.1, 2.0],
            "val": [(1, 2.2), (2, 2.1)],
            "grad_norms": [1.0, 1.0, 1.0],
        },
    }
    return Report(
        [
            finding("lr.too_high", "rate 1e-2 past 1e-3", evidence={"x": 1.0}),
            finding("lr.suggestion", "suggested 1e-3"),
        ],
        stages,
        meta={"model": "MLP", "parameters": 10, "rows": 100, "budget": "quick", "seconds": 1.0},
        plots=plots,
    )


def test_codes_filter_by_severity_in_rank_order():
    r = _report()
    assert r.codes() == ["lr.too_high", "lr.suggestion"]
    assert r.codes(min_severity="warning") == ["lr.too_high"]
    assert r.codes(min_severity="error") == []


def test_terminal_report_lists_findings_with_fixes():
    text = str(_report())
    assert text.startswith("neuronet doctor: MLP, 10 parameters, 100 training rows")
    assert re.search(r"1\. WARNING +lr.too_high", text)
    assert "fix: use the suggested learning rate" in text
    assert "note (lr.suggestion)" in text
    assert "1. Data" in text and "100 rows" in text


def test_write_makes_markdown_json_and_pngs(tmp_path):
    paths = _report().write(tmp_path / "out")
    names = sorted(p.name for p in paths)
    assert names == ["doctor.json", "doctor.md", "loss.png", "lr_find.png"]
    data = json.loads((tmp_path / "out" / "doctor.json").read_text())
    assert data["findings"][0]["code"] == "lr.too_high"
    assert data["findings"][0]["evidence"] == {"x": 1.0}
    assert data["lr_find"]["suggestion"] == 1e-3
    md = (tmp_path / "out" / "doctor.md").read_text()
    assert "![lr_find.png](lr_find.png)" in md and "| layer | type |" in md
    for p in paths:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_report_is_written_and_says_so(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    paths = _report().write(tmp_path)
    assert sorted(p.name for p in paths) == ["doctor.json", "doctor.md"]
    assert "matplotlib is not installed" in (tmp_path / "doctor.md").read_text()
