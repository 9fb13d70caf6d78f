"""``load(spec)``: every dataset by a short name, with what a model needs to know about it.

Specs:
    'digits'                bundled handwritten digits (train 1,442 / test 355)
    'pydoc_text'            bundled character corpus (train 90% / val 10%)
    'mnist:DIR'             MNIST IDX files in DIR
    'fashion_mnist:DIR'     Fashion-MNIST IDX files in DIR
    'cifar10:DIR'           CIFAR-10 binary batches in DIR
    'csv:FILE'              a CSV table (fixed 80/20 split, seed 0)
    'text:FILE'             a plain text file, character level (last 10% is val)

Options for the underlying loader are keyword arguments of ``load``
(``load('csv:house.csv', label='price', task='regression')``). ``register`` adds a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuronet.data import bundled, formats, tables, text

__all__ = ["DataBundle", "load", "register", "available"]


@dataclass
class DataBundle:
    """Two splits of one dataset and what a model needs to fit it.

    Attributes:
        name: the spec's name ('digits', 'mnist', ...).
        train: the training dataset.
        test: the held-out dataset (the validation split for text corpora; also ``.val``).
        task: 'classification', 'regression' or 'language_model'.
        input_shape: one sample's input shape, e.g. (64,) or (1, 28, 28) or (block_size,).
        num_classes: classes for classification (None otherwise).
        classes: class names or values, when known.
        vocab: the ``CharVocab`` for language modelling (None otherwise).
        extra: what the loader knows about the files: ``input_scale`` (the factor that took the
            file's values to the training inputs, e.g. 1/255 for 8-bit pixels), ``label_index``
            (the label's column in a file row), and for CSV ``feature_names``, ``label_name``,
            ``header`` and ``task_reason`` (why 'auto' chose the task).
    """

    name: str
    train: object
    test: object
    task: str
    input_shape: tuple
    num_classes: int | None = None
    classes: list | None = None
    vocab: text.CharVocab | None = None
    extra: dict = field(default_factory=dict)

    @property
    def val(self):
        return self.test

    @property
    def vocab_size(self) -> int | None:
        return None if self.vocab is None else len(self.vocab)


@dataclass
class _Entry:
    build: object
    needs_path: bool
    options: tuple
    usage: str


_REGISTRY: dict = {}


def register(name: str, build, needs_path: bool, options=(), usage: str = "") -> None:
    """Make ``load('name')`` (or ``'name:PATH'`` when ``needs_path``) call ``build(path,
    **options)``, which returns a ``DataBundle``. ``options`` lists the accepted keywords."""
    _REGISTRY[name] = _Entry(build, needs_path, tuple(options), usage or name)


def available() -> list:
    """The registered names."""
    return sorted(_REGISTRY)


def load(spec: str, **options) -> DataBundle:
    """Load a dataset by spec (see the module docstring) as a ``DataBundle``.

    Example:
        >>> data = load("digits")
        >>> len(data.train), len(data.test), data.input_shape, data.num_classes
        (1442, 355, (64,), 10)
    """
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"load: spec must be a non-empty string such as 'digits', got {spec!r}")
    name, colon, arg = spec.partition(":")
    name = name.strip().lower().replace("-", "_")
    entry = _REGISTRY.get(name)
    if entry is None:
        usages = ", ".join(repr(_REGISTRY[n].usage) for n in available())
        raise ValueError(f"unknown dataset {name!r} in spec {spec!r}; known specs: {usages}")
    if entry.needs_path and not arg:
        raise ValueError(f"dataset {name!r} needs a path: use {entry.usage!r}")
    if not entry.needs_path and colon:
        raise ValueError(f"dataset {name!r} is bundled and takes no path: use {name!r}")
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise TypeError(
            f"load({spec!r}): unknown option(s) {unknown}; {name!r} accepts {list(entry.options)}"
        )
    return entry.build(arg or None, **options)


def _digits(_, flatten=True, normalize=True, transform=None, test_transform=None):
    train = bundled.load_digits("train", flatten, normalize, transform)
    test = bundled.load_digits("test", flatten, normalize, test_transform)
    shape = (64,) if flatten else (1, 8, 8)
    extra = {"input_scale": 1 / 16 if normalize else 1.0, "label_index": 64}
    classes = list(range(10))
    return DataBundle("digits", train, test, "classification", shape, 10, classes, extra=extra)


def _pydoc(_, block_size=128, vocab=None):
    train = bundled.load_pydoc_text("train", block_size, vocab)
    val = bundled.load_pydoc_text("val", block_size, train.vocab)
    return DataBundle("pydoc_text", train, val, "language_model", (block_size,), vocab=train.vocab)


def _idx(name, loader, classes):
    def build(root, flatten=False, transform=None, test_transform=None):
        train = loader(root, "train", flatten, transform)
        test = loader(root, "test", flatten, test_transform)
        shape = (784,) if flatten else (1, 28, 28)
        extra = {"input_scale": 1 / 255}
        names = list(classes)
        return DataBundle(name, train, test, "classification", shape, 10, names, extra=extra)

    return build


def _cifar10(root, transform=None, test_transform=None):
    train = formats.load_cifar10(root, "train", transform)
    test = formats.load_cifar10(root, "test", test_transform)
    classes = list(formats.CIFAR10_CLASSES)
    extra = {"input_scale": 1 / 255}
    shape = (3, 32, 32)
    return DataBundle("cifar10", train, test, "classification", shape, 10, classes, extra=extra)


def _csv(path, label=-1, header=None, task="classification", delimiter=",", test_fraction=0.2,
         seed=0, encoding="utf-8", classes=None):  # fmt: skip
    full = tables.load_csv(path, label, header, task, delimiter, "all", encoding=encoding,
                            classes=classes)  # fmt: skip
    train_rows, test_rows = tables.holdout_indices(len(full), test_fraction, seed)
    train = tables.take_rows(full, train_rows)
    test = tables.take_rows(full, test_rows)
    shape = (len(full.feature_names),)
    n_classes = None if full.classes is None else len(full.classes)
    extra = {name: getattr(full, name) for name in ("feature_names", "task_reason", "label_name",
                                                     "label_index", "header")}  # fmt: skip
    return DataBundle("csv", train, test, full.task, shape, n_classes, full.classes, extra=extra)


def _text(path, block_size=128, val_fraction=0.1, vocab=None, encoding="utf-8"):
    train = text.load_text(path, "train", block_size, val_fraction, vocab, encoding)
    val = text.load_text(path, "val", block_size, val_fraction, train.vocab, encoding)
    return DataBundle("text", train, val, "language_model", (block_size,), vocab=train.vocab)


_IMAGE_OPTIONS = ("flatten", "transform", "test_transform")
register("digits", _digits, False, ("flatten", "normalize", "transform", "test_transform"))
register("pydoc_text", _pydoc, False, ("block_size", "vocab"))
register("mnist", _idx("mnist", formats.load_mnist, range(10)), True, _IMAGE_OPTIONS, "mnist:DIR")
register(
    "fashion_mnist",
    _idx("fashion_mnist", formats.load_fashion_mnist, formats.FASHION_MNIST_CLASSES),
    True,
    _IMAGE_OPTIONS,
    "fashion_mnist:DIR",
)
register("cifar10", _cifar10, True, ("transform", "test_transform"), "cifar10:DIR")
register(
    "csv",
    _csv,
    True,
    ("label", "header", "task", "delimiter", "test_fraction", "seed", "encoding", "classes"),
    "csv:FILE",
)
register("text", _text, True, ("block_size", "val_fraction", "vocab", "encoding"), "text:FILE")
