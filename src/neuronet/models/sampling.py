"""Sampling the next token from logits: temperature and top-k, seeded."""

from __future__ import annotations

import numpy as np

from neuronet.random import resolve


def check_generate(owner: str, max_new_tokens, temperature, top_k) -> None:
    """Refuse what ``generate`` cannot mean: a negative count, temperature or top_k < 1."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)):
        raise TypeError(f"{owner}.generate: max_new_tokens must be an int, got {max_new_tokens!r}")
    if max_new_tokens < 0:
        raise ValueError(f"{owner}.generate: max_new_tokens must be >= 0, got {max_new_tokens}")
    if temperature is not None and not temperature >= 0:
        raise ValueError(
            f"{owner}.generate: temperature must be >= 0 (0 picks the most likely token), got "
            f"{temperature}"
        )
    if top_k is not None and (isinstance(top_k, bool) or not top_k >= 1):
        raise ValueError(
            f"{owner}.generate: top_k must be >= 1 (or None for no limit), got {top_k}"
        )


def sample_next(logits: np.ndarray, temperature=1.0, top_k=None, generator=None) -> np.ndarray:
    """One token id per row of ``logits`` (N, V).

    temperature 0 (or below 1e-8) picks the argmax; otherwise p = softmax(logits / temperature),
    restricted to the ``top_k`` largest logits when given.
    """
    check_generate("sample_next", 0, temperature, top_k)
    logits = logits.astype(np.float64)
    if temperature is not None and temperature < 1e-8:
        return np.argmax(logits, axis=-1).astype(np.int64)
    logits = logits / (temperature or 1.0)
    if top_k is not None:
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
