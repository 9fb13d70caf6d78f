"""Micro-benchmarks of normalization, dropout and embedding, forward + backward, neuronet against
PyTorch, each in processes of its own (``harness.main_in_pairs``):

- BatchNorm2d(64) on (32, 64, 16, 16) in training mode (batch statistics, running update) and
  in eval mode (running statistics);
- BatchNorm1d(512) on (256, 512);
- LayerNorm(512) on (32, 128, 512) (a transformer's activations);
- GroupNorm(8, 64) on (32, 64, 16, 16);
- RMSNorm(512) on (32, 128, 512);
- Dropout(0.1) on (32, 128, 512) (masks differ: PyTorch's generator is another);
- Embedding(10000, 256) looking up (64, 128) indices (the backward scatter-add).

neuronet's normalization and embedding run on the fused numba kernels when numba is installed;
``--numpy`` times the NumPy path instead.

Run: python benchmarks/layers_normalization.py   (add --quick for fewer repeats, --numpy)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neuronet as nt  # noqa: E402
from benchmarks.harness import compare, main_in_pairs, torch_or_none  # noqa: E402
from neuronet import backend, nn  # noqa: E402


def _bench_module(label, ours_layer, theirs_layer, x, torch, repeats, grad_input=True):
    """forward + backward of layer(x) with a fixed random output gradient."""
    rng = np.random.default_rng(1)
    if theirs_layer is not None:
        ours_layer.load_state_dict(theirs_layer.state_dict())
    probe = ours_layer(nt.Tensor(x))
    g = rng.standard_normal(probe.shape).astype(np.float32)

    def ours():
        ours_layer.zero_grad()
        xt = nt.Tensor(x, requires_grad=grad_input)
        ours_layer(xt).backward(nt.Tensor(g))

    def theirs():
        theirs_layer.zero_grad()
        xt = torch.from_numpy(x)
        if grad_input:
            xt.requires_grad_()
        theirs_layer(xt).backward(torch.from_numpy(g))

    compare(label, ours, theirs if theirs_layer is not None else None, repeats=repeats)


def main(argv) -> None:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    quick = "--quick" in argv
    if "--numpy" in argv:
        backend.fast.numba = False
    repeats = 5 if quick else 20
    torch = torch_or_none()
    rng = np.random.default_rng(0)
    image = rng.standard_normal((32, 64, 16, 16)).astype(np.float32)
    tokens = rng.standard_normal((32, 128, 512)).astype(np.float32)
    table = rng.standard_normal((256, 512)).astype(np.float32)
    index = rng.integers(0, 10000, (64, 128))

    def both(name, *args, **kwargs):
        ours = getattr(nn, name)(*args, **kwargs)
        theirs = getattr(torch.nn, name)(*args, **kwargs) if torch else None
        return ours, theirs

    ours, theirs = both("BatchNorm2d", 64)
    _bench_module("BatchNorm2d train (32,64,16,16)", ours, theirs, image, torch, repeats)
    ours, theirs = both("BatchNorm2d", 64)
    ours.eval()
    if theirs is not None:
        theirs.eval()
    _bench_module("BatchNorm2d eval (32,64,16,16)", ours, theirs, image, torch, repeats)
    ours, theirs = both("BatchNorm1d", 512)
    _bench_module("BatchNorm1d train (256,512)", ours, theirs, table, torch, repeats)
    ours, theirs = both("LayerNorm", 512)
    _bench_module("LayerNorm (32,128,512)", ours, theirs, tokens, torch, repeats)
    ours, theirs = both("GroupNorm", 8, 64)
    _bench_module("GroupNorm(8) (32,64,16,16)", ours, theirs, image, torch, repeats)
    ours, theirs = both("RMSNorm", 512)
    _bench_module("RMSNorm (32,128,512)", ours, theirs, tokens, torch, repeats)
    ours, theirs = both("Dropout", 0.1)
    _bench_module("Dropout(0.1) (32,128,512)", ours, theirs, tokens, torch, repeats)
    ours, theirs = both("Embedding", 10000, 256)
    _bench_module(
        "Embedding(10000,256) (64,128) ids", ours, theirs, index, torch, repeats, grad_input=False
    )


if __name__ == "__main__":
    main_in_pairs(lambda: main(sys.argv[1:]))
