"""The measuring side of benchmarks/distributed.py: run as MPI ranks, or as one process.

    mpiexec -n 2 python benchmarks/distributed_ranks.py allreduce OUT.json
    mpiexec -n 2 python benchmarks/distributed_ranks.py workloads OUT.json --workloads mlp,cnn
    python benchmarks/distributed_ranks.py single OUT.json --workloads mlp,cnn   (threads: env)

Rank 0 (or the single process) writes the figures to OUT.json; distributed.py prints them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import neuronet as nt  # noqa: E402
import neuronet.functional as F  # noqa: E402
from benchmarks import models_neuronet, workloads  # noqa: E402
from neuronet import optim  # noqa: E402

SIZES = [2**k for k in range(2, 27, 2)]  # 4 B .. 64 MiB


def _optimizer(name, model):
    if name == "gpt":
        return optim.AdamW(model.parameters(), lr=3e-4)
    if name == "resnet":
        return optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    return optim.Adam(model.parameters(), lr=1e-3)


def _loss(name, out, y):
    if name == "autoencoder":
        return F.binary_cross_entropy_with_logits(out, y)
    if name == "gpt":
        return F.cross_entropy(out.reshape(-1, 65), y.reshape(-1))
    return F.cross_entropy(out, y)


def _batch(name, batch, seed):
    x, y = workloads._inputs(name, np.random.default_rng(seed), batch, workloads.CONTEXT)
    return nt.from_numpy(x), nt.from_numpy(y)


def _median_ms(times):
    return 1e3 * statistics.median(times)


# ---- one process ------------------------------------------------------------------------------
def single(names, steps, warmup) -> dict:
    """Full-batch training step time (ms) and gradient bytes, per workload."""
    out = {}
    for name in names:
        nt.manual_seed(0)
        model = models_neuronet.model_for(name)
        opt = _optimizer(name, model)
        x, y = _batch(name, workloads.BATCH[name], 0)
        times = []
        for i in range(warmup + steps):
            start = time.perf_counter()
            opt.zero_grad()
            _loss(name, model(x), y).backward()
            opt.step()
            if i >= warmup:
                times.append(time.perf_counter() - start)
        grad_bytes = sum(p.array.nbytes for p in model.parameters() if p.requires_grad)
        out[name] = {"step_ms": _median_ms(times), "grad_bytes": grad_bytes}
    return out


# ---- ranks -------------------------------------------------------------------------------------
def allreduce(comm, MPI) -> list:
    """Median time of an in-place Allreduce of float32 arrays of each size (bytes)."""
    rows = []
    for size in SIZES:
        buf = np.ones(max(1, size // 4), np.float32)
        repeats = 200 if size <= 2**16 else (40 if size <= 2**22 else 10)
        for _ in range(3):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        times = []
        for _ in range(repeats):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - start)
        slowest = np.array(times)
        comm.Allreduce(MPI.IN_PLACE, slowest, op=MPI.MAX)
        rows.append({"bytes": buf.nbytes, "median_s": float(np.median(slowest))})
    return rows


def _timed(comm, MPI, fn) -> float:
    """Seconds of ``fn`` on the slower rank, both starting together."""
    comm.Barrier()
    start = time.perf_counter()
    fn()
    elapsed = np.array([time.perf_counter() - start])
    comm.Allreduce(MPI.IN_PLACE, elapsed, op=MPI.MAX)
    return float(elapsed[0])


def workload(name, steps, warmup, comm, MPI, bucket_mb) -> dict:
    """Per-rank half batch: local backward, the buckets' all-reduce alone, DDP with each
    progress strategy (forward + backward), and the full DDP training step."""
    import neuronet.distributed as dist

    nt.manual_seed(0)
    model = models_neuronet.model_for(name)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_mb)
    opt = _optimizer(name, model)
    half = workloads.BATCH[name] // comm.Get_size()
    x, y = _batch(name, half, comm.Get_rank())

    def local():
        opt.zero_grad()
        with ddp.no_sync():
            _loss(name, ddp(x), y).backward()

    def comm_alone():
        for bucket in ddp.buckets:
            ddp.reducer.comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)

    def synced(progress):
        def run():
            ddp.reducer.progress = progress
            opt.zero_grad()
            _loss(name, ddp(x), y).backward()

        return run

    def train_step():
        ddp.reducer.progress = dist.ddp.DEFAULT_PROGRESS
        opt.zero_grad()
        _loss(name, ddp(x), y).backward()
        opt.step()

    variants = {
        "local": local,
        "comm": comm_alone,
        "test": synced("test"),
        "thread": synced("thread"),
        "step": train_step,
    }
    times = {k: [] for k in variants}
    waits = {"test": [], "thread": []}
    early = {"test": [], "thread": []}
    for i in range(warmup + steps):
        for key, fn in variants.items():  # interleaved: machine noise hits every variant
            seconds = _timed(comm, MPI, fn)
            if i >= warmup:
                times[key].append(seconds)
                if key in waits:
                    waits[key].append(ddp.reducer.exposed_wait)
                    early[key].append(ddp.reducer.done_in_backward)
    result = {k: _median_ms(v) for k, v in times.items()}
    result["wait_ms"] = {k: _median_ms(v) for k, v in waits.items()}
    # buckets averaged before backward ended (the last one never can be), median over steps
    result["early"] = {k: statistics.median(v) for k, v in early.items()}
    result["buckets"] = len(ddp.buckets)
    result["grad_bytes"] = sum(b.numel * b.dtype.itemsize for b in ddp.buckets)
    result["half_batch"] = half
    _hidden(result)
    return result


def _hidden(result: dict) -> None:
    """Fraction of the all-reduce hidden behind backward, two ways: from the step times
    (1 - (ddp - local) / comm) and from the reducer's own clock (1 - wait / comm, where wait is
    the time from the last gradient to the end of the reduction; it also counts waiting for the
    slower rank)."""
    for progress in ("test", "thread"):
        exposed = result[progress] - result["local"]
        result[f"hidden_{progress}"] = min(1.0, max(0.0, 1.0 - exposed / result["comm"]))
        wait = result["wait_ms"][progress]
        result[f"hidden_wait_{progress}"] = min(1.0, max(0.0, 1.0 - wait / result["comm"]))


class _Elsewhere(nt.Function):
    """Identity whose backward sleeps: the backward compute of a layer done by something other
    than this process's cores (an accelerator, or idle cores), so that communication has
    resources to overlap with. dL/dx = dL/dy."""

    @staticmethod
    def forward(ctx, x, ms=5.0):
        ctx.ms = ms
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        time.sleep(ctx.ms / 1e3)
        return (grad,)


def capability(steps, warmup, comm, MPI, layers=8, width=512, ms=5.0) -> dict:
    """Overlap when backward leaves the cores free: ``layers`` Linear(width, width) layers
    (1 MiB of gradient each, one bucket each) whose backward takes ``ms`` each elsewhere."""
    import neuronet.distributed as dist
    from neuronet import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(layers)])

        def forward(self, x):
            for layer in self.layers:
                x = _Elsewhere.apply(layer(x), ms=ms)
            return x

    nt.manual_seed(0)
    model = Net()
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=width * width * 4 / 2**20)
    x = nt.randn(8, width)

    def local():
        model.zero_grad()
        with ddp.no_sync():
            ddp(x).sum().backward()

    def comm_alone():
        for bucket in ddp.buckets:
            ddp.reducer.comm.Allreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)

    def synced(progress):
        def run():
            ddp.reducer.progress = progress
            model.zero_grad()
            ddp(x).sum().backward()

        return run

    variants = {"local": local, "comm": comm_alone, "test": synced("test")}
    variants["thread"] = synced("thread")
    times = {k: [] for k in variants}
    waits = {"test": [], "thread": []}
    early = {"test": [], "thread": []}
    for i in range(warmup + steps):
        for key, fn in variants.items():
            seconds = _timed(comm, MPI, fn)
            if i >= warmup:
                times[key].append(seconds)
                if key in waits:
                    waits[key].append(ddp.reducer.exposed_wait)
                    early[key].append(ddp.reducer.done_in_backward)
    result = {k: _median_ms(v) for k, v in times.items()}
    result["wait_ms"] = {k: _median_ms(v) for k, v in waits.items()}
    # buckets averaged before backward ended (the last one never can be), median over steps
    result["early"] = {k: statistics.median(v) for k, v in early.items()}
    result.update(buckets=len(ddp.buckets), layers=layers, sleep_ms=ms)
    _hidden(result)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=["allreduce", "workloads", "single"])
    parser.add_argument("out")
    parser.add_argument("--workloads", default=",".join(workloads.NAMES))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--bucket-mb", type=float, default=25.0)
    args = parser.parse_args()
    names = args.workloads.split(",")
    if args.part == "single":
        Path(args.out).write_text(json.dumps(single(names, args.steps, args.warmup)))
        return
    import neuronet.distributed as dist

    dist.init(timeout=1800)
    from neuronet.distributed.process_group import GROUP

    comm, MPI = GROUP.comm, GROUP.MPI
    if args.part == "allreduce":
        result = {"rows": allreduce(comm, MPI), "library": MPI.Get_library_version()}
    else:
        result = {n: workload(n, args.steps, args.warmup, comm, MPI, args.bucket_mb) for n in names}
        result["_capability"] = capability(3 * args.steps, args.warmup, comm, MPI)
    if comm.Get_rank() == 0:
        Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
