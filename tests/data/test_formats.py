"""File-format loaders against small files of each format built here."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from data_file_builders import make_cifar, make_mnist, write_idx

from neuronet.data import (
    load_cifar10,
    load_csv,
    load_fashion_mnist,
    load_mnist,
    load_text,
    read_idx,
)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_raw_and_gz(tmp_path, gz):
    made = make_mnist(tmp_path, gz=gz)
    train = load_mnist(tmp_path, "train")
    x, y = train.arrays
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], made["train"][0].astype(np.float32) / 255)
    np.testing.assert_array_equal(y, made["train"][1])
    test = load_fashion_mnist(tmp_path, "test", flatten=True)
    assert test.arrays[0].shape == (4, 784)


def test_mnist_torchvision_layout(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    make_mnist(raw)
    assert len(load_mnist(tmp_path, "test")) == 4


def test_read_idx_other_types(tmp_path):
    arr = np.arange(6, dtype=np.int32).reshape(2, 3) - 3
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a", arr, code=0x0C)), arr)
    f = np.linspace(0, 1, 4).astype(np.float32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "b", f, code=0x0D)), f)


def test_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[.gz\] not found.*"
                       r"yann.lecun.com.*never downloads"):  # fmt: skip
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="zalandoresearch/fashion-mnist"):
        load_fashion_mnist(tmp_path)
    make_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x08\x03\x00\x00" + bytes(100))
    with pytest.raises(ValueError, match="is not an IDX file: its magic number is 08030000"):
        load_mnist(tmp_path, "test")
    images = np.zeros((4, 28, 28), np.uint8)
    data = write_idx(tmp_path / "t10k-images-idx3-ubyte", images).read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(data[:-10])
    with pytest.raises(ValueError, match=r"promises shape \(4, 28, 28\).*truncated"):
        load_mnist(tmp_path, "test")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="has 3 images but t10k-labels-idx1-ubyte has 4 labels"):
        load_mnist(tmp_path, "test")
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"expected uint8 images \(magic 00000803\)"):
        load_mnist(tmp_path, "test")
    gz = tmp_path / "bad.gz"
    gz.write_bytes(gzip.compress(b"\x00\x00\x08\x01" + bytes(8))[:-6])
    with pytest.raises(ValueError, match="cannot read the gzip stream"):
        read_idx(gz)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist(tmp_path, "val")


def test_cifar10(tmp_path):
    made = make_cifar(tmp_path)
    train = load_cifar10(tmp_path, "train")
    x, y = train.arrays
    assert x.shape == (15, 3, 32, 32) and x.dtype == np.float32
    labels, pixels = made["data_batch_2.bin"]
    np.testing.assert_array_equal(y[3:6], labels)
    # record layout: 1,024 red, then green, then blue, row-major 32x32
    np.testing.assert_array_equal(x[3, 1, 0, :4], pixels[0, 1024:1028].astype(np.float32) / 255)
    np.testing.assert_array_equal(x[4, 2, 1, 0], np.float32(pixels[1, 2048 + 32]) / 255)
    assert len(load_cifar10(tmp_path, "test")) == 3


def test_cifar10_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin.*cifar-10-binary.tar.gz"):
        load_cifar10(tmp_path)
    (tmp_path / "data_batch_1").write_bytes(b"pickle")
    with pytest.raises(FileNotFoundError, match="Python \\(pickle\\) version instead"):
        load_cifar10(tmp_path)
    make_cifar(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(bytes(3073 * 2 - 1))
    with pytest.raises(ValueError, match="6145 bytes is not a whole number of CIFAR-10 records"):
        load_cifar10(tmp_path, "test")
    (tmp_path / "test_batch.bin").write_bytes(bytes([42]) + bytes(3072))
    with pytest.raises(ValueError, match="label byte 42 is not a CIFAR-10 class"):
        load_cifar10(tmp_path, "test")


def test_csv_classification_with_header(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text(
        "sepal,petal,species\n1.0,2.0,setosa\n3.0,4.5,virginica\n5,6,setosa\n7,8,versicolor\n"
    )
    ds = load_csv(path, label="species")
    x, y = ds.arrays
    assert x.dtype == np.float32 and x.tolist() == [[1, 2], [3, 4.5], [5, 6], [7, 8]]
    assert ds.classes == ["setosa", "versicolor", "virginica"] and y.tolist() == [0, 2, 0, 1]
    assert ds.feature_names == ["sepal", "petal"] and ds.task == "classification"
    assert load_csv(path).classes == ds.classes  # header detected, label defaults to last


def test_csv_without_header_regression_and_split(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i};{i * 0.5};{i * 2.0}" for i in range(10)]
    path.write_text("\n".join(rows) + "\n")
    ds = load_csv(path, label=0, task="regression", delimiter=";")
    x, y = ds.arrays
    assert x.shape == (10, 2) and y.shape == (10, 1) and y.dtype == np.float32
    assert y[:, 0].tolist() == list(range(10)) and ds.classes is None
    train = load_csv(path, label=0, task="regression", delimiter=";", split="train")
    test = load_csv(path, label=0, task="regression", delimiter=";", split="test")
    assert len(train) == 8 and len(test) == 2
    seen = sorted(train.arrays[1][:, 0].tolist() + test.arrays[1][:, 0].tolist())
    assert seen == list(range(10))
    again = load_csv(path, label=0, task="regression", delimiter=";", split="test")
    np.testing.assert_array_equal(again.arrays[1], test.arrays[1])
    labels = load_csv(path, label=-1, header=False, delimiter=";").classes
    assert labels == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]  # integer class values kept as ints


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,x\n3,,y\n")
    with pytest.raises(ValueError, match=r"line 3, column 'b': '' is not a number"):
        load_csv(path, label="label")
    path.write_text("1,2,3\n4,5\n")
    with pytest.raises(ValueError, match="line 2 has 2 fields, the first line has 3"):
        load_csv(path)
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="label='y' names a column but .* has no header row"):
        load_csv(path, label="y")
    with pytest.raises(ValueError, match="label index 5 is out of range for 3 columns"):
        load_csv(path, label=5)
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"no column 'c' in .*; columns: \['a', 'b'\]"):
        load_csv(path, label="c")
    with pytest.raises(FileNotFoundError, match="no CSV file at"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="task must be 'classification' or 'regression'"):
        load_csv(path, task="ranking")


def test_text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    text = "to be or not to be, that is the question\n" * 5
    path.write_text(text, encoding="utf-8")
    train = load_text(path, "train", block_size=8)
    val = load_text(path, "val", block_size=8)
    cut = len(text) - round(len(text) * 0.1)
    assert train.vocab.decode(train.ids) == text[:cut]
    assert val.vocab.decode(val.ids) == text[cut:] and val.vocab == train.vocab
    assert len(train) == cut - 8
    with pytest.raises(FileNotFoundError, match="no text file at"):
        load_text(tmp_path / "none.txt")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1") * 20)
    with pytest.raises(ValueError, match="is not valid utf-8 text"):
        load_text(tmp_path / "latin1.txt")
    assert load_text(tmp_path / "latin1.txt", block_size=4, encoding="latin-1").vocab.size == 4
