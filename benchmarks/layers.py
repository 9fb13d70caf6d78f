"""Micro-benchmarks of the dense-layer family: softmax, log-softmax, the fused losses and Linear,
forward + backward, neuronet against PyTorch, each in processes of its own (harness.main_in_pairs).

Run: python benchmarks/layers.py   (add --quick for fewer repeats)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neuronet as nt  # noqa: E402
from benchmarks.harness import compare, main_in_pairs, torch_or_none  # noqa: E402
from neuronet import backend, nn  # noqa: E402


def _pair(shape, rng, int_targets=None):
    x = rng.standard_normal(shape).astype(np.float32)
    if int_targets is not None:
        t = rng.integers(0, int_targets, shape[0])
    else:
        t = rng.random(shape).astype(np.float32)
    return x, t


def _bench_loss(label, ours_fn, theirs_fn, x, t, torch, repeats):
    cot = None

    def ours():
        xt = nt.Tensor(x, requires_grad=True)
        ours_fn(xt, nt.Tensor(t)).backward()

    def theirs():
        xt = torch.from_numpy(x).requires_grad_()
        theirs_fn(xt, torch.from_numpy(t)).backward()

    del cot
    compare(label, ours, theirs if torch else None, repeats=repeats)


def _bench_softmax(label, ours_fn, theirs_fn, x, torch, repeats):
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)

    def ours():
        xt = nt.Tensor(x, requires_grad=True)
        ours_fn(xt, dim=-1).backward(nt.Tensor(g))

    def theirs():
        xt = torch.from_numpy(x).requires_grad_()
        theirs_fn(xt, dim=-1).backward(torch.from_numpy(g))

    compare(label, ours, theirs if torch else None, repeats=repeats)


def _bench_linear(batch, n_in, n_out, torch, repeats):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    g = rng.standard_normal((batch, n_out)).astype(np.float32)
    ours_layer = nn.Linear(n_in, n_out)
    theirs_layer = torch.nn.Linear(n_in, n_out) if torch else None

    def ours():
        ours_layer.zero_grad()
        ours_layer(nt.Tensor(x, requires_grad=True)).backward(nt.Tensor(g))

    def theirs():
        theirs_layer.zero_grad()
        theirs_layer(torch.from_numpy(x).requires_grad_()).backward(torch.from_numpy(g))

    compare(
        f"Linear {n_in}->{n_out}, batch {batch}", ours, theirs if torch else None, repeats=repeats
    )


def main(quick: bool = False) -> None:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    torch = torch_or_none()
    F = torch.nn.functional if torch else None
    repeats = 10 if quick else 30
    rng = np.random.default_rng(0)
    print("forward + backward, float32 (median of per-process medians)")
    for shape in [(128, 10), (256, 1000), (64, 128, 512)]:
        x = rng.standard_normal(shape).astype(np.float32) * 3
        _bench_softmax(f"softmax {shape}", nt.softmax, torch and torch.softmax, x, torch, repeats)
        _bench_softmax(
            f"log_softmax {shape}", nt.log_softmax, torch and torch.log_softmax, x, torch, repeats
        )
    for n, c in [(128, 10), (256, 1000)]:
        x, t = _pair((n, c), rng, int_targets=c)
        _bench_loss(
            f"cross_entropy ({n}, {c})",
            nt.cross_entropy,
            F and F.cross_entropy,
            x,
            t,
            torch,
            repeats,
        )
        _bench_loss(
            f"cross_entropy ({n}, {c}) smoothing 0.1",
            lambda a, b: nt.cross_entropy(a, b, label_smoothing=0.1),
            F and (lambda a, b: F.cross_entropy(a, b, label_smoothing=0.1)),
            x,
            t,
            torch,
            repeats,
        )
    x, t = _pair((256, 1024), rng)
    _bench_loss("mse_loss (256, 1024)", nt.mse_loss, F and F.mse_loss, x, t, torch, repeats)
    _bench_loss(
        "bce_with_logits (256, 1024)",
        nt.binary_cross_entropy_with_logits,
        F and F.binary_cross_entropy_with_logits,
        x,
        t,
        torch,
        repeats,
    )
    _bench_linear(128, 784, 256, torch, repeats)
    _bench_linear(512, 1024, 1024, torch, repeats)


if __name__ == "__main__":
    main_in_pairs(lambda: main(quick="--quick" in sys.argv))
