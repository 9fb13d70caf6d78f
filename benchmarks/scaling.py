"""How step time grows with the problem size, neuronet next to PyTorch.

    python benchmarks/scaling.py [--threads N] [--steps 10] [--warmup 2] [--pairs 2] [--out DIR]
                                 [--quick]

Two sweeps of the training-step workloads (see workloads.py), each framework in processes of its
own, alternating as in run.py (``--pairs`` per framework and size, the median of their medians):

- ``mlp``: batch size 32, 64, ..., 1024 (FLOPs grow linearly with the batch);
- ``gpt``: context length 64, 128, 256, 512 at batch 32 (the projections and MLPs grow linearly
  with the context, attention quadratically).

Writes ``scaling.csv`` (one row per framework and size: median ms/step, GFLOP/step, GFLOP/s) and
``scaling.png`` (ms/step against size, log-log, with the FLOP-proportional line through the
smallest size for reference) to ``--out`` (default benchmarks/results). It then says for each
framework and sweep whether the time grows like the FLOPs (see ``verdict``): a fixed cost per
step plus a cost per FLOP that stays the same from the smallest size to the largest, with no
cliff (no pair of neighbouring sizes where the extra time per extra FLOP jumps).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks import harness, workloads  # noqa: E402

SCRIPT = str(Path(__file__).resolve())

SWEEPS = {
    "mlp": ("batch", [32, 64, 128, 256, 512, 1024]),
    "gpt": ("context", [64, 128, 256, 512]),
}
CLIFF = 1.5  # a jump in ms/GFLOP between neighbouring sizes larger than this is a cliff


def child(argv: list) -> None:
    """``--child FRAMEWORK NAME KNOB SIZE STEPS WARMUP``: time one size in this process."""
    framework, name, knob, size, steps, warmup = argv[:6]
    if framework == "torch":
        harness.torch_or_none(harness.threads_from_argv(argv))
    step, _, flops = workloads.build(framework, name, **{knob: int(size)})
    harness.emit({"train": harness.time_calls(step, int(warmup), int(steps)), "flops": flops})


def sweep(name: str, sizes: list, steps: int, warmup: int, pairs: int, threads) -> list[dict]:
    knob = SWEEPS[name][0]
    rows = []
    for size in sizes:
        runs = harness.run_pairs(SCRIPT, [name, knob, size, steps, warmup], pairs, threads)
        result = {f: harness.summarize(r, "train") for f, r in runs.items()}
        flops = runs["neuronet"][0]["flops"]
        for framework in result:
            ms = result[framework]["median"]
            rows.append(
                {
                    "workload": name,
                    "knob": knob,
                    "size": size,
                    "framework": framework,
                    "ms_per_step": round(ms, 3),
                    "gflop_per_step": round(flops / 1e9, 4),
                    "gflops": round(flops / 1e9 / (ms / 1e3), 2),
                }
            )
        theirs_ms = result["torch"]["median"] if "torch" in result else float("nan")
        print(
            f"  {name} {knob}={size:<5} neuronet {result['neuronet']['median']:9.2f} ms"
            f"   torch {theirs_ms:9.2f} ms   {flops / 1e9:8.3f} GFLOP/step",
            flush=True,
        )
    return rows


def verdict(rows: list[dict]) -> str:
    """Does time grow like the FLOPs, and is there a cliff?

    A training step has a fixed part (optimizer update, per-op overhead) and a part that scales
    with the work, so the model is time = fixed + cost * GFLOP (least squares). It grows like
    the FLOPs when every size is within 20% of that line; a cliff is a pair of neighbouring
    sizes whose marginal cost (extra ms per extra GFLOP) is more than CLIFF times the median
    marginal cost, by enough to matter (the excess is over 10% of the larger size's step time;
    at the smallest sizes a fraction of a millisecond of noise would otherwise look like one)."""
    gf = np.array([r["gflop_per_step"] for r in rows])
    ms = np.array([r["ms_per_step"] for r in rows])
    sizes = [r["size"] for r in rows]
    cost, fixed = np.polyfit(gf, ms, 1)
    worst_fit = float(np.max(np.abs(ms - (fixed + cost * gf)) / ms))
    marginal = np.diff(ms) / np.diff(gf)
    line = (
        f"time ~ {fixed:.1f} ms + {cost:.1f} ms/GFLOP x GFLOP (every size within "
        f"{worst_fit:.0%} of that line)"
    )
    typical = np.median(marginal)
    excess = (marginal - typical) * np.diff(gf)
    cliffs = (marginal > CLIFF * typical) & (excess > 0.1 * ms[1:])
    jump = int(np.argmax(np.where(cliffs, marginal, -np.inf)))
    if cliffs.any():
        return (
            f"{line}; CLIFF between {sizes[jump]} and {sizes[jump + 1]}: "
            f"{marginal[jump]:.1f} ms per extra GFLOP"
        )
    if worst_fit <= 0.2:
        return f"{line}: grows like the FLOPs, no cliff"
    return f"{line}: not proportional to the FLOPs, but no cliff"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SWEEPS), figsize=(6 * len(SWEEPS), 4.5))
    for ax, name in zip(axes, SWEEPS):
        knob = SWEEPS[name][0]
        for framework, style in (("neuronet", "o-"), ("torch", "s--")):
            sel = [r for r in rows if r["workload"] == name and r["framework"] == framework]
            if not sel:
                continue
            xs = [r["size"] for r in sel]
            ax.plot(xs, [r["ms_per_step"] for r in sel], style, label=framework)
            if framework == "neuronet":  # time proportional to FLOPs, through the first point
                base = sel[0]["ms_per_step"] / sel[0]["gflop_per_step"]
                ideal = [base * r["gflop_per_step"] for r in sel]
                ax.plot(xs, ideal, ":", color="gray", label="proportional to FLOPs")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(knob)
        ax.set_ylabel("ms per training step")
        ax.set_title(f"{name}: step time vs {knob}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    parser = harness.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=2, help="processes per framework and size")
    parser.add_argument("--threads", type=int, help="threads for every pool of both frameworks")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--quick", action="store_true", help="the two smallest sizes, 3 steps")
    args = parser.parse_args(argv)
    parser.at_least(args, steps=1, warmup=0, pairs=1, threads=1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps, warmup = (3, 1) if args.quick else (args.steps, args.warmup)
    rows = []
    for name, (knob, sizes) in SWEEPS.items():
        print(f"{name}: step time against {knob}", flush=True)
        sizes = sizes[:2] if args.quick else sizes
        rows += sweep(name, sizes, steps, warmup, 1 if args.quick else args.pairs, args.threads)
    with open(out / "scaling.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "scaling.png")
    print(f"wrote {out / 'scaling.csv'} and {out / 'scaling.png'}")
    for name in SWEEPS:
        for framework in ("neuronet", "torch"):
            sel = [r for r in rows if r["workload"] == name and r["framework"] == framework]
            if sel:
                print(f"{name:4s} {framework:9s} {verdict(sel)}")
    return rows


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(sys.argv[sys.argv.index("--child") + 1 :])
    else:
        main()
