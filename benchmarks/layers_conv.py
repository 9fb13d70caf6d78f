"""Micro-benchmarks of convolution and pooling, forward + backward, neuronet against PyTorch,
each in processes of its own (``harness.main_in_pairs``).

The main rows are the issue's workload: Conv2d(32, 64, 3) on a 64x32x28x28 batch (a hidden
layer: the input needs a gradient too), then MaxPool2d(2) on its 64x64x26x26 output. A few
more rows show the other shapes the lowering takes (padding=1 / stride 2 / depthwise / the first
layer of a network, whose input needs no gradient).

Run: python benchmarks/layers_conv.py [--quick] [--threads N]
--quick runs fewer repeats and only the main rows; --threads N gives both libraries N threads
(BLAS for NumPy, intra-op for PyTorch): on a shared machine, one thread each is the fair and
repeatable comparison, since BLAS threads that wait for a busy core stall a whole GEMM.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _threads_from_argv() -> int | None:
    if "--threads" not in sys.argv:
        return None
    return int(sys.argv[sys.argv.index("--threads") + 1])


THREADS = _threads_from_argv()
if THREADS is not None:  # must be set before NumPy loads its BLAS
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import neuronet as nt  # noqa: E402
from benchmarks.harness import compare, main_in_pairs, torch_or_none  # noqa: E402
from neuronet import backend, nn  # noqa: E402


def _bench_layer(label, build, shape, torch, repeats, input_grad=True):
    """Forward + backward of one layer built the same way in both frameworks."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    ours_layer = build(nn)
    out_shape = ours_layer(nt.Tensor(x)).shape
    g = rng.standard_normal(out_shape).astype(np.float32)
    theirs_layer = build(torch.nn) if torch else None
    if theirs_layer is not None and list(theirs_layer.parameters()):
        ours_layer.load_state_dict(theirs_layer.state_dict())

    def ours():
        ours_layer.zero_grad()
        ours_layer(nt.Tensor(x, requires_grad=input_grad)).backward(nt.Tensor(g))

    def theirs():
        theirs_layer.zero_grad()
        xt = torch.from_numpy(x).requires_grad_(input_grad)
        theirs_layer(xt).backward(torch.from_numpy(g))

    return compare(label, ours, theirs if torch else None, repeats=repeats)


def main(quick: bool = False) -> dict:
    backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
    torch = torch_or_none()
    if torch is not None and THREADS is not None:
        torch.set_num_threads(THREADS)
    repeats = 5 if quick else 20
    results = {}
    results["conv"] = _bench_layer(
        "Conv2d(32, 64, 3) 64x32x28x28",
        lambda m: m.Conv2d(32, 64, 3),
        (64, 32, 28, 28),
        torch,
        repeats,
    )
    results["pool"] = _bench_layer(
        "MaxPool2d(2) 64x64x26x26", lambda m: m.MaxPool2d(2), (64, 64, 26, 26), torch, repeats
    )
    results["conv+pool"] = _bench_layer(
        "Conv2d(32, 64, 3) + MaxPool2d(2)",
        lambda m: m.Sequential(m.Conv2d(32, 64, 3), m.MaxPool2d(2)),
        (64, 32, 28, 28),
        torch,
        repeats,
    )
    if quick:
        return results
    _bench_layer(
        "Conv2d(1, 32, 3) first layer 64x1x28x28",
        lambda m: m.Conv2d(1, 32, 3),
        (64, 1, 28, 28),
        torch,
        repeats,
        input_grad=False,
    )
    _bench_layer(
        "Conv2d(64, 64, 3, padding=1) 32x64x16x16",
        lambda m: m.Conv2d(64, 64, 3, padding=1),
        (32, 64, 16, 16),
        torch,
        repeats,
    )
    _bench_layer(
        "Conv2d(64, 128, 3, stride=2) 32x64x16x16",
        lambda m: m.Conv2d(64, 128, 3, 2, 1),
        (32, 64, 16, 16),
        torch,
        repeats,
    )
    _bench_layer(
        "depthwise Conv2d(64, 64, 3, groups=64)",
        lambda m: m.Conv2d(64, 64, 3, 1, 1, groups=64),
        (32, 64, 16, 16),
        torch,
        repeats,
    )
    _bench_layer(
        "ConvTranspose2d(64, 32, 4, 2, 1) 32x64x8x8",
        lambda m: m.ConvTranspose2d(64, 32, 4, 2, 1),
        (32, 64, 8, 8),
        torch,
        repeats,
    )
    _bench_layer(
        "AvgPool2d(3, 2, 1) 64x64x26x26",
        lambda m: m.AvgPool2d(3, 2, 1),
        (64, 64, 26, 26),
        torch,
        repeats,
    )
    _bench_layer(
        "AdaptiveAvgPool2d(1) 64x256x7x7",
        lambda m: m.AdaptiveAvgPool2d(1),
        (64, 256, 7, 7),
        torch,
        repeats,
    )
    return results


if __name__ == "__main__":
    main_in_pairs(lambda: main(quick="--quick" in sys.argv))
