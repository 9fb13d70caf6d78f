"""The training doctor against planted faults: for every code, the rank at which the planted
code is reported for each of five seeds, and the time per run; then the healthy controls and
what they are told.

The setups are those of ``tests/doctor/faults.py`` (the test suite asserts the targets: the
planted code among the first three findings every time, first in at least 95% of runs, no
'error' on a healthy control). Times are wall-clock seconds per ``diagnose``/watched loop, with
the machine's BLAS threads.

Usage: python benchmarks/doctor_faults.py [--seeds 5] [--markdown]
"""

from __future__ import annotations

import os
import sys

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "doctor"))
sys.path.insert(0, str(Path(__file__).parent))

from faults import CONTROLS, FAULTS  # noqa: E402
from harness import blas_kernel  # noqa: E402


def run(case, seed):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = case.run(seed)
    return report, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    bar = "|" if args.markdown else " "
    print(f"BLAS: {blas_kernel()}\n")
    header = ["fault", "expected code", "via", "rank per seed", "s/run"]
    print(_row(header, bar))
    if args.markdown:
        print("|---|---|---|---|---|")
    ranks = []
    for case in FAULTS:
        got, secs = [], []
        for seed in seeds:
            report, took = run(case, seed)
            codes = report.codes("warning")
            got.append(codes.index(case.expected) + 1 if case.expected in codes else None)
            secs.append(took)
        ranks += got
        shown = " ".join("-" if r is None else str(r) for r in got)
        print(
            _row(
                [case.name, case.expected, case.kind, shown, f"{statistics.median(secs):.2f}"], bar
            )
        )
    first = sum(r == 1 for r in ranks) / len(ranks)
    top3 = sum(r is not None and r <= 3 for r in ranks) / len(ranks)
    print(
        f"\n{len(ranks)} runs: planted code first in {first:.1%}, among the first three in "
        f"{top3:.1%}\n"
    )
    print(_row(["healthy control", "via", "findings (warning and above), per seed", "s/run"], bar))
    if args.markdown:
        print("|---|---|---|---|")
    for case in CONTROLS:
        found, secs = [], []
        for seed in seeds:
            report, took = run(case, seed)
            found.append(
                ",".join(f"{f.code}({f.severity})" for f in report.findings if f.severity != "info")
                or "none"
            )
            secs.append(took)
        print(
            _row([case.name, case.kind, " / ".join(found), f"{statistics.median(secs):.2f}"], bar)
        )
    return 0


def _row(cells, bar) -> str:
    if bar == "|":
        return "| " + " | ".join(str(c) for c in cells) + " |"
    widths = [46, 26, 9, 16, 6] if len(cells) == 5 else [40, 9, 60, 6]
    return " ".join(str(c).ljust(w) for c, w in zip(cells, widths))


if __name__ == "__main__":
    sys.exit(main())
