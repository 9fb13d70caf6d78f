"""A training loop in which one rank fails (argv[1]: kill, stall, uneven, exception; argv[2]:
the progress strategy). Run under mpiexec -n 2 by test_failures.py, which checks that the job
ends, and how."""

import os
import signal
import sys
import time

import numpy as np

import neuronet as nt
import neuronet.distributed as dist
import neuronet.functional as F
from neuronet import nn, optim

mode = sys.argv[1]
progress = sys.argv[2] if len(sys.argv) > 2 else "thread"
dist.init(timeout=2.0)
rank = dist.rank()
nt.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 3))
ddp = dist.DistributedDataParallel(model, bucket_cap_mb=0.01, progress=progress)
opt = optim.SGD(model.parameters(), lr=0.1)
FAIL_STEP = 3


def fail(param):
    """Runs on rank 1 in the middle of backward of step FAIL_STEP, before 0.weight's gradient
    reaches DistributedDataParallel."""
    if ddp.reducer.step != FAIL_STEP or rank != 1:
        return
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "stall":
        time.sleep(60)
    if mode == "exception":
        raise ValueError("rank 1 failed in the middle of backward")


model[0].weight.register_hook(lambda grad: fail(model[0].weight))
rng = np.random.default_rng(rank)
steps = 6 if not (mode == "uneven" and rank == 1) else FAIL_STEP
for _ in range(steps):
    opt.zero_grad()
    x = nt.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    F.cross_entropy(ddp(x), nt.tensor(rng.integers(0, 3, 8))).backward()
    opt.step()
dist.barrier()  # rank 1 of "uneven" waits here for a rank 0 still in step FAIL_STEP
print(f"rank {rank} finished", flush=True)
