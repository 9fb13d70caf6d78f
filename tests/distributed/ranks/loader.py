"""DDP training fed by a DataLoader that loads in the background -- a prefetch thread, or
worker processes (argv[1]: 'prefetch' or 'workers'), started after MPI is initialised. The
weights after 2 epochs must equal those of a loader that loads in the main thread. Prints
``rank R OK loader`` (run by test_loader.py)."""

import inspect
import sys

import numpy as np

import neuronet as nt
import neuronet.distributed as dist
import neuronet.functional as F
from neuronet import nn, optim
from neuronet.data import DataLoader, Dataset, batch_generator


class NoisyPoints(Dataset):
    """Per-sample Python work with a random transform (seeded per batch by the loader)."""

    def __init__(self, n=48):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, 4)).astype(np.float32)
        self.y = (self.x.sum(1) > 0).astype(np.int64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        noise = batch_generator().normal((4,), std=0.01)
        return nt.tensor(self.x[i] + noise), nt.tensor(self.y[i])


def train(**loader_options):
    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    ddp = dist.DistributedDataParallel(model)
    opt = optim.SGD(model.parameters(), lr=0.1)
    data = NoisyPoints()
    sampler = dist.DistributedSampler(data, seed=1)
    loader = DataLoader(
        data, batch_size=4, sampler=sampler, generator=nt.Generator(2), **loader_options
    )
    for epoch in range(2):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            F.cross_entropy(ddp(x), y).backward()
            opt.step()
    return np.concatenate([p.array.reshape(-1) for p in model.parameters()])


if __name__ == "__main__":  # worker processes re-import this file: only the ranks run this
    dist.init(timeout=60)
    mode = sys.argv[1]
    if mode == "workers":
        if "num_workers" not in inspect.signature(DataLoader).parameters:
            print("NO-WORKERS", flush=True)
            sys.exit(0)
        background = train(num_workers=2)
    else:
        background = train(prefetch=True)
    foreground = train(prefetch=False)
    assert background.tobytes() == foreground.tobytes(), np.abs(background - foreground).max()
    print(f"rank {dist.rank()} OK loader.", flush=True)
