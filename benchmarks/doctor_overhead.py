"""What the training doctor costs: a plain training step against the same step under
``doctor.watch`` (default settings, as the ``Monitor`` in ``Trainer`` uses it), under a watch
sampling every 10 steps, and under ``neuronet.autograd.detect_anomaly()``.

Each configuration runs blocks of ``--block`` consecutive steps (so the sampled steps of a watch
are included at their real frequency); the blocks alternate between configurations so machine
noise hits all alike. Printed per workload: the median ms per step over the blocks, the
interquartile range and the ratio to the plain step; then the fastest block and its ratio (on a
machine busy with other work, the least disturbed blocks estimate the intrinsic cost best).
Targets: a watch at most 1.05x a step, anomaly mode at most 1.3x.

Usage: python benchmarks/doctor_overhead.py [--blocks 15] [--block 20] [--threads N]
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
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))

from harness import threads_from_argv  # noqa: E402

threads_from_argv()

import numpy as np  # noqa: E402

import neuronet as nt  # noqa: E402
import neuronet.functional as F  # noqa: E402
from neuronet import doctor, nn, optim  # noqa: E402


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
    )


def workloads():
    rng = np.random.default_rng(0)
    nt.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    yield "mlp 64-128-10, batch 32", mlp, rng.standard_normal((32, 64)), rng.integers(0, 10, 32)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4, 10),
    )
    yield (
        "cnn 2 conv layers, 8x8 images, batch 32",
        cnn,
        rng.standard_normal((32, 1, 8, 8)),
        rng.integers(0, 10, 32),
    )
    wide = nn.Sequential(
        nn.Linear(784, 512),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Linear(512, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )
    yield (
        "mlp 784-512-256-10, batch 128",
        wide,
        rng.standard_normal((128, 784)),
        rng.integers(0, 10, 128),
    )


def make_step(model, opt, x, y):
    x = nt.tensor(x.astype(np.float32))
    y = nt.tensor(y)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


class Plain:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def block(step, context, n) -> float:
    with context:
        start = time.perf_counter()
        for _ in range(n):
            step()
        return (time.perf_counter() - start) / n * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--block", type=int, default=20)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    print(f"BLAS: {blas()}")
    print(
        f"{args.blocks} alternating blocks of {args.block} steps per configuration; "
        "ms per step: median [interquartile range] (ratio to plain)"
    )
    for label, model, x, y in workloads():
        opt = optim.Adam(model.parameters(), lr=1e-4)
        step = make_step(model, opt, x, y)
        # One watch object per configuration, re-attached around its blocks: its sampling
        # schedule carries on as in one long loop (attaching is not timed).
        configs = {
            "plain": Plain(),
            "watch (default)": doctor.watch(model, opt),
            "watch (every=10, fixed)": doctor.watch(model, opt, every=10),
            "detect_anomaly()": nt.autograd.detect_anomaly(),
        }
        for context in configs.values():  # warm-up: allocations, JIT compilation
            block(step, context, 5)
        times = {name: [] for name in configs}
        for _ in range(args.blocks):
            for name, context in configs.items():
                times[name].append(block(step, context, args.block))
        print(f"\n{label}")
        base = statistics.median(times["plain"])
        fastest = min(times["plain"])
        for name, values in times.items():
            q = np.percentile(values, [25, 50, 75])
            print(
                f"  {name:<28} {q[1]:8.3f} ms [{q[0]:.3f}-{q[2]:.3f}] {q[1] / base:6.3f}x   "
                f"min {min(values):.3f} ms {min(values) / fastest:6.3f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
