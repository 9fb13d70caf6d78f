"""``neuronet evaluate``, ``predict``, ``sample`` and ``summary``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from neuronet.cli.config import ConfigError, resolve


def generate_text(model, vocab, prompt: str, tokens: int, temperature: float, top_k, seed: int):
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


def evaluate(flags: dict) -> int:
    from neuronet.cli.tasks import prepare
    from neuronet.cli.train_cmd import load_run
    from neuronet.data import CharVocab
    from neuronet.train import Trainer

    model, config, metadata = load_run(flags["run"])
    if flags.get("data"):
        config = {**config, "data": flags["data"]}
    config = resolve({**config, "config": None})
    vocab = CharVocab.from_json(metadata["vocab"]) if "vocab" in metadata else None
    task = prepare(config, vocab=vocab)
    trainer = Trainer(
        model,
        task.loss,
        optimizer=None,
        metrics=task.metrics,
        batch_size=config["batch_size"],
        quiet=True,
    )
    results = trainer.evaluate(task.test)
    print(json.dumps({"data": config["data"], **results}, indent=1))
    return 0


def _read_inputs(path: Path) -> np.ndarray:
    if not path.is_file():
        raise ConfigError(f"input file {str(path)!r} does not exist")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False).astype(np.float32)
    try:
        return np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    except ValueError as err:
        raise ConfigError(
            f"cannot read {str(path)!r} as numeric CSV (one sample per row): {err}"
        ) from None


def predict(flags: dict) -> int:
    from neuronet.io.files import CheckpointError
    from neuronet.io.model_folder import load_model

    run = Path(flags["run"])
    try:
        model = load_model(run)
    except (FileNotFoundError, CheckpointError) as err:
        raise ConfigError(str(err).splitlines()[0]) from None
    task = model.task or "classification"
    if task == "language_model":
        raise ConfigError("this run is a language model; use `neuronet sample RUN --prompt ...`")
    x = _read_inputs(Path(flags["input"]))
    try:
        out = model.predict(x)
    except (ValueError, RuntimeError) as err:
        raise ConfigError(
            f"the model cannot take inputs of shape {x.shape}: {str(err).splitlines()[0]}"
        ) from None
    lines = []
    if task == "classification":
        z = out - out.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        lines.append("prediction,confidence")
        lines += [f"{int(p)},{c:.4f}" for p, c in zip(probs.argmax(1), probs.max(1))]
    else:
        flat = out.reshape(out.shape[0], -1)
        lines += [",".join(f"{v:.6g}" for v in row) for row in flat]
    text = "\n".join(lines) + "\n"
    if flags.get("output"):
        Path(flags["output"]).write_text(text)
    else:
        print(text, end="")
    return 0


def sample(flags: dict) -> int:
    from neuronet.cli.train_cmd import load_run
    from neuronet.data import CharVocab

    model, _, metadata = load_run(flags["run"])
    if "vocab" not in metadata:
        raise ConfigError(
            "this run is not a language model; `sample` needs a run trained on "
            "text (--model gpt --data pydoc_text)"
        )
    if flags["tokens"] < 1:
        raise ConfigError(f"--tokens must be a positive integer, got {flags['tokens']}")
    if flags["temperature"] < 0:
        raise ConfigError(f"--temperature must be >= 0, got {flags['temperature']}")
    vocab = CharVocab.from_json(metadata["vocab"])
    text = generate_text(
        model,
        vocab,
        flags["prompt"],
        flags["tokens"],
        flags["temperature"],
        flags.get("top_k"),
        flags.get("seed") or 0,
    )
    print(flags["prompt"] + text)
    return 0


def summary(flags: dict) -> int:
    from neuronet.cli.tasks import prepare
    from neuronet.nn.summary import summary as layer_table

    config = resolve({"model": flags["model"], "data": flags.get("data"), "config": None})
    task = prepare(config)
    x = task.train[0][0]
    print(layer_table(task.model, (1, *x.shape), dtype=x.dtype))
    return 0
