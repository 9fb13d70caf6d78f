"""Loaders for the file formats users bring. Nothing is downloaded.

MNIST / Fashion-MNIST (IDX)
    Files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, raw or gzipped (``.gz``), in ``root`` or in torchvision's layout
    (``root/MNIST/raw``, ``root/FashionMNIST/raw``). IDX: two zero bytes, a type code (0x08 =
    uint8), the number of dimensions, each dimension as a big-endian uint32, then the data.
CIFAR-10 (binary version)
    ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin`` in ``root`` or
    ``root/cifar-10-batches-bin``. Each record is 1 label byte and 3,072 pixel bytes (the 1,024
    red, then green, then blue values of a 32x32 image, row-major).
CSV
    Numeric feature columns and one label column (by name or index), with or without a header:
    ``tables.py`` (re-exported here).

Images come out as float32 in [0, 1], CHW; labels as int64.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from neuronet.data.dataset import TensorDataset, TransformDataset
from neuronet.data.tables import holdout_indices, load_csv, take_rows  # noqa: F401

__all__ = [
    "read_idx",
    "load_mnist",
    "load_fashion_mnist",
    "load_cifar10",
    "load_csv",
    "holdout_indices",
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
]

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_SOURCES = {
    "MNIST": "https://yann.lecun.com/exdb/mnist/ (mirror: "
    "https://ossci-datasets.s3.amazonaws.com/mnist/)",
    "Fashion-MNIST": "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as error:
        raise ValueError(
            f"{str(path)!r}: cannot read the gzip stream ({error}); the file is truncated or "
            "corrupt, fetch it again"
        ) from None


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into an array with its stored shape and type.

    Raises:
        ValueError: naming the file, for a bad magic number or a size that does not match the
            header (a truncated or mislabelled file).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(
            f"{str(path)!r} is not an IDX file: its magic number is {data[:4].hex() or 'empty'} "
            "(expected 0000 then a type byte such as 08 and the number of dimensions, e.g. "
            "00000803 for images); check that you have the right (unzipped or .gz) file"
        )
    dtype = _IDX_TYPES[data[2]]
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{str(path)!r}: the IDX header is truncated")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{str(path)!r}: the IDX header promises shape {shape} ({expected} bytes) but the "
            f"file has {len(data)} bytes; it is truncated or corrupt, fetch it again"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _find(root: Path, names: list, subdirs: tuple) -> Path | None:
    for sub in subdirs:
        for name in names:
            candidate = root / sub / name if sub else root / name
            if candidate.is_file():
                return candidate
    return None


def _load_idx_pair(root, split: str, title: str, subdir: str, flatten: bool, transform):
    if split not in _MNIST_FILES:
        raise ValueError(f"load_{subdir.lower()}: split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    subdirs = ("", "raw", f"{subdir}/raw", subdir)
    arrays = []
    for base in _MNIST_FILES[split]:
        dotted = base.replace("-idx", ".idx")  # some mirrors name them train-images.idx3-ubyte
        path = _find(root, [base, base + ".gz", dotted, dotted + ".gz"], subdirs)
        if path is None:
            wanted = ", ".join(b + "[.gz]" for pair in _MNIST_FILES.values() for b in pair)
            raise FileNotFoundError(
                f"{title}: {base}[.gz] not found in {str(root)!r} (nor in its raw/ or {subdir}/raw/"
                f" folders). Put the four IDX files ({wanted}) there; get them from "
                f"{_SOURCES[title]}. neuronet never downloads."
            )
        arrays.append((path, read_idx(path)))
    (img_path, images), (lab_path, labels) = arrays
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{str(img_path)!r}: expected uint8 images (magic 00000803), got {images.dtype} with "
            f"shape {images.shape}; is this a labels file?"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{str(lab_path)!r}: expected uint8 labels (magic 00000801), got {labels.dtype} with "
            f"shape {labels.shape}; is this an images file?"
        )
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{title}: {img_path.name} has {images.shape[0]} images but {lab_path.name} has "
            f"{labels.shape[0]} labels; the files belong to different splits or one is truncated"
        )
    x = images.astype(np.float32)
    x /= np.float32(255)
    x = x.reshape(x.shape[0], -1) if flatten else x[:, None]
    dataset = TensorDataset(x, labels.astype(np.int64))
    return dataset if transform is None else TransformDataset(dataset, transform)


def load_mnist(root, split: str = "train", flatten: bool = False, transform=None):
    """MNIST from IDX files in ``root``: (1, 28, 28) float32 images in [0, 1], int64 labels.

    Args:
        root: the folder holding the IDX files (see the module docstring).
        split: 'train' (train-*) or 'test' (t10k-*).
        flatten: images as 784-vectors instead of (1, 28, 28).
        transform: applied to the images (per batch inside a DataLoader).
    """
    return _load_idx_pair(root, split, "MNIST", "MNIST", flatten, transform)


def load_fashion_mnist(root, split: str = "train", flatten: bool = False, transform=None):
    """Fashion-MNIST from IDX files in ``root`` (same files and layout as ``load_mnist``)."""
    return _load_idx_pair(root, split, "Fashion-MNIST", "FashionMNIST", flatten, transform)


def load_cifar10(root, split: str = "train", transform=None):
    """CIFAR-10 from the binary batches: (3, 32, 32) float32 images in [0, 1], int64 labels.

    Args:
        root: folder with data_batch_1.bin ... data_batch_5.bin and test_batch.bin (or its
            ``cifar-10-batches-bin`` subfolder, as the archive unpacks).
        split: 'train' (the five data batches, in order) or 'test'.
        transform: applied to the images (per batch inside a DataLoader), e.g. RandomCrop.
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_cifar10: split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    subdirs = ("", "cifar-10-batches-bin")
    paths = [_find(root, [name], subdirs) for name in names]
    missing = [n for n, p in zip(names, paths) if p is None]
    if missing:
        pickled = _find(root, [missing[0][: -len(".bin")]], subdirs + ("cifar-10-batches-py",))
        hint = (
            " Found the Python (pickle) version instead; neuronet never unpickles, so get the "
            "binary version."
            if pickled is not None
            else ""
        )
        raise FileNotFoundError(
            f"CIFAR-10: {', '.join(missing)} not found in {str(root)!r} (nor in "
            f"cifar-10-batches-bin/).{hint} Put data_batch_1.bin ... data_batch_5.bin and "
            "test_batch.bin there: unpack cifar-10-binary.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html. neuronet never downloads."
        )
    records = []
    for path in paths:
        raw = np.frombuffer(_read_bytes(path), dtype=np.uint8)
        if raw.size == 0 or raw.size % 3073:
            raise ValueError(
                f"{str(path)!r}: {raw.size} bytes is not a whole number of CIFAR-10 records "
                "(1 label byte + 3,072 pixel bytes each); the file is truncated or not a "
                "CIFAR-10 binary batch"
            )
        table = raw.reshape(-1, 3073)
        if table[:, 0].max() > 9:
            raise ValueError(
                f"{str(path)!r}: label byte {int(table[:, 0].max())} is not a CIFAR-10 class "
                "(0-9); is this the CIFAR-100 binary version?"
            )
        records.append(table)
    table = np.concatenate(records) if len(records) > 1 else records[0]
    x = table[:, 1:].astype(np.float32).reshape(-1, 3, 32, 32)
    x /= np.float32(255)
    dataset = TensorDataset(x, table[:, 0].astype(np.int64))
    return dataset if transform is None else TransformDataset(dataset, transform)
