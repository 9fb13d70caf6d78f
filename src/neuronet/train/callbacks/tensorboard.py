"""TensorBoardLogger: training curves, weight and gradient histograms and text for TensorBoard.

Writes TensorBoard event files through the ``tensorboardX`` package (the ``tensorboard`` extra:
``pip install 'neuronet[tensorboard]'``); view them with ``tensorboard --logdir DIR``.

Tags (x axis: the optimizer step):

    train/loss, train/lr            every step (the rate that step used)
    val/<name>                      validation results measured between epochs' ends
                                    (PeriodicValidation)
    epoch/<name>                    each epoch's logs: loss, metrics, val_loss, val_<metric>, lr
    weights/<param>, grads/<param>  histograms: once per epoch (its last batch), or every
                                    ``histogram_every`` steps
    <tag> (text)                    ``log_text``; the doctor's findings under ``doctor/findings``
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from neuronet.train.callbacks.base import Callback


def _writer(log_dir):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "TensorBoardLogger needs tensorboardX; install the tensorboard extra: "
            "pip install 'neuronet[tensorboard]'"
        ) from None
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return SummaryWriter(logdir=str(log_dir))


def _format_finding(finding) -> str:
    for name in ("to_markdown", "markdown"):
        method = getattr(finding, name, None)
        if callable(method):
            return str(method())
    return str(finding)


class TensorBoardLogger(Callback):
    """Log a training run for TensorBoard (see the module docstring for the tags).

    Args:
        log_dir: the folder for the event files (created).
        histograms: write weight and gradient histograms.
        histogram_every: write them every this many optimizer steps; None: once per epoch, at
            its last batch (a stream without ``__len__`` has no known last batch: give it
            ``histogram_every``).

    Findings (the doctor's, or any text) go in with ``log_text(tag, text, step)`` or
    ``log_findings(findings, step)``; any callback of the trainer with a ``findings`` list is
    also read at each epoch's end and at the end of training, and its new entries written.
    """

    rank_zero_only = True  # under MPI only rank 0 writes

    def __init__(self, log_dir, histograms: bool = True, histogram_every: int | None = None):
        if histogram_every is not None and (
            not isinstance(histogram_every, int) or histogram_every < 1
        ):
            raise ValueError(
                f"TensorBoardLogger: histogram_every must be a positive int or None, got "
                f"{histogram_every!r}"
            )
        self.log_dir = Path(log_dir)
        self.histograms = histograms
        self.histogram_every = histogram_every
        self.writer = _writer(self.log_dir)
        self._handles = []
        self._grads = {}
        self._capture = False
        self._batch = 0
        self._findings_seen = {}

    # ---- text ----------------------------------------------------------------------------
    def log_text(self, tag: str, text: str, step: int | None = None) -> None:
        """Write ``text`` (Markdown) under ``tag`` at ``step`` (default: the current step)."""
        self.writer.add_text(tag, text, self._step() if step is None else step)
        self.writer.flush()

    def log_findings(self, findings, step: int | None = None, tag: str = "doctor/findings"):
        """Write findings (objects with ``to_markdown()``, or anything ``str()`` describes) as
        one Markdown list under ``tag``."""
        findings = list(findings)
        if findings:
            self.log_text(tag, "\n".join(f"- {_format_finding(f)}" for f in findings), step)

    # ---- the training loop -------------------------------------------------------------
    def _step(self) -> int:
        return int(getattr(self.trainer, "global_step", 0) or 0)

    def on_train_begin(self, logs=None):
        self._handles = []
        if not self.histograms:
            return
        for name, p in self.trainer.model.named_parameters():
            if p.requires_grad:
                self._handles.append(p.register_hook(self._hook(name)))

    def _hook(self, name):
        def keep(grad):
            if self._capture:
                g = grad.array
                self._grads[name] = g.copy() if name not in self._grads else self._grads[name] + g

        return keep

    def on_epoch_begin(self, epoch, logs=None):
        self._batch = 0

    def on_train_batch_begin(self, step, logs=None):
        if not self.histograms:
            return
        if self.histogram_every is not None:
            self._capture = (step + 1) % self.histogram_every == 0
        else:
            total = getattr(self.trainer, "batches_this_epoch", None)
            self._capture = total is not None and self._batch == total - 1
        if self._capture:
            self._grads = {}

    def on_train_batch_end(self, step, logs=None):
        self._batch += 1
        logs = logs or {}
        w = self.writer
        if "loss" in logs:
            w.add_scalar("train/loss", float(logs["loss"]), step)
        if "lr" in logs:
            w.add_scalar("train/lr", float(logs["lr"]), step)
        for k, v in logs.items():
            if k.startswith("val_") and isinstance(v, (int, float)) and math.isfinite(v):
                w.add_scalar(f"val/{k[4:]}", float(v), step)
        if self._capture:
            self._capture = False
            self._write_histograms(step)

    def _write_histograms(self, step: int) -> None:
        for name, p in self.trainer.model.named_parameters():
            values = p.array
            if values.size and np.all(np.isfinite(values)):
                self.writer.add_histogram(f"weights/{name}", values, step)
            grad = self._grads.get(name)
            if grad is not None and grad.size and np.all(np.isfinite(grad)):
                self.writer.add_histogram(f"grads/{name}", grad, step)
        self._grads = {}

    def on_epoch_end(self, epoch, logs=None):
        step = self._step()
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float)) and k != "epoch" and math.isfinite(v):
                self.writer.add_scalar(f"epoch/{k}", float(v), step)
        self._write_new_findings(step)
        self.writer.flush()

    def _write_new_findings(self, step: int) -> None:
        sources = list(getattr(self.trainer, "user_callbacks", []))
        sources += [getattr(self.trainer, "monitor", None)]
        for source in sources:
            found = getattr(source, "findings", None)
            if source is None or source is self or not isinstance(found, (list, tuple)):
                continue
            seen = self._findings_seen.get(id(source), 0)
            if len(found) > seen:
                self.log_findings(found[seen:], step)
                self._findings_seen[id(source)] = len(found)

    def on_train_end(self, logs=None):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._write_new_findings(self._step())
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
