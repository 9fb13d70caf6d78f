"""Sampling the next token from logits: temperature and top-k, seeded."""

from __future__ import annotations

import numpy as np

from neuronet.random import resolve


def sample_next(logits: np.ndarray, temperature=1.0, top_k=None, generator=None) -> np.ndarray:
    """One token id per row of ``logits`` (N, V).

    temperature 0 (or below 1e-8) picks the argmax; otherwise p = softmax(logits / temperature),
    restricted to the ``top_k`` largest logits when given.
    """
    logits = logits.astype(np.float64)
    if temperature is not None and temperature < 1e-8:
        return np.argmax(logits, axis=-1).astype(np.int64)
    if temperature is not None and temperature <= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    logits = logits / (temperature or 1.0)
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        k = min(int(top_k), logits.shape[-1])
        kth = np.partition(logits, -k, axis=-1)[:, -k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    logits = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    u = resolve(generator).rng.random((logits.shape[0], 1))
    return np.minimum((probs.cumsum(axis=-1) < u).sum(axis=-1), logits.shape[-1] - 1).astype(
        np.int64
    )
