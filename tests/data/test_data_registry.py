"""neuronet.data.load(spec): every spec, its metadata, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from data_file_builders import make_cifar, make_mnist

from neuronet.data import DataBundle, available, load, register
from neuronet.data.transforms import RandomHorizontalFlip


def test_digits_bundle():
    data = load("digits")
    assert isinstance(data, DataBundle)
    assert (len(data.train), len(data.test)) == (1442, 355)
    assert data.input_shape == (64,) and data.num_classes == 10 and data.task == "classification"
    assert data.vocab is None and data.vocab_size is None
    images = load("digits", flatten=False, transform=RandomHorizontalFlip())
    assert images.input_shape == (1, 8, 8) and images.train[0][0].shape == (1, 8, 8)


def test_pydoc_text_bundle():
    data = load("pydoc_text", block_size=32)
    assert data.task == "language_model" and data.input_shape == (32,)
    assert data.val is data.test and data.vocab_size == len(data.train.vocab) > 50
    assert data.num_classes is None


def test_file_specs(tmp_path):
    make_mnist(tmp_path)
    mnist = load(f"mnist:{tmp_path}")
    assert (len(mnist.train), len(mnist.test), mnist.input_shape) == (6, 4, (1, 28, 28))
    fashion = load(f"Fashion-MNIST:{tmp_path}", flatten=True)
    assert fashion.name == "fashion_mnist" and fashion.input_shape == (784,)
    assert fashion.classes[9] == "Ankle boot"
    make_cifar(tmp_path)
    cifar = load(f"cifar10:{tmp_path}")
    assert cifar.input_shape == (3, 32, 32) and cifar.classes[0] == "airplane"
    csv = tmp_path / "d.csv"
    rows = [f"{i},{i % 3},{'abc'[i % 3]}" for i in range(20)]
    csv.write_text("x,y,cls\n" + "\n".join(rows) + "\n")
    table = load(f"csv:{csv}", label="cls")
    assert (len(table.train), len(table.test)) == (16, 4)
    assert table.num_classes == 3 and table.classes == ["a", "b", "c"]
    assert table.input_shape == (2,) and table.extra["feature_names"] == ["x", "y"]
    numeric = tmp_path / "n.csv"
    numeric.write_text("\n".join(f"{i},{i % 3}" for i in range(20)) + "\n")
    reg = load(f"csv:{numeric}", label=0, task="regression", test_fraction=0.5)
    assert reg.num_classes is None and len(reg.test) == 10 and reg.task == "regression"
    text = tmp_path / "t.txt"
    text.write_text("abcdefghij" * 20)
    lm = load(f"text:{text}", block_size=4)
    assert lm.vocab_size == 10 and lm.input_shape == (4,) and len(lm.val) == 20 - 4


def test_errors(tmp_path):
    with pytest.raises(
        ValueError, match="unknown dataset 'imagenet' .* known specs: .*'mnist:DIR'"
    ):
        load("imagenet")
    with pytest.raises(ValueError, match="dataset 'mnist' needs a path: use 'mnist:DIR'"):
        load("mnist")
    with pytest.raises(ValueError, match="'digits' is bundled and takes no path"):
        load("digits:/tmp")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['block_size'\]; 'digits' accepts"):
        load("digits", block_size=3)
    with pytest.raises(ValueError, match="spec must be a non-empty string"):
        load("")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load(f"cifar10:{tmp_path}")


def test_register_a_new_name():
    def build(path, scale=1):
        from neuronet.data import TensorDataset

        ds = TensorDataset(np.ones((3, 2), np.float32) * scale, np.zeros(3, np.int64))
        return DataBundle("ones", ds, ds, "classification", (2,), 1)

    register("ones", build, needs_path=False, options=("scale",))
    assert "ones" in available()
    assert load("ones", scale=2).train[0][0].tolist() == [2.0, 2.0]
