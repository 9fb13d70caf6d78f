"""The doctor's own short training loops (on copies) and what they share: one step, accuracy on
a batch, a model copy without dropout."""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor


def step(exam, model, optimizer, batch) -> float:
    """One optimizer step on ``batch``; returns the loss before the step (NaN/Inf stops
    nothing: the caller decides)."""
    loss = exam.loss_of(model, batch)
    value = float(loss.item())
    if not math.isfinite(value):
        return value
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return value


def train(exam, model, optimizer, batches, steps: int, on_step=None) -> list:
    """``steps`` optimizer steps on successive batches; stops at the first non-finite loss.
    ``on_step(i, loss)`` may return True to stop early."""
    model.train()
    losses = []
    for i in range(steps):
        value = step(exam, model, optimizer, next(batches))
        losses.append(value)
        if not math.isfinite(value):
            break
        if on_step is not None and on_step(i, value):
            break
    return losses


def without_dropout(model):
    """Set every dropout layer's probability to 0 (on a copy: memorising needs no noise)."""
    for m in model.modules():
        if type(m).__name__ in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"):
            m.p = 0.0
    return model


def predictions(exam, out: np.ndarray) -> np.ndarray | None:
    """Predicted classes from outputs (None when the task has no classes)."""
    task = exam.task
    if task.kind == "classification":
        return out.argmax(axis=task.class_axis)
    if task.kind == "binary":
        threshold = 0.0 if exam.loss.kind != "bce" else 0.5
        return (out > threshold).astype(np.int64)
    return None


def accuracy(exam, model, batch) -> float | None:
    """Fraction of correct predictions on a batch (None for regression)."""
    inputs, target = batch
    with no_grad():
        out = exam.output(model, inputs)
    pred = predictions(exam, out.array)
    if pred is None or target is None:
        return None
    y = target.array
    if y.dtype.kind == "f" and y.shape == out.shape and exam.task.kind == "classification":
        y = y.argmax(axis=exam.task.class_axis)  # one-hot or soft labels: the likeliest class
    if pred.shape != y.shape:
        if pred.size != y.size:
            return None
        pred = pred.reshape(y.shape)
    mask = y != -100
    return float((pred == y)[mask].mean()) if mask.any() else None


def constant_loss(exam, batch) -> float | None:
    """The loss of predicting the targets' mean for every sample (regression baseline)."""
    inputs, target = batch
    if target is None or exam.output_shape is None:
        return None
    y = target.array.astype(np.float32)
    shape = (len(y),) + tuple(exam.output_shape[1:])
    guess = np.full(shape, y.mean(), dtype=np.float32)
    try:
        with no_grad():
            return float(exam.loss.fn(Tensor(guess), target).item())
    except (ValueError, RuntimeError, TypeError, IndexError):
        return None
