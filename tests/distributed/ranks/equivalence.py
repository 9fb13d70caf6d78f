"""2 ranks x batch 4 against 1 process x batch 8: 20 SGD steps, float64 and float32, each
progress strategy. Rank 0 saves every run's final weights to argv[1] (an .npz)."""

import sys

import numpy as np

import neuronet as nt
import neuronet.distributed as dist
import neuronet.functional as F
from neuronet import nn, optim

STEPS = 20
BATCH = 8  # the whole step's batch; each of the 2 ranks takes half


def build(dtype):
    nt.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 32),
        nn.Tanh(),
        nn.Linear(32, 32),
        nn.LayerNorm(32),
        nn.GELU(),
        nn.Linear(32, 3),
    )
    return model.to(dtype)


def data(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((STEPS, BATCH, 6)).astype(dtype)
    y = rng.integers(0, 3, (STEPS, BATCH))
    return x, y


def flat(model):
    return np.concatenate([p.array.reshape(-1) for p in model.parameters()])


def train(model, forward, x, y, lo, hi):
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for s in range(STEPS):
        opt.zero_grad()
        F.cross_entropy(forward(nt.tensor(x[s, lo:hi])), nt.tensor(y[s, lo:hi])).backward()
        opt.step()


dist.init(timeout=60)
rank, world = dist.rank(), dist.world_size()
half = BATCH // world
results = {}
for dtype in ("float64", "float32"):
    x, y = data(dtype)
    for progress in ("test", "thread"):
        model = build(dtype)
        # 512-byte buckets: the 8 parameters of this model travel in 3 or 4 buckets
        ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.5 / 1024, progress=progress)
        assert len(ddp.buckets) >= 3, [b.names for b in ddp.buckets]
        train(model, ddp, x, y, rank * half, (rank + 1) * half)
        results[f"{dtype}_{progress}"] = flat(model)
        # every rank holds the same weights
        spread = flat(model).astype(np.float64)
        high, low = spread.copy(), spread.copy()
        dist.all_reduce(high, "max")
        dist.all_reduce(low, "min")
        assert np.array_equal(high, low), f"rank {rank}: replicas differ ({dtype}, {progress})"
    results[f"{dtype}_initial"] = flat(build(dtype))
    reference = build(dtype)
    train(reference, reference, x, y, 0, BATCH)
    results[f"{dtype}_reference"] = flat(reference)
if rank == 0:
    np.savez(sys.argv[1], **results)
print(f"rank {rank}: done", flush=True)
