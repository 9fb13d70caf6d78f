"""The performance benchmark: six training-step workloads, neuronet next to PyTorch.

    python benchmarks/run.py [--workloads mlp,cnn] [--steps 30] [--warmup 5] [--json out.json]
                             [--threads N] [--no-memory]

Per workload, in one process, steps alternate between the two frameworks (A B A B ...) so that
machine noise hits both alike: median ms/step (min-max), the ratio neuronet/PyTorch, achieved
GFLOP/s and its fraction of NumPy's measured 2048x2048 float32 matmul throughput, and the same
for inference (a no-grad forward). Peak resident memory is measured with each framework alone in
its own subprocess (``ru_maxrss`` after 10 steps). PyTorch is optional: without it only
neuronet's figures are printed.

``--threads N`` gives both frameworks N threads (OpenBLAS for NumPy, intra-op for torch). On a
shared machine use ``--threads 1``: a multi-threaded small GEMM stalls whenever another process
holds the second core, and that noise swamps the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import measure, threads_from_argv, torch_or_none  # noqa: E402

THREADS = threads_from_argv()  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

from benchmarks.workloads import NAMES, build  # noqa: E402


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times)) / 1e9


def peak_memory_mb(framework: str, name: str) -> float | None:
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r});"
        "from benchmarks.run import _memory_child; _memory_child()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, framework, name], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        return None
    return float(proc.stdout.strip().splitlines()[-1])


def _memory_child() -> None:
    framework, name = sys.argv[1], sys.argv[2]
    step, _, _ = build(framework, name)
    for _ in range(10):
        step()
    print(_peak_rss_mb())


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ``ru_maxrss`` survives ``exec``: a child forked from a big parent (this runner, with
    torch loaded) reports the parent's size. ``VmHWM`` belongs to the process's own address
    space, so it is read first; ``ru_maxrss`` is the fallback elsewhere.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(NAMES))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--threads", type=int, help="BLAS / torch threads for both frameworks")
    args = parser.parse_args(argv)
    torch = torch_or_none(THREADS)
    peak = matmul_gflops()
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    load = os.getloadavg()[0]
    print(
        f"NumPy float32 2048x2048 matmul: {peak:.1f} GFLOP/s; threads: {threads}; "
        f"load average {load:.2f}" + ("" if torch else "   (torch not installed: neuronet only)")
    )
    header = (
        f"{'workload':<12}{'neuronet ms/step':>25}{'torch ms/step':>25}{'ratio':>7}"
        f"{'GFLOP/s':>9}{'of peak':>8}{'infer ratio':>12}{'RSS MB nt/torch':>17}"
    )
    print(header)
    results = {"matmul_gflops": peak, "threads": threads, "load_average": load, "workloads": {}}
    for name in args.workloads.split(","):
        step, infer, flops = build("neuronet", name)
        t_step = t_infer = None
        if torch:
            t_step, t_infer, _ = build("torch", name)
        train = measure(step, t_step, args.warmup, args.steps)
        inference = measure(infer, t_infer, args.warmup, args.steps)
        gflops = flops / (train["neuronet"]["median"] / 1e3) / 1e9
        row = {"train": train, "infer": inference, "gflops": gflops, "fraction": gflops / peak}
        if not args.no_memory:
            row["rss_mb"] = {"neuronet": peak_memory_mb("neuronet", name)}
            if torch:
                row["rss_mb"]["torch"] = peak_memory_mb("torch", name)
        results["workloads"][name] = row
        print(_format(name, row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


def _format(name: str, row: dict) -> str:
    def cell(stats):
        return f"{stats['median']:.2f} ({stats['min']:.2f}-{stats['max']:.2f})"

    train = row["train"]
    theirs = cell(train["torch"]) if "torch" in train else "-"
    ratio = f"{train['ratio']:.2f}" if "ratio" in train else "-"
    infer = f"{row['infer']['ratio']:.2f}" if "ratio" in row["infer"] else "-"
    rss = row.get("rss_mb", {})
    mem = "/".join(f"{rss[k]:.0f}" if rss.get(k) else "-" for k in ("neuronet", "torch"))
    return (
        f"{name:<12} {cell(train['neuronet']):>24} {theirs:>24}{ratio:>7}"
        f"{row['gflops']:>9.1f}{row['fraction']:>8.1%}{infer:>12}{mem:>17}"
    )


if __name__ == "__main__":
    main()
