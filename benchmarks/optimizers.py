"""One optimizer step over 1M float32 parameters in 20 tensors: neuronet vs PyTorch.

For Adam, AdamW and SGD with momentum, times ``optimizer.step()`` (gradients already in place)
against PyTorch's default implementation on CPU (the per-tensor loop: torch only defaults to
``foreach`` on accelerators) and against ``foreach=True``, each framework in processes of its
own (``harness.main_in_pairs``). neuronet runs its fused numba kernels, and for reference its
NumPy path.

Usage: python benchmarks/optimizers.py [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import compare, main_in_pairs, torch_or_none  # noqa: E402

import neuronet as nt  # noqa: E402
from neuronet import backend, optim  # noqa: E402
from neuronet.nn import Parameter  # noqa: E402

N_TENSORS = 20
SHAPE = (250, 200)  # 20 x 50,000 = 1,000,000 parameters

CASES = [
    ("Adam", {"lr": 1e-3}),
    ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    ("SGD", {"lr": 1e-3, "momentum": 0.9}),
]


def _arrays(seed: int):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(SHAPE).astype(np.float32) for _ in range(N_TENSORS)]


def _ours(name, options):
    params = [Parameter(w) for w in _arrays(0)]
    for p, g in zip(params, _arrays(1)):
        p.grad = nt.Tensor(g)
    return getattr(optim, name)(params, **options).step


def _theirs(torch, name, options, foreach):
    params = [torch.tensor(w, requires_grad=True) for w in _arrays(0)]
    for p, g in zip(params, _arrays(1)):
        p.grad = torch.from_numpy(g)
    return getattr(torch.optim, name)(params, foreach=foreach, **options).step


def main(repeats: int = 30) -> list:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    torch = torch_or_none()
    threads = torch.get_num_threads() if torch is not None else "-"
    print(
        f"optimizer.step() over {N_TENSORS} x {SHAPE} float32 = 1M parameters "
        f"(torch threads: {threads}; neuronet: 1 thread)"
    )
    results = []
    for name, options in CASES:
        backend.fast.numba = True
        ours = _ours(name, options)
        for foreach in (None, True):
            theirs = _theirs(torch, name, options, foreach) if torch is not None else None
            label = f"{name} step, torch {'default (for-loop)' if foreach is None else 'foreach'}"
            results.append((label, compare(label, ours, theirs, repeats=repeats)))
        backend.fast.numba = False
        numpy_path = _ours(name, options)
        theirs = _theirs(torch, name, options, None) if torch is not None else None
        label = f"{name} step (NumPy path), torch default"
        results.append((label, compare(label, numpy_path, theirs, repeats=repeats)))
        backend.fast.numba = True
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    main_in_pairs(lambda: main(parser.parse_args().repeats))
