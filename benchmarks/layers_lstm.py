"""LSTM layer, forward + backward: neuronet against PyTorch, each in its own processes.

LSTM(64, 256), batch_first, 50 steps, batch 32, float32, the same weights and input in both;
the backward is seeded with the same cotangent for the output. Also times the forward alone
(inference under no_grad) and a GRU of the same size.

Usage: python benchmarks/layers_lstm.py [--repeats 30]

Both libraries use all cores by default (the children get the machine's default threads). On a
busy machine multi-threaded BLAS timings swing wildly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import neuronet as nt  # noqa: E402
from benchmarks.harness import compare, main_in_pairs, torch_or_none  # noqa: E402
from neuronet import backend, nn  # noqa: E402

BATCH, STEPS, IN, HIDDEN = 32, 50, 64, 256


def _pair(name: str, torch):
    ours = getattr(nn, name)(IN, HIDDEN, batch_first=True)
    if torch is None:
        return ours, None
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(IN, HIDDEN, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _train_step(model, x, cotangent):
    def step():
        model.zero_grad()
        x.grad = None
        output, _ = model(x)
        nt.autograd.run_backward([output], [cotangent])

    return step


def _torch_train_step(model, x, cotangent):
    def step():
        model.zero_grad()
        x.grad = None
        output, _ = model(x)
        output.backward(cotangent)

    return step


def main(repeats: int = 30) -> dict:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    torch = torch_or_none()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, IN)).astype(np.float32)
    cot = rng.standard_normal((BATCH, STEPS, HIDDEN)).astype(np.float32)
    results = {}
    for name in ("LSTM", "GRU"):
        ours, theirs = _pair(name, torch)
        ox = nt.Tensor(x, requires_grad=True)
        mine = _train_step(ours, ox, nt.Tensor(cot))
        other = tx = None
        if theirs is not None:
            tx = torch.from_numpy(x).requires_grad_(True)
            other = _torch_train_step(theirs, tx, torch.from_numpy(cot))
        label = f"{name}({IN}, {HIDDEN}) T={STEPS} N={BATCH} fwd+bwd"
        results[name] = compare(label, mine, other, repeats=repeats)
        if name == "LSTM":
            label = f"{name}({IN}, {HIDDEN}) T={STEPS} N={BATCH} forward (no_grad)"
            results["LSTM forward"] = compare(
                label, _infer(nt, ours, nt.Tensor(x)), _infer(torch, theirs, tx), repeats=repeats
            )
    return results


def _infer(lib, model, x):
    if model is None:
        return None

    def forward():
        with lib.no_grad():
            model(x)

    return forward


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    main_in_pairs(lambda: main(parser.parse_args().repeats))
