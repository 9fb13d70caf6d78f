"""Data pipeline and checkpoint timings, neuronet against PyTorch in one run.

    python benchmarks/data_pipeline.py

1. One shuffled epoch over a (50,000 x 784) float32 TensorDataset in batches of 128:
   neuronet's DataLoader (fast path: one fancy-index per tensor; with and without the prefetch
   thread) against torch.utils.data.DataLoader (per-sample indexing + stack).
2. One epoch of CIFAR-style augmentation (RandomCrop(32, padding=4) + RandomHorizontalFlip) on
   10,000 3x32x32 images, batches of 128 (neuronet only: torchvision is not a dependency).
3. Writing and reading a 10M-parameter state dict: neuronet.io.save/load_state_dict against
   safetensors.torch.save_file/load_file.
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from harness import compare, main_in_pairs, torch_or_none  # noqa: E402

import neuronet as nt  # noqa: E402
from neuronet import io  # noqa: E402
from neuronet.data import DataLoader, TensorDataset, TransformDataset  # noqa: E402
from neuronet.data.transforms import Compose, RandomCrop, RandomHorizontalFlip  # noqa: E402


def _epoch(loader):
    def run():
        for _ in loader:
            pass

    return run


def loader_epoch(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50_000, 784)).astype(np.float32)
    y = rng.integers(0, 10, 50_000)
    ours = TensorDataset(x, y)
    theirs = None
    if torch is not None:
        from torch.utils.data import DataLoader as TorchLoader
        from torch.utils.data import TensorDataset as TorchDataset

        tds = TorchDataset(torch.from_numpy(x), torch.from_numpy(y))
        theirs = _epoch(TorchLoader(tds, batch_size=128, shuffle=True))
    for prefetch in (False, True):
        loader = DataLoader(ours, 128, shuffle=True, generator=nt.Generator(0), prefetch=prefetch)
        compare(f"epoch 50k x 784, bs 128, prefetch={prefetch}", _epoch(loader), theirs, 2, 5)


def augmentation_epoch():
    images = np.random.default_rng(0).random((10_000, 3, 32, 32), dtype=np.float32)
    aug = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])
    data = TransformDataset(TensorDataset(images, np.zeros(10_000, np.int64)), aug)
    loader = DataLoader(data, 128, shuffle=True, generator=nt.Generator(0))
    compare("augmented epoch 10k x 3x32x32, bs 128", _epoch(loader), None, 1, 5)


def checkpoint_io(torch):
    rng = np.random.default_rng(0)
    state = {f"layer{i}.weight": rng.standard_normal((1000, 1000), dtype=np.float32)
             for i in range(10)}  # fmt: skip
    folder = tempfile.mkdtemp()
    ours_path = os.path.join(folder, "ours.safetensors")
    theirs_path = os.path.join(folder, "theirs.safetensors")
    tstate = None
    if torch is not None:
        from safetensors.torch import load_file, save_file

        tstate = {k: torch.from_numpy(v) for k, v in state.items()}
    save_theirs = None if torch is None else (lambda: save_file(tstate, theirs_path))
    compare("save 10M params (40 MB)", lambda: io.save(state, ours_path), save_theirs, 1, 5)
    load_theirs = None if torch is None else (lambda: load_file(theirs_path))
    compare("load 10M params (40 MB)", lambda: io.load_state_dict(ours_path), load_theirs, 1, 5)


def main() -> None:
    torch = torch_or_none()
    loader_epoch(torch)
    augmentation_epoch()
    checkpoint_io(torch)


if __name__ == "__main__":
    main_in_pairs(main)
