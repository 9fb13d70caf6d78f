"""The six training-step workloads of the performance issue, built identically in neuronet and
PyTorch. ``build(framework, name)`` returns ``(step, infer, flops)``: one full training step
(zero_grad + forward + loss + backward + optimizer.step()), one no-grad forward, and the step's
floating-point operations (forward GEMM/conv FLOPs x 3 for forward + backward).

``batch`` overrides the workload's batch size and ``context`` the GPT's context length (the
scaling benchmark, ``scaling.py``, sweeps them); the defaults are the issue's table.
"""

from __future__ import annotations

import numpy as np

NAMES = ("mlp", "cnn", "lstm", "gpt", "autoencoder", "resnet")


BATCH = {"mlp": 128, "autoencoder": 128, "cnn": 64, "lstm": 32, "gpt": 32, "resnet": 32}
CONTEXT = 64  # the GPT's context length (tokens per sequence)


def _inputs(name: str, rng: np.random.Generator, batch: int, context: int):
    if name in ("mlp", "autoencoder"):
        x = rng.random((batch, 784), dtype=np.float32)
        y = rng.integers(0, 10, batch) if name == "mlp" else x
        return x, y
    if name == "cnn":
        return rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)
    if name == "lstm":
        return rng.standard_normal((batch, 50, 64), dtype=np.float32), rng.integers(0, 10, batch)
    if name == "gpt":
        ids = rng.integers(0, 65, (batch, context + 1))
        return ids[:, :-1], ids[:, 1:]
    return rng.standard_normal((batch, 3, 32, 32), dtype=np.float32), rng.integers(0, 10, batch)


def flops(name: str, batch: int | None = None, context: int = CONTEXT) -> float:
    """Multiply-adds x 2 of the forward pass, times 3 for forward + backward."""
    b = BATCH[name] if batch is None else batch
    if name == "mlp":
        fwd = b * (784 * 512 + 512 * 256 + 256 * 10)
    elif name == "autoencoder":
        fwd = b * (784 * 256 + 256 * 64 + 64 * 256 + 256 * 784)
    elif name == "cnn":
        fwd = b * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 32 * 9 + 1600 * 128 + 128 * 10)
    elif name == "lstm":
        fwd = b * 50 * 4 * 256 * (64 + 256) + b * 256 * 10
    elif name == "gpt":
        t, d = context, 128
        per_block = t * (4 * d * d + 2 * 4 * d * d) + 2 * t * t * d
        fwd = b * (4 * per_block + t * d * 65)
    else:
        convs = [
            (32, 3, 32),
            (32, 32, 32),
            (32, 32, 32),
            (64, 32, 16),
            (64, 64, 16),
            (64, 64, 16),
            (128, 64, 8),
            (128, 128, 8),
            (128, 128, 8),
        ]
        fwd = b * sum(co * ci * 9 * s * s for co, ci, s in convs) + b * 128 * 10
    return 2.0 * 3.0 * fwd


def build(
    framework: str, name: str, seed: int = 0, batch: int | None = None, context: int = CONTEXT
):
    rng = np.random.default_rng(seed)
    batch = BATCH[name] if batch is None else batch
    x, y = _inputs(name, rng, batch, context)
    if framework == "neuronet":
        from benchmarks import models_neuronet as m
        from neuronet import backend

        backend.keep_freed_memory()  # the malloc opt-in Trainer.fit makes (neuronet.backend)
        step, infer = m.build(name, x, y, context=context)
    else:
        from benchmarks import models_torch as m

        compiled = framework == "torch.compile"
        step, infer = m.build(name, x, y, context=context, compiled=compiled)
    return step, infer, flops(name, batch, context)
