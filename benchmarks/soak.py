"""Soak: 20,000 training steps of a small model; resident memory must stay flat after warm-up.

A leak in the training loop (a graph kept alive by a reference, saved arrays not freed, a
cache that grows) shows as resident memory (RSS) that keeps rising. Two loops run for
``--steps`` optimizer steps each, sampling RSS every ``--every`` steps:

    raw       forward, loss, backward, optimizer.step, zero_grad: the engine alone
    trainer   Trainer.fit with metrics, a schedule, History, LRMonitor and a training
              checkpoint written every epoch (out_dir), as `neuronet train` runs
    +monitor  the same with the training doctor's Monitor (on by default in Trainer), whose
              watch keeps per-step loss, gradient norm, rate and time (8 bytes each, packed)
              and its last 100 sampled steps

The Trainer keeps one History row and one LRMonitor entry per step by design: the soak drops
them at every sample (and reports what a row costs), so whatever still grows is a leak.
Verdict: flat when RSS grows by less than 4 MB from the end of warm-up to the last step. The
+monitor line's growth over the trainer line's is the doctor's per-step records (about 32 bytes
a step: 0.08 against 0.06 MB per 1000 steps measured).

Usage: python benchmarks/soak.py [--steps 20000] [--every 500] [--warmup 2000]
Prints the BLAS kernel in use; unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for itself.
"""

from __future__ import annotations

import os
import sys

if any(v in os.environ for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")):  # before NumPy
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    }
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import neuronet as nt  # noqa: E402
from neuronet import nn, optim  # noqa: E402
from neuronet.data import DataLoader, load_digits  # noqa: E402
from neuronet.train import Callback, Trainer  # noqa: E402

MB = 1024 * 1024
FLAT_MB = 4.0


def rss() -> int:
    """Resident set size in bytes (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"({i.get('num_threads')} threads)"
        for i in libs
    )


def _model():
    nt.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))


def raw_loop(steps: int, every: int) -> list:
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(load_digits("train"), batch_size=32, shuffle=True)
    samples, done = [], 0
    while done < steps:
        for x, y in loader:
            loss = nt.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            done += 1
            if done % every == 0:
                samples.append((done, rss()))
            if done == steps:
                break
    return samples


class Sampler(Callback):
    """Samples RSS; drops the per-step log rows that are meant to grow."""

    def __init__(self, every: int):
        self.every = every
        self.samples = []
        self.rows_dropped = 0

    def on_train_batch_end(self, step, logs=None):
        if step % self.every == 0:
            self.rows_dropped += len(self.trainer.history.steps)
            self.trainer.history.steps.clear()
            self.trainer.lr_monitor.lrs.clear()
            self.samples.append((step, rss()))


def trainer_loop(steps: int, every: int, folder: str, monitor=False) -> tuple[list, Trainer]:
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=500)
    sampler = Sampler(every)
    trainer = Trainer(
        model,
        "cross_entropy",
        opt,
        sched,
        metrics=["accuracy"],
        callbacks=[sampler],
        quiet=True,
        out_dir=folder,
        monitor=monitor,
    )
    trainer.fit(load_digits("train"), epochs=10**6, steps=steps)
    return sampler.samples, trainer


def history_row_bytes(rows: int = 10_000) -> float:
    """Python heap bytes per History row (plus its LRMonitor entry), by tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    keep = [
        ({"loss": float(i) + 0.5, "lr": 1e-3 / (i + 1), "batch_size": 32, "epoch": i // 46,
          "step": i + 100_000}, [1e-3 / (i + 1)])
        for i in range(rows)
    ]  # fmt: skip
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del keep
    return size / rows


def summary(name: str, samples: list, warmup: int) -> bool:
    after = [(s, r) for s, r in samples if s >= warmup]
    (s0, r0), (s1, r1) = after[0], after[-1]
    slope = np.polyfit([s for s, _ in after], [r / MB for _, r in after], 1)[0] * 1000
    flat = (r1 - r0) / MB < FLAT_MB
    print(
        f"{name:8s} RSS {r0 / MB:7.1f} MB at step {s0} -> {r1 / MB:7.1f} MB at step {s1}: "
        f"{(r1 - r0) / MB:+.2f} MB ({slope:+.4f} MB per 1000 steps) -> "
        f"{'flat' if flat else 'GROWING'}"
    )
    return flat


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(f"BLAS: {blas_kernel()}")
    print(f"{args.steps} optimizer steps per loop, RSS sampled every {args.every} steps")
    start = time.perf_counter()
    raw = raw_loop(args.steps, args.every)
    print(f"raw loop: {time.perf_counter() - start:.1f}s")
    ok = summary("raw", raw, args.warmup)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        samples, trainer = trainer_loop(args.steps, args.every, folder)
        print(f"trainer loop: {time.perf_counter() - start:.1f}s, {trainer.epoch} epochs")
    ok = summary("trainer", samples, args.warmup) and ok
    with tempfile.TemporaryDirectory() as folder:
        samples, _ = trainer_loop(args.steps, args.every, folder, monitor=True)
    summary("+monitor", samples, args.warmup)
    print(
        f"(by design the Trainer keeps one History row and LRMonitor entry per step: "
        f"{history_row_bytes():.0f} bytes each, {args.steps * history_row_bytes() / MB:.1f} MB "
        f"over {args.steps} steps; the soak dropped them as it went)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
