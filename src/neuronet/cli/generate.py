"""Text generation for ``neuronet sample`` and the sample printed after training a language
model."""

from __future__ import annotations

from neuronet.cli.config import ConfigError


def generate_text(model, vocab, prompt: str, tokens: int, temperature: float, top_k, seed: int):
    """``tokens`` characters continuing ``prompt`` (every prompt character must be in
    ``vocab``)."""
    from neuronet.autograd.tensor import Tensor
    from neuronet.random import Generator

    unknown = sorted({c for c in prompt if c not in vocab.stoi})
    if unknown:
        raise ConfigError(
            f"the prompt has characters the model never saw: {unknown!r}; use "
            "characters from its training text"
        )
    ids = vocab.encode(prompt or "\n")[None, :]
    out = model.generate(
        Tensor(ids), tokens, temperature=temperature, top_k=top_k, generator=Generator(seed)
    )
    return vocab.decode(out.array[0, ids.shape[1] :])
