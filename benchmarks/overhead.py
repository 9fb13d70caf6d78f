"""Per-op overhead: forward + backward through a chain of 100 small ops on 8x8 tensors.

At this size the arithmetic costs nothing and the time is the framework's own bookkeeping:
creating graph nodes, dispatching ops, walking the graph backward. The chain repeats
``x = ((x * w).tanh() + b) @ m`` 25 times (mul, tanh, add, matmul: 100 ops), then sums.
neuronet and PyTorch run in processes of their own (``harness.main_in_pairs``).

Usage: python benchmarks/overhead.py [--repeats N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from harness import compare, main_in_pairs, torch_or_none  # noqa: E402

import neuronet as nt  # noqa: E402
from neuronet import backend  # noqa: E402

N_OPS = 100
SIZE = 8


def _arrays(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    w = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    b = rng.standard_normal((SIZE, SIZE)).astype(np.float32)
    m = (rng.standard_normal((SIZE, SIZE)) / SIZE**0.5).astype(np.float32)
    return [x, w, b, m]


def chain(x, w, b, m):
    """The same code runs on neuronet and torch tensors."""
    for _ in range(N_OPS // 4):
        x = ((x * w).tanh() + b) @ m
    return x.sum()


def neuronet_step(arrays):
    leaves = [nt.tensor(a, requires_grad=True) for a in arrays]

    def step():
        for t in leaves:
            t.grad = None
        chain(*leaves).backward()

    return step, leaves


def torch_step(torch, arrays):
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step():
        for t in leaves:
            t.grad = None
        chain(*leaves).backward()

    return step, leaves


def main(argv=None) -> dict:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="cProfile neuronet's step")
    args = parser.parse_args(argv)
    arrays = _arrays()
    ours, ours_leaves = neuronet_step(arrays)
    torch = torch_or_none()
    theirs = None
    if torch is not None:
        torch.set_num_threads(1)
        theirs, their_leaves = torch_step(torch, arrays)
        ours()
        theirs()
        for o, t in zip(ours_leaves, their_leaves):  # same gradients, or the timing is moot
            np.testing.assert_allclose(o.grad.array, t.grad.numpy(), rtol=1e-3, atol=1e-4)
    label = f"{N_OPS}-op chain, {SIZE}x{SIZE}, fwd+bwd"
    result = compare(label, ours, theirs, warmup=20, repeats=args.repeats)
    if "neuronet" in result:
        ms = result["neuronet"]["median"]
        print(f"neuronet: {ms * 1e3 / N_OPS:.1f} us per op (forward + backward)")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            ours()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return result


if __name__ == "__main__":
    main_in_pairs(main)
