"""What the training doctor costs: a plain training step against the same step under
``doctor.watch`` (default settings, as the ``Monitor`` in ``Trainer`` uses it), under a watch
sampling every 10 steps, and under ``neuronet.autograd.detect_anomaly()``.

Each configuration runs blocks of ``--block`` consecutive steps (so the sampled steps of a watch
are included at their real frequency). A round runs one block of every configuration, in an
order that rotates from round to round, so drift and order effects hit all alike. Printed per
workload and configuration: the median ms per step over the rounds, then the ratio to the plain
step as the median of the rounds' paired ratios (each block against the plain block of its own
round) with its interquartile range, and the ratio of total times (every step counted, so the
rare sampled steps weigh in at their real share).
Targets: a watch at most 1.05x a step, anomaly mode at most 1.3x.

Usage: python benchmarks/doctor_overhead.py [--rounds 30] [--block 50] [--threads N]
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
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=50)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    print(f"BLAS: {blas()}")
    print(
        f"{args.rounds} rounds of one {args.block}-step block per configuration (rotating order); "
        "ms per step: median over rounds; ratio to plain: median of the paired ratios "
        "[interquartile range], and total time / plain's total time"
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
        names = list(configs)
        for context in configs.values():  # warm-up: allocations, JIT compilation, plans
            block(step, context, 4 * args.block)
        times = {name: [] for name in names}
        for r in range(args.rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                times[name].append(block(step, configs[name], args.block))
        print(f"\n{label}")
        plain = np.asarray(times["plain"])
        for name in names:
            values = np.asarray(times[name])
            q = np.percentile(values / plain, [25, 50, 75])
            print(
                f"  {name:<26} {np.median(values):8.3f} ms  {q[1]:6.3f}x [{q[0]:.3f}-{q[2]:.3f}]"
                f"  total {values.sum() / plain.sum():6.3f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
