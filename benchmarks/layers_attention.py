"""Micro-benchmarks of the attention family, forward + backward, neuronet against PyTorch, each
in processes of its own (``harness.main_in_pairs``):

- MultiheadAttention(128, 4, batch_first=True), self-attention on 32 sequences of 64 tokens,
  need_weights=False (the transformer path), with and without a causal mask;
- the same with need_weights=True (the slower path that also returns the weights);
- F.scaled_dot_product_attention alone on (32, 4, 64, 32) heads;
- TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True) on the same tokens.

Run: python benchmarks/layers_attention.py [--quick] [--single-thread]
(--quick: fewer repeats; --single-thread: one BLAS/torch thread each, a fairer comparison on a
machine shared with other jobs, where PyTorch's thread pool suffers most from contention.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if "--single-thread" in sys.argv:  # must precede the NumPy import
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neuronet as nt  # noqa: E402
from benchmarks.harness import compare, main_in_pairs, torch_or_none  # noqa: E402
from neuronet import backend, nn  # noqa: E402

N, L, E, H = 32, 64, 128, 4


def _bench_module(label, ours_layer, theirs_layer, call, x, torch, repeats):
    """forward + backward of call(layer, x) with a fixed random output gradient."""
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float32)
    if theirs_layer is not None:
        ours_layer.load_state_dict(theirs_layer.state_dict())

    def ours():
        ours_layer.zero_grad()
        xt = nt.Tensor(x, requires_grad=True)
        call(ours_layer, xt).backward(nt.Tensor(g))

    def theirs():
        theirs_layer.zero_grad()
        xt = torch.from_numpy(x).requires_grad_()
        call(theirs_layer, xt).backward(torch.from_numpy(g))

    return compare(label, ours, theirs if torch else None, repeats=repeats)


def _bench_sdpa(torch, repeats, is_causal):
    rng = np.random.default_rng(2)
    q, k, v, g = (rng.standard_normal((N, H, L, E // H)).astype(np.float32) for _ in range(4))

    def ours():
        ts = [nt.Tensor(a, requires_grad=True) for a in (q, k, v)]
        out = nt.functional.scaled_dot_product_attention(*ts, is_causal=is_causal)
        out.backward(nt.Tensor(g))

    def theirs():
        ts = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
        out = torch.nn.functional.scaled_dot_product_attention(*ts, is_causal=is_causal)
        out.backward(torch.from_numpy(g))

    label = f"sdpa ({N}, {H}, {L}, {E // H}){' causal' if is_causal else ''}"
    return compare(label, ours, theirs if torch else None, repeats=repeats)


def main(quick: bool = False, single_thread: bool = False) -> dict:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    torch = torch_or_none()
    if torch is not None and single_thread:
        torch.set_num_threads(1)
    repeats = 10 if quick else 30
    x = np.random.default_rng(0).standard_normal((N, L, E)).astype(np.float32)
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    threads = "1 thread" if single_thread else "default threads"
    print(f"forward + backward, float32, {N} x {L} tokens, E={E}, {H} heads, {threads} (median ms)")
    results = {}
    ours_mha = nn.MultiheadAttention(E, H, batch_first=True)
    theirs_mha = torch.nn.MultiheadAttention(E, H, batch_first=True) if torch else None

    def mask_for(layer):
        return nt.Tensor(causal) if isinstance(layer, nn.Module) else torch.from_numpy(causal)

    results["mha"] = _bench_module(
        "MultiheadAttention self, need_weights=False",
        ours_mha,
        theirs_mha,
        lambda m, t: m(t, t, t, need_weights=False)[0],
        x,
        torch,
        repeats,
    )
    _bench_module(
        "MultiheadAttention self, causal",
        ours_mha,
        theirs_mha,
        lambda m, t: m(t, t, t, need_weights=False, attn_mask=mask_for(m), is_causal=True)[0],
        x,
        torch,
        repeats,
    )
    _bench_module(
        "MultiheadAttention self, need_weights=True",
        ours_mha,
        theirs_mha,
        lambda m, t: m(t, t, t)[0],
        x,
        torch,
        repeats,
    )
    _bench_sdpa(torch, repeats, is_causal=False)
    _bench_sdpa(torch, repeats, is_causal=True)
    ours_layer = nn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0, batch_first=True)
    theirs_layer = (
        torch.nn.TransformerEncoderLayer(E, H, 4 * E, dropout=0.0, batch_first=True)
        if torch
        else None
    )
    _bench_module(
        "TransformerEncoderLayer(128, 4, 512)",
        ours_layer,
        theirs_layer,
        lambda m, t: m(t),
        x,
        torch,
        repeats,
    )
    if "ratio" in results["mha"]:
        ratio = results["mha"]["ratio"]
        print(f"MultiheadAttention(128, 4) fwd+bwd, neuronet/torch: {ratio:.2f}")
    return results


if __name__ == "__main__":
    main_in_pairs(
        lambda: main(quick="--quick" in sys.argv, single_thread="--single-thread" in sys.argv)
    )
