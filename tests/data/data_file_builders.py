"""Builders of small files in the formats neuronet reads (IDX, CIFAR-10 binary)."""

from __future__ import annotations

import gzip
import struct

import numpy as np


def write_idx(path, array: np.ndarray, gz: bool = False, code: int = 0x08):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if gz:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def make_mnist(root, n_train=6, n_test=4, gz=False, rng=None):
    rng = rng or np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(root / f"{split}-images-idx3-ubyte{suffix}", images, gz)
        write_idx(root / f"{split}-labels-idx1-ubyte{suffix}", labels, gz)
        out[split] = (images, labels)
    return out


def make_cifar(root, per_file=3, rng=None):
    rng = rng or np.random.default_rng(0)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    out = {}
    for name in names:
        labels = rng.integers(0, 10, per_file, dtype=np.uint8)
        pixels = rng.integers(0, 256, (per_file, 3072), dtype=np.uint8)
        (root / name).write_bytes(np.concatenate([labels[:, None], pixels], axis=1).tobytes())
        out[name] = (labels, pixels)
    return out
