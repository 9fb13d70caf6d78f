"""``neuronet evaluate``, ``predict``, ``sample`` and ``summary``.

``predict`` and ``evaluate`` apply the preprocessing the run was trained with (its
``preprocess.json``): ``predict`` takes rows as the training file had them (raw pixel values,
CSV columns in their own units, with or without a header and the label column) and prints class
names, not indices.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from neuronet.cli.config import ConfigError, resolve
from neuronet.cli.generate import generate_text
from neuronet.cli.preprocess import Preprocessing, read_preprocessing
from neuronet.cli.run_folder import load_run, run_preprocessing
from neuronet.data.arrays import load_npy

PREDICT_BATCH = 256


def evaluate(flags: dict) -> int:
    from neuronet.cli.tasks import prepare
    from neuronet.train import Trainer

    model, config, _ = load_run(flags["run"])
    prep = run_preprocessing(flags["run"], config)
    if flags.get("data"):
        config = {**config, "data": flags["data"]}
    config = resolve({**config, "config": None})
    task = prepare(config, preprocessing=prep)
    _check_fits(model, task.model, config["data"])
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


def _check_fits(model, for_data, spec: str) -> None:
    """``prepare`` builds the model the data needs; it must be the run's model."""
    mine, needed = model.config, for_data.config
    if mine == needed:
        return
    diffs = ", ".join(
        f"{k} {needed.get(k)!r} (the run's model has {mine.get(k)!r})"
        for k in sorted(set(mine) | set(needed))
        if mine.get(k) != needed.get(k)
    )
    raise ConfigError(
        f"--data {spec} does not fit this run's {type(model).__name__}: the data needs {diffs}; "
        "evaluate on data of the kind the model was trained on"
    )


def _read_rows(path: Path, prep) -> np.ndarray:
    """Raw samples (N, features) from a CSV or .npy file, in the training file's units."""
    from neuronet.data.tables import read_features

    if not path.is_file():
        raise ConfigError(f"input file {str(path)!r} does not exist")
    if path.suffix == ".npy":
        try:  # numbers only (no strings, objects or pickle), all finite
            x = load_npy(path)
        except ValueError as err:
            raise ConfigError(str(err).removeprefix("load_npy: ")) from None
        if x.size == 0:
            raise ConfigError(f"{str(path)!r} holds no samples (an empty array)")
        if x.size == prep.features and x.ndim < 2:
            return x.reshape(1, -1)
        return x.reshape(len(x), -1)
    from neuronet.data.tables import read_csv_rows

    count = prep.features
    if not count:  # a model folder that does not say its input size: the file's width
        try:
            count = len(read_csv_rows(path, prep.delimiter, prep.encoding, who="read_features")[0])
        except (ValueError, FileNotFoundError) as err:
            raise ConfigError(str(err).splitlines()[0].removeprefix("read_features: ")) from None
    names = prep.feature_names or [f"column {i}" for i in range(count)]
    try:
        return read_features(
            path, names, prep.label_index, prep.named_columns, prep.delimiter, prep.encoding
        )
    except (ValueError, FileNotFoundError) as err:
        message = str(err).splitlines()[0]
        raise ConfigError(message.removeprefix("read_features: ")) from None


def _forward(model, x: np.ndarray) -> np.ndarray:
    from neuronet.autograd.grad_mode import no_grad
    from neuronet.autograd.tensor import Tensor

    model.eval()
    outputs = []
    try:
        with no_grad():
            for start in range(0, len(x), PREDICT_BATCH):
                outputs.append(model(Tensor(x[start : start + PREDICT_BATCH])).array)
    except (ValueError, RuntimeError) as err:  # a bug: the stored preprocessing should fit
        raise RuntimeError(f"the model rejected inputs of shape {x.shape}: {err}") from err
    return np.concatenate(outputs, axis=0)


def _table(prep, out: np.ndarray, probabilities: bool) -> list:
    """The prediction rows (header first) for a model output."""
    if prep.task == "classification":
        z = out.astype(np.float64) - out.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        head = ["prediction", "confidence"]
        if probabilities:
            head += [f"prob_{prep.class_name(i)}" for i in range(probs.shape[1])]
        rows = [head]
        for p in probs:
            k = int(p.argmax())
            row = [prep.class_name(k), f"{p[k]:.4f}"]
            rows.append(row + ([f"{v:.6f}" for v in p] if probabilities else []))
        return rows
    if prep.task == "regression":
        values = prep.target(out.reshape(len(out), -1))
        return [["prediction"]] + [[f"{v:.6g}" for v in row] for row in values]
    values = prep.reconstruction(out)  # an autoencoder: the reconstructed sample
    names = prep.feature_names or [f"x{i}" for i in range(values.shape[1])]
    return [list(names)] + [[f"{v:.6g}" for v in row] for row in values]


def _model_and_preprocessing(run):
    """The run's model (``neuronet.load_model``) and its preprocessing: preprocess.json; for a
    run written before it, the one its config implies; for a folder written by ``save_model``
    alone, what its model.json says."""
    from neuronet.io.files import CheckpointError
    from neuronet.io.model_folder import load_model

    path = Path(run)
    try:
        model = load_model(path)
    except (FileNotFoundError, CheckpointError) as err:
        raise ConfigError(str(err).splitlines()[0]) from None
    folder = path if path.is_dir() else path.parent
    prep = read_preprocessing(folder)
    if prep is None and (folder / "config.toml").is_file():
        prep = run_preprocessing(folder, load_run(folder)[1])
    return model, prep or Preprocessing.from_model_json(model.document)


def predict(flags: dict) -> int:
    model, prep = _model_and_preprocessing(flags["run"])
    if prep.task == "language_model":
        raise ConfigError("this run is a language model; use `neuronet sample RUN --prompt ...`")
    rows = _read_rows(Path(flags["input"]), prep)
    if prep.model_steps:  # model.json's own steps
        try:
            out = model.predict(rows)
        except ValueError as err:
            raise ConfigError(str(err).splitlines()[0]) from None
    else:
        out = _forward(model.module, prep.inputs(rows))
    target = flags.get("output")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(_table(prep, out, bool(target)))
    if target:
        path = Path(target)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(buffer.getvalue())
        os.replace(tmp, path)
        print(f"{len(out)} predictions written to {path}")
    else:
        print(buffer.getvalue(), end="")
    return 0


def sample(flags: dict) -> int:
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
    print(layer_table(task.model, (1, *x.shape), dtype=x.dtype, verbose=False))
    return 0
