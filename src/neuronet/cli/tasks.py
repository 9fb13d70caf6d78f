"""From a config to data and a model that fit together.

Each model family expects a data layout: an MLP or autoencoder flat vectors, LeNet and ResNet
(C, H, W) images, recurrent and Transformer classifiers a sequence (an image's rows are its time
steps), GPT and recurrent language models token windows. ``prepare`` loads the data in the
layout the model needs, builds the model for it, and says what loss and metrics fit the task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuronet import models
from neuronet.cli.config import ConfigError

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


def _as_rows(dataset):
    """(N, C, H, W) images -> (N, H, C*W): each row of the image is a time step."""
    from neuronet.data import TensorDataset

    x, y = _arrays(dataset)
    n, c, h, w = x.shape
    return TensorDataset(np.ascontiguousarray(x.transpose(0, 2, 1, 3).reshape(n, h, c * w)), y)


def _strided(dataset, stride: int):
    """Every ``stride``-th window of a character dataset (an epoch sees each character about
    block_size/stride times instead of block_size times)."""
    from neuronet.data import Subset

    return Subset(dataset, np.arange(0, len(dataset), stride))


def _evenly(dataset, count: int):
    from neuronet.data import Subset

    if len(dataset) <= count:
        return dataset
    return Subset(dataset, np.linspace(0, len(dataset) - 1, count).astype(np.int64))


def sequence_loss(logits, target):
    """Cross-entropy over every position: logits (N, T, V), target (N, T)."""
    from neuronet import functional as F

    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


def prepare(config: dict, vocab=None) -> Task:
    """Load ``config['data']`` in the layout ``config['model']`` needs and build the model."""
    from neuronet import functional as F

    name = config["model"]
    spec = config["data"]
    kind = spec.split(":", 1)[0]
    dropout = config["dropout"]
    if kind in ("pydoc_text", "text"):
        if name not in TEXT_MODELS:
            raise ConfigError(
                f"--model {name} does not fit text data ({spec}); for language "
                "modelling use --model gpt, lstm, gru or rnn"
            )
        options = {"block_size": config["block_size"]}
        if vocab is not None:
            options["vocab"] = vocab
        data = _load(spec, **options)
        train = _strided(data.train, max(1, config["block_size"] // 2))
        test = _evenly(data.test, 1024)
        v = data.vocab_size
        if name == "gpt":
            model = models.GPT(
                vocab_size=v,
                block_size=config["block_size"],
                n_layer=4,
                n_head=4,
                n_embd=128,
                dropout=dropout,
            )
        else:
            model = models.RecurrentLM(
                vocab_size=v, cell=name, embed_dim=64, hidden_size=256, dropout=dropout
            )
        return Task("language_model", train, test, model, sequence_loss, ["perplexity"], data)
    if name == "gpt":
        raise ConfigError(
            f"--model gpt is a language model and needs text data, not {spec}; "
            "use --data pydoc_text or --data text:FILE"
        )
    image = name in IMAGE_MODELS or name in SEQUENCE_MODELS
    options = {"flatten": False} if image and kind in ("digits", "mnist", "fashion_mnist") else {}
    data = _load(spec, **options)
    if data.task == "language_model":
        raise ConfigError(f"--data {spec} is text; --model {name} needs image or tabular data")
    shape = tuple(data.input_shape)
    train, test = data.train, data.test
    classes = data.num_classes
    if image and len(shape) != 3:
        raise ConfigError(
            f"--model {name} needs images (C, H, W); --data {spec} has samples of shape {shape}"
        )
    if name == "mlp":
        out = classes if data.task == "classification" else 1
        model = models.MLP(
            int(np.prod(shape)), [256, 128] if np.prod(shape) > 256 else [128], out, dropout=dropout
        )
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
        from neuronet.data import TensorDataset

        x_train = _arrays(train)[0].reshape(len(train), -1)
        x_test = _arrays(test)[0].reshape(len(test), -1)
        train, test = TensorDataset(x_train, x_train), TensorDataset(x_test, x_test)
        model = models.Autoencoder(x_train.shape[1], [128], 16, denoising=dropout)
        return Task("reconstruction", train, test, model, F.mse_loss, ["mse"], data)
    if data.task == "regression":
        return Task("regression", train, test, model, F.mse_loss, ["mse", "mae", "r2"], data)
    return Task("classification", train, test, model, F.cross_entropy, ["accuracy"], data)
