"""The performance benchmark: six training-step workloads, neuronet next to PyTorch.

    python benchmarks/run.py [--workloads mlp,cnn] [--steps 30] [--warmup 5] [--pairs 3]
                             [--threads N] [--compile] [--json out.json]

Each framework runs in a process of its own, processes alternating neuronet, PyTorch,
neuronet, PyTorch ... (``--pairs`` of each, default 3), each warmed up before it is timed (see
``harness.py`` for why one process per framework). Per workload: ms per training step (median of
the per-process medians, and their spread), the ratio neuronet/PyTorch, neuronet's achieved
GFLOP/s and its fraction of NumPy's 2048x2048 float32 matmul throughput, the same for inference
(a no-grad forward), and each framework's peak resident memory.

The children run with the processor's own BLAS kernel (``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` removed) and the header prints the kernel each framework uses. Default
threads are the headline (what a user gets); ``--threads N`` gives every pool N threads.
PyTorch is optional: without it only neuronet's figures are printed. ``--compile`` adds
``torch.compile`` (inductor, which needs a C++ compiler) as a third framework in the rotation and
prints a second table: its times, neuronet's ratio to it, and each framework's first training
step + first inference in seconds (where torch.compile compiles; timed apart from the steps).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402

SCRIPT = str(Path(__file__).resolve())


def child(argv: list) -> None:
    """``--child FRAMEWORK NAME STEPS WARMUP``: time one workload in this process."""
    framework, name, steps, warmup = argv[0], argv[1], int(argv[2]), int(argv[3])
    threads = harness.threads_from_argv(argv)
    if framework == "matmul":
        import numpy as np

        a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
        times = harness.time_calls(lambda: a @ a, 1, 5)
        harness.emit({"gflops": 2 * 2048**3 / (min(times) / 1e3) / 1e9})
        return
    torch = harness.torch_or_none(threads) if framework != "neuronet" else None
    from benchmarks.workloads import build

    step, infer, flops = build(framework, name)
    kernel = harness.torch_kernel(torch) if torch else harness.blas_kernel()  # NumPy loaded now
    first = time.perf_counter()
    step()
    infer()
    first_calls_s = time.perf_counter() - first  # torch.compile compiles here
    result = {
        "first_calls_s": first_calls_s,
        "train": harness.time_calls(step, warmup, steps),
        "infer": harness.time_calls(infer, warmup, steps),
        "flops": flops,
        "rss_mb": harness.peak_rss_mb(),
        "kernel": kernel,
    }
    harness.emit(result)


def measure_workload(name: str, args) -> dict:
    frameworks = None
    if args.compile:
        frameworks = (*harness.FRAMEWORKS, "torch.compile")
    args_ = [name, args.steps, args.warmup]
    runs = harness.run_pairs(SCRIPT, args_, args.pairs, args.threads, frameworks)
    row = {"kernel": {}, "rss_mb": {}}
    for framework, results in runs.items():
        row[framework] = {
            "train": harness.summarize(results, "train"),
            "infer": harness.summarize(results, "infer"),
            "first_calls_s": max(r["first_calls_s"] for r in results),
        }
        row["kernel"][framework] = results[0]["kernel"]
        row["rss_mb"][framework] = max(r["rss_mb"] for r in results)
        row["flops"] = results[0]["flops"]
    for kind in ("train", "infer"):
        if "torch" in row:
            row[f"{kind}_ratio"] = row["neuronet"][kind]["median"] / row["torch"][kind]["median"]
    row["gflops"] = row["flops"] / (row["neuronet"]["train"]["median"] / 1e3) / 1e9
    return row


def main(argv=None) -> dict:
    from benchmarks.workloads import NAMES

    parser = harness.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(NAMES))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=3, help="processes per framework")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--threads", type=int, help="threads for every pool of both frameworks")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="also time torch.compile (inductor) in processes of its own, and its compile wait",
    )
    args = parser.parse_args(argv)
    workloads = parser.names("--workloads", args.workloads, NAMES)
    parser.at_least(args, steps=1, warmup=0, pairs=1, threads=1)
    peak = harness.run_child(SCRIPT, "matmul", ["-", 0, 0], args.threads)["gflops"]
    threads = args.threads or "default"
    results = {"matmul_gflops": peak, "threads": threads, "workloads": {}}
    print(
        f"NumPy float32 2048x2048 matmul: {peak:.1f} GFLOP/s; threads: {threads}; "
        f"load average {os.getloadavg()[0]:.2f}; {args.pairs} processes per framework, "
        f"{args.steps} steps each"
    )
    header = (
        f"{'workload':<12}{'neuronet ms/step':>24}{'torch ms/step':>24}{'ratio':>7}"
        f"{'GFLOP/s':>9}{'of peak':>8}{'infer nt ms':>22}{'infer torch ms':>22}{'ratio':>7}"
        f"{'RSS MB nt/torch':>17}"
    )
    for name in workloads:
        row = measure_workload(name, args)
        if not results["workloads"]:
            for framework, kernel in row["kernel"].items():
                print(f"{framework} computes with: {kernel}")
            print(header)
        results["workloads"][name] = row
        print(_format(name, row, peak), flush=True)
    if args.compile:
        print(_compiled_table(results["workloads"]))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


def _format(name: str, row: dict, peak: float) -> str:
    ours, theirs = row["neuronet"], row.get("torch", {})
    ratio = f"{row['train_ratio']:.2f}" if "train_ratio" in row else "-"
    infer_ratio = f"{row['infer_ratio']:.2f}" if "infer_ratio" in row else "-"
    rss = "/".join(
        f"{row['rss_mb'][f]:.0f}" if f in row["rss_mb"] else "-" for f in harness.FRAMEWORKS
    )
    return (
        f"{name:<12}{harness.cell(ours['train']):>24}{harness.cell(theirs.get('train')):>24}"
        f"{ratio:>7}{row['gflops']:>9.1f}{row['gflops'] / peak:>8.1%}"
        f"{harness.cell(ours['infer']):>22}{harness.cell(theirs.get('infer')):>22}"
        f"{infer_ratio:>7}{rss:>17}"
    )


def _compiled_table(rows: dict) -> str:
    """neuronet against torch.compile: ms per step and per inference, the ratios, and the
    seconds of each one's first training step + first inference (compilation included)."""
    lines = [
        f"{'workload':<12}{'torch.compile ms/step':>24}{'nt/compile':>11}"
        f"{'compile infer ms':>22}{'nt/compile':>11}{'first calls s nt/compile':>26}"
    ]
    for name, row in rows.items():
        ours, theirs = row["neuronet"], row["torch.compile"]
        train = ours["train"]["median"] / theirs["train"]["median"]
        infer = ours["infer"]["median"] / theirs["infer"]["median"]
        first = f"{ours['first_calls_s']:.2f}/{theirs['first_calls_s']:.1f}"
        lines.append(
            f"{name:<12}{harness.cell(theirs['train']):>24}{train:>11.2f}"
            f"{harness.cell(theirs['infer']):>22}{infer:>11.2f}{first:>26}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1 :])
    else:
        main()
