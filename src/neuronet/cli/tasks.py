"""From a config to data and a model that fit together.

Each model family expects a data layout: an MLP or autoencoder flat vectors, LeNet and ResNet
(C, H, W) images, recurrent and Transformer classifiers a sequence (an image's rows are its time
steps), GPT and recurrent language models token windows. ``prepare`` loads the data in the
layout the model needs, builds the model for it, says what loss and metrics fit the task, and
records every transform it applied as a ``Preprocessing`` (stored in the run as
``preprocess.json``, so ``predict`` and ``evaluate`` apply the same ones).

CSV tables are standardised with the training split's mean and standard deviation per feature,
and regression targets likewise; the regression metrics (MSE, MAE, R²) are reported in the label
column's own units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from neuronet import models
from neuronet.cli.config import ConfigError
from neuronet.cli.preprocess import Preprocessing, standardize_stats
from neuronet.train.metrics import Metric, get_metric

IMAGE_MODELS = ("lenet", "resnet")
SEQUENCE_MODELS = ("rnn", "lstm", "gru", "transformer")
TEXT_MODELS = ("gpt", "rnn", "lstm", "gru")


@dataclass
class Task:
    kind: str  # 'classification', 'regression', 'language_model', 'reconstruction'
    train: object
    test: object
    model: object
    loss: object
    metrics: list
    data: object  # the DataBundle
    preprocessing: Preprocessing | None = None
    notes: list = field(default_factory=list)  # decisions to tell the user (one line each)


def _load(spec: str, **options):
    from neuronet.data import load

    try:
        return load(spec, **options)
    except (FileNotFoundError, ValueError, TypeError) as err:
        raise ConfigError(str(err).splitlines()[0]) from None


def _arrays(dataset):
    """(inputs, targets) NumPy arrays of a TensorDataset (or a Subset of one)."""
    if hasattr(dataset, "arrays"):
        return dataset.arrays
    from neuronet.data import TensorDataset

    batch = dataset.get_batch(np.arange(len(dataset))) if hasattr(dataset, "get_batch") else None
    if batch is None:
        raise ConfigError(f"cannot read {type(dataset).__name__} as arrays")
    return TensorDataset(*batch).arrays


def _dataset(x, y):
    from neuronet.data import TensorDataset

    return TensorDataset(np.ascontiguousarray(x), y)


def _as_rows(dataset):
    """(N, C, H, W) images -> (N, H, C*W): each row of the image is a time step."""
    x, y = _arrays(dataset)
    n, c, h, w = x.shape
    return _dataset(x.transpose(0, 2, 1, 3).reshape(n, h, c * w), y)


def _strided(dataset, stride: int):
    """Every ``stride``-th window of a character dataset (an epoch sees each character about
    block_size/stride times instead of block_size times)."""
    from neuronet.data import Subset

    return Subset(dataset, np.arange(0, len(dataset), stride))


def evenly(dataset, count: int):
    """At most ``count`` samples of ``dataset``, evenly spaced (a fixed validation subset)."""
    from neuronet.data import Subset

    if len(dataset) <= count:
        return dataset
    return Subset(dataset, np.linspace(0, len(dataset) - 1, count).astype(np.int64))


def sequence_loss(logits, target):
    """Cross-entropy over every position: logits (N, T, V), target (N, T)."""
    from neuronet import functional as F

    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


class Unstandardized(Metric):
    """A regression metric computed in the target's own units: outputs and targets (trained as
    ``(y - mean) / std``) are mapped back with ``y * std + mean`` first."""

    def __init__(self, metric: str, mean: float, std: float):
        self.inner = get_metric(metric)
        self.name = self.inner.name
        self.mean, self.std = np.float64(mean), np.float64(std)

    def reset(self):
        self.inner.reset()

    def update(self, output, target):
        out = output.array if hasattr(output, "array") else np.asarray(output)
        tgt = target.array if hasattr(target, "array") else np.asarray(target)
        self.inner.update(out * self.std + self.mean, tgt * self.std + self.mean)

    def compute(self):
        return self.inner.compute()


def _language_model(config: dict, name: str, spec: str, kind: str, prep) -> Task:
    from neuronet.data import CharVocab

    if name not in TEXT_MODELS:
        raise ConfigError(
            f"--model {name} does not fit text data ({spec}); for language "
            "modelling use --model gpt, lstm, gru or rnn"
        )
    options = {"block_size": config["block_size"]}
    if prep is not None and prep.vocab is not None:
        options["vocab"] = CharVocab.from_json(json.dumps(prep.vocab))
    if kind == "text":
        options["encoding"] = config.get("encoding") or "utf-8"
    data = _load(spec, **options)
    train = _strided(data.train, max(1, config["block_size"] // 2))
    test = evenly(data.test, 1024)
    v = data.vocab_size
    if name == "gpt":
        model = models.GPT(
            vocab_size=v,
            block_size=config["block_size"],
            n_layer=4,
            n_head=4,
            n_embd=128,
            dropout=config["dropout"],
        )
    else:
        model = models.RecurrentLM(
            vocab_size=v, cell=name, embed_dim=64, hidden_size=256, dropout=config["dropout"]
        )
    prep = Preprocessing(
        data=kind,
        task="language_model",
        encoding=options.get("encoding", "utf-8"),
        vocab=json.loads(data.vocab.to_json()),
        block_size=config["block_size"],
    )
    return Task("language_model", train, test, model, sequence_loss, ["perplexity"], data, prep)


def _label(value):
    """--label as given: a column name, or an index ('3', '-1')."""
    if value is None:
        return -1
    if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        return int(value)
    return value


def _load_table(config: dict, spec: str, kind: str, image: bool, prep):
    options = {"flatten": False} if image and kind in ("digits", "mnist", "fashion_mnist") else {}
    if kind == "csv":
        options = {
            "label": _label(config.get("label")),
            "task": prep.task if prep is not None else config.get("task") or "auto",
            "encoding": config.get("encoding") or "utf-8",
        }
        if prep is not None and prep.classes is not None:
            options["classes"] = prep.classes
    elif config.get("label") is not None or config.get("task") not in (None, "auto"):
        raise ConfigError(f"--label and --task apply to CSV data (--data csv:FILE), not {spec}")
    return _load(spec, **options)


def prepare(config: dict, preprocessing: Preprocessing | None = None) -> Task:
    """Load ``config['data']`` in the layout ``config['model']`` needs and build the model.

    With ``preprocessing`` (a trained run's), the data is transformed exactly as in that run
    (its vocabulary, feature statistics and classes) instead of computing them afresh.
    """
    from neuronet import functional as F

    name = config["model"]
    spec = config["data"]
    kind = spec.split(":", 1)[0]
    dropout = config["dropout"]
    prep = preprocessing
    if kind in ("pydoc_text", "text"):
        return _language_model(config, name, spec, kind, prep)
    if name == "gpt":
        raise ConfigError(
            f"--model gpt is a language model and needs text data, not {spec}; "
            "use --data pydoc_text or --data text:FILE"
        )
    image = name in IMAGE_MODELS or name in SEQUENCE_MODELS
    data = _load_table(config, spec, kind, image, prep)
    if data.task == "language_model":
        raise ConfigError(f"--data {spec} is text; --model {name} needs image or tabular data")
    shape = tuple(data.input_shape)
    train, test = data.train, data.test
    classes = data.num_classes
    if image and len(shape) != 3:
        raise ConfigError(
            f"--model {name} needs images (C, H, W); --data {spec} has samples of shape {shape}"
        )
    features = int(np.prod(shape))
    if prep is not None and prep.features != features:
        raise ConfigError(
            f"this run was trained on {prep.data} samples of {prep.features} values; "
            f"--data {spec} has {features} per sample"
        )
    notes = []
    task_kind = "reconstruction" if name == "autoencoder" else data.task
    if name in ("mlp", "autoencoder") and len(shape) > 1:
        train = _dataset(_arrays(train)[0].reshape(len(train), -1), _arrays(train)[1])
        test = _dataset(_arrays(test)[0].reshape(len(test), -1), _arrays(test)[1])
        shape = (features,)
    new = Preprocessing(
        data=kind,
        task=task_kind,
        features=features,
        feature_names=data.extra.get("feature_names"),
        named_columns=bool(data.extra.get("header")),
        label_index=data.extra.get("label_index"),
        label_name=data.extra.get("label_name"),
        encoding=config.get("encoding") or "utf-8",
        scale=float(data.extra.get("input_scale", 1.0)),
        sample_shape=list(shape),
        rows_as_sequence=name in SEQUENCE_MODELS,
        classes=data.classes if data.task == "classification" else None,
    )
    if kind == "csv":
        train, test, new = _standardize(train, test, new, prep, task_kind)
        if prep is None:
            notes.append(
                f"csv: label column {data.extra['label_name']!r}: {data.extra['task_reason']} "
                f"-> {data.task}"
                + ("" if config.get("task") not in (None, "auto") else " (set --task to override)")
                + "; features standardised with the training split's mean and std"
            )
    prep = new
    if name == "mlp":
        out = classes if data.task == "classification" else 1
        model = models.MLP(features, [256, 128] if features > 256 else [128], out, dropout=dropout)
    elif name == "lenet":
        model = models.LeNet(
            shape[0], classes, image_size=shape[1], dropout=dropout, channels=(16, 32)
        )
    elif name == "resnet":
        model = models.ResNet(shape[0], classes, widths=[16, 32, 64], blocks=1)
    elif name in ("rnn", "lstm", "gru"):
        train, test = _as_rows(train), _as_rows(test)
        model = models.RecurrentClassifier(
            name, shape[0] * shape[2], 128, 1, classes, dropout=dropout
        )
    elif name == "transformer":
        train, test = _as_rows(train), _as_rows(test)
        model = models.TransformerClassifier(
            shape[0] * shape[2],
            classes,
            d_model=64,
            nhead=4,
            num_layers=2,
            dim_feedforward=128,
            dropout=dropout,
            max_len=shape[1],
        )
    else:  # autoencoder
        x_train, x_test = _arrays(train)[0], _arrays(test)[0]
        train, test = _dataset(x_train, x_train), _dataset(x_test, x_test)
        model = models.Autoencoder(features, [128], 16, denoising=dropout)
        prep.classes = None
        return Task("reconstruction", train, test, model, F.mse_loss, ["mse"], data, prep, notes)
    if image and data.task != "classification":
        raise ConfigError(f"--model {name} classifies images; {spec} is a {data.task} task")
    if data.task == "regression":
        m, s = prep.target_mean, prep.target_std
        metrics = [Unstandardized(k, m, s) for k in ("mse", "mae", "r2")]
        return Task("regression", train, test, model, F.mse_loss, metrics, data, prep, notes)
    return Task(
        "classification", train, test, model, F.cross_entropy, ["accuracy"], data, prep, notes
    )


def _standardize(train, test, new: Preprocessing, prep, task_kind: str):
    """CSV features (and regression targets) as (v - mean) / std with the training split's
    statistics, or a trained run's (``prep``)."""
    x_train, y_train = _arrays(train)
    x_test, y_test = _arrays(test)
    source = prep
    if source is not None:
        new.mean, new.std = source.mean, source.std
        new.target_mean, new.target_std = source.target_mean, source.target_std
        if source.named_columns and new.named_columns and source.feature_names != new.feature_names:
            raise ConfigError(
                f"the data's feature columns {new.feature_names} differ from the run's "
                f"{source.feature_names}"
            )
    else:
        new.mean, new.std = standardize_stats(x_train)
        if task_kind == "regression":
            (mean,), (std,) = standardize_stats(y_train)
            new.target_mean, new.target_std = float(mean), float(std)
    x_train, x_test = new.normalize(x_train), new.normalize(x_test)
    if task_kind == "regression":
        m, s = np.float32(new.target_mean), np.float32(new.target_std)
        y_train, y_test = (y_train - m) / s, (y_test - m) / s
    return _dataset(x_train, y_train), _dataset(x_test, y_test), new
