"""What the training doctor costs: a plain training loop against the same loop under
``doctor.watch`` (default settings, as the ``Monitor`` in ``Trainer`` uses it), under a watch
sampling every 10 steps, and under ``neuronet.autograd.detect_anomaly()``.

A round runs one block of every configuration, in an order that rotates from round to round, so
that drift and order effects hit all alike; a block enters its configuration once and trains for
``--seconds`` (thousands of steps on the small workloads), so a watch's checks and sampled
steps come at their real frequency. One watch object per configuration is attached around each
of its blocks and its schedules carry on as in one long loop. Printed per workload and
configuration: the median ms per step over the rounds, and the ratio to the plain loop as the
median of the rounds' paired ratios (each block against the plain block of its round) with its
interquartile range, and the ratio of total times.
Targets: a watch at most 1.05x a step, anomaly mode at most 1.3x.

(Blocks used to be 50 steps, the watch entered and left around each: the same code measured
about 2% more on the 0.3 ms step that way, most likely CPython's specialised attribute lookups
around ``optimizer.step`` and the model's hooks rebuilt at each attach; a user's loop attaches
once.)

Usage: python benchmarks/doctor_overhead.py [--rounds 20] [--seconds 0.5] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

sys.path.insert(0, str(Path(__file__).parent))

from harness import blas_kernel, threads_from_argv  # noqa: E402

threads_from_argv()

import numpy as np  # noqa: E402

CONFIGS = ("plain", "watch (default)", "watch (every=10, fixed)", "detect_anomaly()")
WORKLOADS = (
    "mlp 64-128-10, batch 32",
    "cnn 2 conv layers, 8x8 images, batch 32",
    "mlp 784-512-256-10, batch 128",
)


def build(workload: str):
    """(model, optimizer, step) of one workload; ``step()`` runs one full training step."""
    import neuronet as nt
    import neuronet.functional as F
    from neuronet import nn, optim

    rng = np.random.default_rng(0)
    nt.manual_seed(0)
    if workload.startswith("mlp 64"):
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        x, y = rng.standard_normal((32, 64)), rng.integers(0, 10, 32)
    elif workload.startswith("cnn"):
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 4, 10),
        )
        x, y = rng.standard_normal((32, 1, 8, 8)), rng.integers(0, 10, 32)
    else:
        model = nn.Sequential(
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 10),
        )
        x, y = rng.standard_normal((128, 784)), rng.integers(0, 10, 128)
    opt = optim.Adam(model.parameters(), lr=1e-4)
    x = nt.tensor(x.astype(np.float32))
    y = nt.tensor(y)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return model, opt, step


class Plain:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def context(config: str, model, opt):
    import neuronet as nt
    from neuronet import doctor

    if config == "plain":
        return Plain()
    if config == "watch (default)":
        return doctor.watch(model, opt)
    if config == "watch (every=10, fixed)":
        return doctor.watch(model, opt, every=10)
    return nt.autograd.detect_anomaly()


def block(step, ctx, seconds: float) -> float:
    """ms per step of one block: ``ctx`` entered once, then steps until ``seconds`` pass."""
    with ctx:
        n = 0
        start = time.perf_counter()
        end = start + seconds
        while True:
            for _ in range(10):
                step()
            n += 10
            now = time.perf_counter()
            if now >= end:
                return (now - start) / n * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    print(f"BLAS: {blas_kernel()}")
    print(
        f"{args.rounds} rounds of one {args.seconds:g} s block per configuration (rotating "
        "order); ms per step: median over rounds; ratio to plain: median of the paired ratios "
        "[interquartile range], and total time / plain's total time"
    )
    for workload in WORKLOADS:
        model, opt, step = build(workload)
        configs = {name: context(name, model, opt) for name in CONFIGS}
        for ctx in configs.values():  # warm-up: allocations, JIT compilation, first plans
            block(step, ctx, min(args.seconds, 0.5))
        times = {name: [] for name in CONFIGS}
        for r in range(args.rounds):
            for name in CONFIGS[r % len(CONFIGS) :] + CONFIGS[: r % len(CONFIGS)]:
                times[name].append(block(step, configs[name], args.seconds))
        print(f"\n{workload}")
        plain = np.asarray(times["plain"])
        for name in CONFIGS:
            values = np.asarray(times[name])
            q = np.percentile(values / plain, [25, 50, 75])
            print(
                f"  {name:<26} {np.median(values):8.3f} ms  {q[1]:6.3f}x [{q[0]:.3f}-{q[2]:.3f}]"
                f"  total {values.sum() / plain.sum():6.3f}x",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
