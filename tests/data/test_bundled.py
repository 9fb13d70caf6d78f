"""Bundled datasets: digits (fixed split) and pydoc_text (vocabulary, windows, split)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from neuronet.data import (
    CharDataset,
    CharVocab,
    digits_split_indices,
    load_digits,
    load_pydoc_text,
    pydoc_corpus,
)
from neuronet.data.bundled import DIGITS_FILE


def test_digits_file_is_the_uci_copy():
    assert DIGITS_FILE.stat().st_size == 57523  # scikit-learn's digits.csv.gz, unchanged
    full = load_digits("all", normalize=False)
    x, y = full.arrays
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 16 and np.array_equal(x, np.round(x))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_split_is_fixed_stratified_and_disjoint():
    train, test = digits_split_indices()
    assert (train.size, test.size) == (1442, 355)
    assert np.intersect1d(train, test).size == 0
    assert np.union1d(train, test).tolist() == list(range(1797))
    # Frozen forever: a change of this digest changes every published digits result.
    digest = hashlib.sha256(test.astype("<i8").tobytes()).hexdigest()[:16]
    assert digest == _FROZEN_TEST_DIGEST
    labels = load_digits("test").arrays[1]
    assert np.bincount(labels).min() >= 34


_FROZEN_TEST_DIGEST = "f169ac7f88a60561"


def test_digits_shapes_scaling_and_errors():
    train = load_digits("train")
    x, y = train[0]
    assert x.shape == (64,) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= train.arrays[0].min() and train.arrays[0].max() == 1.0
    images = load_digits("test", flatten=False)
    assert images.arrays[0].shape == (355, 1, 8, 8)
    raw = load_digits("train", normalize=False)
    np.testing.assert_array_equal(raw.arrays[0] / 16, train.arrays[0])
    doubled = load_digits("test", transform=lambda b: b * 2)
    np.testing.assert_array_equal(
        doubled.get_batch([0])[0].array[0], load_digits("test")[0][0].array * 2
    )
    with pytest.raises(ValueError, match="split must be 'train', 'test' or 'all', got 'val'"):
        load_digits("val")


def test_pydoc_text_split_vocab_and_windows():
    text = pydoc_corpus()
    assert len(text) > 100_000 and text.startswith('The "assert" statement')
    train = load_pydoc_text("train", block_size=16)
    val = load_pydoc_text("val", block_size=16)
    assert isinstance(train, CharDataset) and train.vocab == val.vocab
    assert train.vocab.chars == "".join(sorted(set(text)))
    cut = len(text) - round(len(text) * 0.1)
    assert train.vocab.decode(train.ids) == text[:cut]
    assert val.vocab.decode(val.ids) == text[cut:]
    assert len(train) == cut - 16
    x, y = train[5]
    assert x.shape == (16,) and x.dtype == np.int64
    assert train.vocab.decode(x) == text[5:21] and train.vocab.decode(y) == text[6:22]
    bx, by = train.get_batch(np.array([5, 0]))
    np.testing.assert_array_equal(bx.array[0], x.array)
    np.testing.assert_array_equal(by.array[1], train.ids[1:17])
    with pytest.raises(ValueError, match="split must be 'train' or 'val'"):
        load_pydoc_text("test")


def test_char_vocab_round_trip_and_errors():
    vocab = CharVocab.from_text("héllo wörld\n")
    ids = vocab.encode("wörld héllo")
    assert ids.dtype == np.int64 and vocab.decode(ids) == "wörld héllo"
    restored = CharVocab.from_json(vocab.to_json())
    assert restored == vocab and len(restored) == vocab.size == 10
    assert json.loads(vocab.to_json())["type"] == "CharVocab"
    with pytest.raises(ValueError, match=r"characters \['z'\] are not in the vocabulary"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 9\]"):
        vocab.decode([10])
    with pytest.raises(ValueError, match="expected the JSON written by CharVocab.to_json"):
        CharVocab.from_json('{"chars": "ab"}')
    with pytest.raises(ValueError, match="not valid JSON"):
        CharVocab.from_json("{")
    with pytest.raises(ValueError, match="every character must appear once"):
        CharVocab("aa")
    with pytest.raises(ValueError, match="too short for block_size=8"):
        CharDataset(vocab.encode("hollo"), 8)
    with pytest.raises(TypeError, match=r"got a str of 5 characters; encode it first"):
        CharDataset("hollo", 2)
