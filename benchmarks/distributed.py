"""Data-parallel training over MPI on this machine, and what it predicts for a cluster.

    python benchmarks/distributed.py [--workloads mlp,cnn] [--steps 10] [--warmup 2]
                                     [--json out.json] [--skip-allreduce]

Four measurements, each in its own processes (benchmarks/distributed_ranks.py does the work):

1. ``Allreduce`` on loopback, 2 ranks, float32 in place, 4 B to 64 MiB: median latency, and
   bus bandwidth 2(p-1)/p * bytes / time (the ring all-reduce's traffic per rank, as NCCL's
   tests report it).
2. Overlap, per workload, on 2 ranks x 1 thread with half the batch each: forward + backward
   without communication (``local``), the gradient buckets' all-reduce alone (``comm``), and
   forward + backward under DistributedDataParallel with each progress strategy. The fraction of
   the all-reduce hidden behind backward is 1 - (ddp - local) / comm, and, from the reducer's
   own clock, 1 - wait / comm, where wait runs from the last gradient to the end of the
   reduction (it also counts waiting for the slower rank); both clipped to [0, 1]; and, robust
   to a noisy machine, how many buckets were averaged before backward ended ("early"). A third
   table repeats this for a backward that leaves the cores free (a sleep per layer standing for
   compute done elsewhere), which is what an accelerator or a spare core gives communication.
3. The six workloads at the benchmark batch: a full training step on 1 rank x 1 thread,
   1 rank x 2 threads, and 2 ranks x 1 thread (half the batch each, the same samples per step).
4. The scaling model of docs/distributed.md from 1. and 3.: weak scaling (each machine keeps
   the benchmark batch) on 2-64 machines over a stated network, with ring all-reduce time
   T(p) = 2(p-1)/p * G / B + 2(p-1) * a for G gradient bytes, bandwidth B and latency a, and
   predicted efficiency t / (t + (1 - h) * T(p)) for compute t per step and hidden fraction h.

The environment's OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the measuring
processes, and the BLAS in use is printed. On a shared machine the figures are noisy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.workloads import BATCH, NAMES  # noqa: E402

RANKS = ROOT / "benchmarks" / "distributed_ranks.py"
NETWORKS = {  # name: (bandwidth bytes/s, latency s per message hop)
    "10 GbE": (1.25e9, 30e-6),
    "100 Gb/s InfiniBand": (12.5e9, 2e-6),
}
MACHINES = [2, 4, 8, 16, 32, 64]


def _environment(threads: int) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run(command: list, threads: int) -> None:
    subprocess.run(command, check=True, env=_environment(threads), stdin=subprocess.DEVNULL)


def _part(part: str, ranks: int, threads: int, extra: list) -> dict:
    from neuronet.distributed.launch import find_mpiexec

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        command = [sys.executable, str(RANKS), part, str(out), *extra]
        if ranks > 1:
            command = [find_mpiexec(), "-n", str(ranks), *command]
        _run(command, threads)
        return json.loads(out.read_text())


def blas() -> str:
    code = (
        "import numpy, threadpoolctl\n"
        "info = [i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']\n"
        "print(', '.join(f\"{i['internal_api']} {i.get('version')} {i.get('architecture')}\" "
        "for i in info) or 'unknown')\n"
    )
    env = _environment(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return out.stdout.strip() or "unknown (threadpoolctl missing)"


def ring_seconds(p: int, grad_bytes: float, bandwidth: float, latency: float) -> float:
    """Ring all-reduce time of ``grad_bytes`` over ``p`` machines (reduce-scatter+all-gather)."""
    return 2 * (p - 1) / p * grad_bytes / bandwidth + 2 * (p - 1) * latency


def efficiency(step_s: float, hidden: float, p: int, grad_bytes, bandwidth, latency) -> float:
    exposed = (1.0 - hidden) * ring_seconds(p, grad_bytes, bandwidth, latency)
    return step_s / (step_s + exposed)


def half_efficiency_machines(step_s, hidden, grad_bytes, bandwidth, latency) -> int:
    """The smallest p at which the predicted efficiency falls below 50% -- where exposed
    communication exceeds the compute per step (efficiency falls as p grows: bisection)."""
    low, high = 1, 2
    while efficiency(step_s, hidden, high, grad_bytes, bandwidth, latency) >= 0.5:
        low, high = high, high * 2
        if high > 2**30:
            return high
    while high - low > 1:
        mid = (low + high) // 2
        if efficiency(step_s, hidden, mid, grad_bytes, bandwidth, latency) >= 0.5:
            low = mid
        else:
            high = mid
    return high


def print_allreduce(rows: list) -> None:
    print("\nAllreduce on loopback, 2 ranks, float32 in place (median of the slower rank)")
    print(f"{'bytes':>10}{'latency us':>12}{'algbw GB/s':>12}{'busbw GB/s':>12}")
    for row in rows:
        t = row["median_s"]
        algbw = row["bytes"] / t / 1e9
        print(f"{row['bytes']:>10}{t * 1e6:>12.1f}{algbw:>12.2f}{algbw * 2 * (2 - 1) / 2:>12.2f}")


def print_overlap(ranks: dict, bucket_mb: float) -> None:
    print(
        f"\nOverlap, bucket_cap_mb={bucket_mb:g}, 2 ranks x 1 thread, half the batch each: "
        "forward + backward ms, median (hidden: from the step times / from the reducer's wait)"
    )
    print(
        f"{'workload':<12}{'grad MB':>8}{'buckets':>8}{'local':>8}{'comm':>8}{'test':>8}"
        f"{'thread':>8}{'hidden test':>14}{'hidden thread':>15}{'early t/th':>11}"
    )
    for name, r in ranks.items():
        test = f"{r['hidden_test']:.0%} / {r['hidden_wait_test']:.0%}"
        thread = f"{r['hidden_thread']:.0%} / {r['hidden_wait_thread']:.0%}"
        print(
            f"{name:<12}{r['grad_bytes'] / 2**20:>8.2f}{r['buckets']:>8}{r['local']:>8.1f}"
            f"{r['comm']:>8.1f}{r['test']:>8.1f}{r['thread']:>8.1f}{test:>14}{thread:>15}"
            f"{_early(r):>11}"
        )


def _early(r: dict) -> str:
    """Buckets averaged before backward ended, test / thread, of the buckets - 1 that can be."""
    return f"{r['early']['test']:g}/{r['early']['thread']:g} of {r['buckets'] - 1}"


def print_capability(r: dict) -> None:
    print(
        f"\nOverlap when backward leaves the cores free: {r['layers']} layers of 1 MiB gradient "
        f"(one bucket each), backward {r['sleep_ms']:g} ms per layer done elsewhere (a sleep)"
    )
    print(
        f"{'local':>8}{'comm':>8}{'test':>8}{'thread':>8}{'hidden test':>14}{'hidden thread':>15}"
        f"{'early t/th':>11}"
    )
    test = f"{r['hidden_test']:.0%} / {r['hidden_wait_test']:.0%}"
    thread = f"{r['hidden_thread']:.0%} / {r['hidden_wait_thread']:.0%}"
    print(
        f"{r['local']:>8.1f}{r['comm']:>8.1f}{r['test']:>8.1f}{r['thread']:>8.1f}"
        f"{test:>14}{thread:>15}{_early(r):>11}"
    )


def print_throughput(one: dict, two_threads: dict, ranks: dict) -> None:
    print("\nTraining step, the same samples per step: ms/step (samples/s)")
    print(
        f"{'workload':<12}{'batch':>6}{'1 rank x 1 thread':>22}{'1 rank x 2 threads':>22}"
        f"{'2 ranks x 1 thread':>22}{'2x1 vs 1x2':>12}"
    )
    for name in ranks:
        batch = BATCH[name]
        one_thread = one[name]["step_ms"]
        two = two_threads[name]["step_ms"]
        parallel = ranks[name]["step"]
        print(
            f"{name:<12}{batch:>6}{_cell(one_thread, batch):>22}{_cell(two, batch):>22}"
            f"{_cell(parallel, batch):>22}{two / parallel:>11.2f}x"
        )


def _cell(ms: float, batch: int) -> str:
    return f"{ms:.1f} ({batch / ms * 1e3:.0f})"


def scaling(one: dict, ranks: dict) -> dict:
    """Predicted weak-scaling efficiency per workload and network (see the module docstring)."""
    from neuronet.distributed.ddp import DEFAULT_PROGRESS

    table = {}
    for net, (bandwidth, latency) in NETWORKS.items():
        print(
            f"\nScaling model, {net} ({bandwidth / 1e9:g} GB/s, {latency * 1e6:g} us): "
            f"efficiency on p machines (h: hidden by the reducer's wait, '{DEFAULT_PROGRESS}')"
        )
        print(
            f"{'workload':<12}{'step ms':>8}{'grad MB':>8}{'h':>5}"
            + "".join(f"{p:>7}" for p in MACHINES)
            + f"{'50% at p':>10}"
        )
        for name in ranks:
            step_s = one[name]["step_ms"] / 1e3
            grad = one[name]["grad_bytes"]
            hidden = ranks[name][f"hidden_wait_{DEFAULT_PROGRESS}"]
            row = [efficiency(step_s, hidden, p, grad, bandwidth, latency) for p in MACHINES]
            half = half_efficiency_machines(step_s, hidden, grad, bandwidth, latency)
            table.setdefault(net, {})[name] = {"efficiency": row, "half_at": half}
            print(
                f"{name:<12}{step_s * 1e3:>8.1f}{grad / 2**20:>8.2f}{hidden:>5.0%}"
                + "".join(f"{e:>7.0%}" for e in row)
                + f"{half:>10}"
            )
    return table


def main(argv=None) -> dict:
    parser = harness.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(NAMES))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--skip-allreduce", action="store_true")
    parser.add_argument(
        "--small-buckets", type=float, default=0.25, help="bucket_cap_mb of the second overlap run"
    )
    args = parser.parse_args(argv)
    parser.names("--workloads", args.workloads, NAMES)
    parser.at_least(args, steps=1, warmup=0)
    extra = [
        "--workloads",
        args.workloads,
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
    ]
    print(f"BLAS: {blas()}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    results = {}
    if not args.skip_allreduce:
        sweep = _part("allreduce", 2, 1, [])
        print(sweep["library"].splitlines()[0])
        print_allreduce(sweep["rows"])
        results["allreduce"] = sweep["rows"]
    one = _part("single", 1, 1, extra)
    two_threads = _part("single", 1, 2, extra)
    ranks = _part("workloads", 2, 1, extra)
    results["capability"] = ranks.pop("_capability")
    print_overlap(ranks, 25)
    small = _part("workloads", 2, 1, [*extra, "--bucket-mb", str(args.small_buckets)])
    small.pop("_capability")
    print_overlap(small, args.small_buckets)
    print_capability(results["capability"])
    print_throughput(one, two_threads, ranks)
    results.update(one_by_one=one, one_by_two=two_threads, two_by_one=ranks, small_buckets=small)
    results["scaling"] = scaling(one, ranks)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
