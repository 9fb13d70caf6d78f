"""The six training-step workloads of the performance issue, built identically in neuronet and
PyTorch. ``build(framework, name)`` returns ``(step, infer, flops)``: one full training step
(zero_grad + forward + loss + backward + optimizer.step()), one no-grad forward, and the step's
floating-point operations (forward GEMM/conv FLOPs x 3 for forward + backward).
"""

from __future__ import annotations

import numpy as np

NAMES = ("mlp", "cnn", "lstm", "gpt", "autoencoder", "resnet")


def _inputs(name: str, rng: np.random.Generator):
    if name in ("mlp", "autoencoder"):
        x = rng.random((128, 784), dtype=np.float32)
        y = rng.integers(0, 10, 128) if name == "mlp" else x
        return x, y
    if name == "cnn":
        return rng.random((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    if name == "lstm":
        return rng.standard_normal((32, 50, 64), dtype=np.float32), rng.integers(0, 10, 32)
    if name == "gpt":
        ids = rng.integers(0, 65, (32, 65))
        return ids[:, :-1], ids[:, 1:]
    return rng.standard_normal((32, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, 32)


def flops(name: str) -> float:
    """Multiply-adds x 2 of the forward pass, times 3 for forward + backward."""
    if name == "mlp":
        fwd = 128 * (784 * 512 + 512 * 256 + 256 * 10)
    elif name == "autoencoder":
        fwd = 128 * (784 * 256 + 256 * 64 + 64 * 256 + 256 * 784)
    elif name == "cnn":
        fwd = 64 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 1600 * 128 + 128 * 10)
    elif name == "lstm":
        fwd = 32 * 50 * 4 * 256 * (64 + 256) + 32 * 256 * 10
    elif name == "gpt":
        t, d, b = 64, 128, 32
        per_block = t * (4 * d * d + 2 * 4 * d * d) + 2 * t * t * d
        fwd = b * (4 * per_block + t * d * 65)
    else:
        convs = [(32, 3, 32), (32, 32, 32), (32, 32, 32), (64, 32, 16), (64, 64, 16), (64, 64, 16),
                 (128, 64, 8), (128, 128, 8), (128, 128, 8)]
        fwd = 32 * sum(co * ci * 9 * s * s for co, ci, s in convs) + 32 * 128 * 10
    return 2.0 * 3.0 * fwd


def build(framework: str, name: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    x, y = _inputs(name, rng)
    if framework == "neuronet":
        from benchmarks import models_neuronet as m
    else:
        from benchmarks import models_torch as m
    step, infer = m.build(name, x, y)
    return step, infer, flops(name)
