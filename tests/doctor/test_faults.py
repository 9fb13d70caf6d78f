"""The planted-fault suite: for every code, one small setup with that fault, five seeds each.

Targets: the planted code is among the first three findings every time, and first
in at least 95% of all runs; no healthy control gets a finding of severity 'error', nor a
warning other than the one it is built to get.
``benchmarks/doctor_faults.py`` prints the same runs as a table.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from faults import CONTROLS, FAULTS  # noqa: E402

SEEDS = range(5)
RANKS = {}  # case name -> rank of the planted code per seed (filled by the tests below)

pytestmark = [
    pytest.mark.xdist_group("doctor_faults"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]


def _rank(report, code):
    codes = report.codes("warning")
    return codes.index(code) + 1 if code in codes else None


@pytest.mark.parametrize("case", FAULTS, ids=lambda c: f"{c.expected}-{c.kind}")
def test_planted_fault_is_among_the_first_three(case):
    ranks = []
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = case.run(seed)
        ranks.append(_rank(report, case.expected))
        assert ranks[-1] is not None and ranks[-1] <= 3, (
            f"{case.name}: {case.expected} ranked {ranks[-1]} for seed {seed}; findings: "
            f"{report.codes('warning')}"
        )
    RANKS[case.name] = ranks


@pytest.mark.parametrize("case", CONTROLS, ids=lambda c: f"{c.name}")
def test_healthy_control_has_no_error(case):
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = case.run(seed)
        assert not report.errors, f"{case.name}, seed {seed}: {[str(f) for f in report.errors]}"
        # no false warning either: only the one a control is built to get (class imbalance)
        assert set(report.codes("warning")) <= {case.expected}, (case.name, seed)


def test_planted_fault_is_first_in_95_percent_of_runs():
    if len(RANKS) < len(FAULTS):
        pytest.skip("runs with the per-fault tests (same xdist group); some did not run here")
    ranks = [r for rs in RANKS.values() for r in rs]
    first = sum(r == 1 for r in ranks) / len(ranks)
    assert first >= 0.95, {name: rs for name, rs in RANKS.items() if any(r != 1 for r in rs)}
