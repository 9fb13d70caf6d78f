"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuronet.train.metrics import get_metric


def run(name, output, target):
    m = get_metric(name)
    m.reset()
    half = len(target) // 2
    m.update(np.asarray(output[:half]), np.asarray(target[:half]))  # accumulates over batches
    m.update(np.asarray(output[half:]), np.asarray(target[half:]))
    return m.compute()


LOGITS = np.array([[2.0, 1.0, 0.0], [0.1, 0.5, 0.2], [0.0, 0.0, 3.0], [1.0, 2.0, 0.0]])
TARGET = np.array([0, 2, 2, 0])  # predictions: 0, 1, 2, 1


def test_accuracy_and_top_k():
    assert run("accuracy", LOGITS, TARGET) == 0.5
    assert run("top2_accuracy", LOGITS, TARGET) == 1.0  # row 1: 2 is second; row 3: 0 second


def test_macro_precision_recall_f1():
    # class 0: tp 1, fp 0, fn 1; class 1: tp 0, fp 2, fn 0; class 2: tp 1, fp 0, fn 1
    precision = (1 + 0 + 1) / 3
    recall = (0.5 + 0 + 0.5) / 3
    f1 = (2 * 1 * 0.5 / 1.5 + 0 + 2 * 1 * 0.5 / 1.5) / 3
    assert run("precision", LOGITS, TARGET) == pytest.approx(precision)
    assert run("recall", LOGITS, TARGET) == pytest.approx(recall)
    assert run("f1", LOGITS, TARGET) == pytest.approx(f1)


def test_regression_metrics():
    pred = np.array([1.0, 2.0, 3.0, 5.0])
    true = np.array([1.0, 2.5, 2.0, 4.0])
    err = pred - true
    assert run("mse", pred, true) == pytest.approx(np.mean(err**2))
    assert run("mae", pred, true) == pytest.approx(np.mean(np.abs(err)))
    r2 = 1 - np.sum(err**2) / np.sum((true - true.mean()) ** 2)
    assert run("r2", pred, true) == pytest.approx(r2)


def test_perplexity_of_uniform_logits_is_the_vocabulary_size():
    assert run("perplexity", np.zeros((6, 7)), np.arange(6)) == pytest.approx(7.0)


def test_sequence_outputs_with_class_dim_second():
    out = np.zeros((2, 3, 4))  # (N, C, T)
    out[:, 1, :] = 1.0
    target = np.ones((2, 4), dtype=np.int64)
    assert run("accuracy", out, target) == 1.0
    assert math.isclose(
        run("perplexity", out, target), math.exp(-(1 - math.log(math.e + 2))), rel_tol=1e-9
    )


def test_unknown_metric_message():
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        get_metric("acuracy")


def test_language_model_logits_with_the_class_dimension_last():
    out = np.zeros((2, 4, 7))  # (N, T, V), V larger than T
    target = np.full((2, 4), 6)
    out[..., 6] = 2.0
    assert run("accuracy", out, target) == 1.0
    assert math.isclose(run("perplexity", out, target), math.exp(-(2 - math.log(np.e**2 + 6))))
