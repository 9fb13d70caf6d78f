"""Datasets that ship with neuronet: no network, no extra package.

digits
    The UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin, C. Kaynak, 1998;
    licence CC BY 4.0): 1,797 grey 8x8 images of the digits 0-9, pixel values 0..16 (each is
    the count of "on" pixels in a 4x4 block of a 32x32 bitmap). The file ``digits.csv.gz`` is the
    copy scikit-learn ships (64 pixel columns, then the label).
    Fixed split, forever: within each class, in file order, every fifth image (positions 4, 9,
    14, ...) is a test image. That gives 1,442 training and 355 test images with the same class
    balance, independent of any random number generator.

pydoc_text
    A character-level corpus: every topic of ``pydoc_data.topics`` (the help texts that CPython
    ships), joined in sorted key order with a blank line between topics. The last 10% of the
    characters are the validation split. The vocabulary is every character of the whole corpus,
    sorted. The text differs slightly between Python versions; save the vocabulary with the model.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

import numpy as np

from neuronet.data.dataset import TensorDataset, TransformDataset
from neuronet.data.text import CharDataset, CharVocab, split_text

__all__ = ["load_digits", "digits_split_indices", "pydoc_corpus", "load_pydoc_text"]

DIGITS_FILE = Path(__file__).with_name("digits.csv.gz")
DIGITS_TEST_EVERY = 5


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    if not DIGITS_FILE.is_file():
        raise FileNotFoundError(
            f"the bundled digits file is missing at {str(DIGITS_FILE)!r}; reinstall neuronet "
            "(the wheel includes neuronet/data/digits.csv.gz)"
        )
    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images = table[:, :64]
    labels = table[:, 64].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def digits_split_indices() -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices of the fixed digits split (see the module docstring)."""
    _, labels = _digits_raw()
    rank = np.empty(labels.size, dtype=np.int64)  # position of each image within its class
    for c in range(10):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(where.size)
    is_test = rank % DIGITS_TEST_EVERY == DIGITS_TEST_EVERY - 1
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def load_digits(split: str = "train", flatten: bool = True, normalize: bool = True, transform=None):
    """The bundled handwritten digits: float32 images and int64 labels 0-9.

    Args:
        split: 'train' (1,442 images), 'test' (355) or 'all' (1,797, file order).
        flatten: images as 64-vectors (for an MLP); False gives (1, 8, 8) CHW images (for a CNN).
        normalize: scale pixels from 0..16 to [0, 1] (divide by 16); False keeps 0..16.
        transform: applied to the images (per batch inside a DataLoader), e.g. Normalize.

    Returns:
        A ``TensorDataset`` of (image, label) (wrapped in a ``TransformDataset`` if
        ``transform`` is given).

    Example:
        >>> train = load_digits("train")
        >>> len(train), train[0][0].shape, train[0][0].dtype
        (1442, (64,), dtype('float32'))
    """
    images, labels = _digits_raw()
    if split == "all":
        rows = np.arange(labels.size)
    elif split in ("train", "test"):
        rows = digits_split_indices()[0 if split == "train" else 1]
    else:
        raise ValueError(f"load_digits: split must be 'train', 'test' or 'all', got {split!r}")
    x = images[rows]
    if normalize:
        x /= np.float32(16)
    if not flatten:
        x = x.reshape(-1, 1, 8, 8)
    dataset = TensorDataset(x, labels[rows].copy())
    return dataset if transform is None else TransformDataset(dataset, transform)


@lru_cache(maxsize=1)
def pydoc_corpus() -> str:
    """The pydoc_text corpus: pydoc_data.topics joined in sorted key order."""
    try:
        from pydoc_data.topics import topics
    except ImportError:  # pragma: no cover - every CPython ships it, some distros split it out
        raise FileNotFoundError(
            "pydoc_text needs the standard-library module pydoc_data, which this Python lacks; "
            "install your distribution's python3 documentation package (e.g. python3-doc)"
        ) from None
    return "\n\n".join(topics[key] for key in sorted(topics))


def load_pydoc_text(
    split: str = "train", block_size: int = 128, vocab: CharVocab | None = None
) -> CharDataset:
    """Character-level windows over the pydoc_text corpus.

    Args:
        split: 'train' (first 90% of the characters) or 'val' (last 10%).
        block_size: context length of each sample.
        vocab: a saved vocabulary to encode with (default: the corpus's sorted characters).

    Returns:
        A ``CharDataset`` of (x, y) int64 windows; ``.vocab`` is the ``CharVocab``.
    """
    if split not in ("train", "val"):
        raise ValueError(f"load_pydoc_text: split must be 'train' or 'val', got {split!r}")
    text = pydoc_corpus()
    vocab = CharVocab.from_text(text) if vocab is None else vocab
    train, val = split_text(text, 0.1)
    return CharDataset(vocab.encode(train if split == "train" else val), block_size, vocab)
