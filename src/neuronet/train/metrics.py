"""Metrics: accumulate over batches, compute at the end of an epoch.

Each metric is an object with ``reset()``, ``update(output, target)`` and ``compute() -> float``,
and a ``name`` used in logs (``val_accuracy``). Outputs are logits or scores for classification
(``(N, C)``; ``(N, C, ...)`` with the class dimension second as cross-entropy takes it; or a
language model's ``(N, T, C)`` when the target is ``(N, T)``), predictions for regression.
``get_metric('accuracy')`` builds one by name, so ``metrics=['accuracy', 'f1']`` works as in
Keras.

    accuracy     fraction of argmax(output) == target
    top_k        fraction of targets among the k highest scores
    precision    macro average over classes of TP / (TP + FP)
    recall       macro average over classes of TP / (TP + FN)
    f1           macro average over classes of 2 P R / (P + R)
    mse, mae     mean squared / absolute error
    r2           1 - SS_res / SS_tot (coefficient of determination)
    perplexity   exp(mean cross-entropy in nats) of logits against class targets
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor


def _np(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def _class_scores(output, target):
    """(N*..., C) scores and (N*...,) targets from (N, C, ...) outputs."""
    out = _np(output)
    tgt = _np(target)
    if out.ndim > 2:
        if out.shape[:-1] == tgt.shape:  # (N, T, C): a language model's logits
            out = out.reshape(-1, out.shape[-1])
        else:  # (N, C, d1, ...): the class dimension second, as cross-entropy takes it
            out = np.moveaxis(out, 1, -1).reshape(-1, out.shape[1])
        tgt = tgt.reshape(-1)
    if out.ndim == 1:  # binary: one logit per sample
        out = np.stack([-out, out], axis=1)
    if out.shape[0] != tgt.size:
        raise ValueError(
            f"metrics: the output has {out.shape[0]} predictions (shape {_np(output).shape}) but "
            f"the target has {tgt.size} (shape {_np(target).shape}); they must match"
        )
    return out, tgt.astype(np.int64, copy=False)


class Metric:
    """Base class: ``reset``, ``update(output, target)``, ``compute() -> float``.

    ``state_dict()`` is what a training checkpoint stores mid-epoch, so a resumed epoch
    reports the same value as an uninterrupted one: by default every attribute (numbers,
    NumPy arrays, None). Override both methods if yours holds anything else.
    """

    name = "metric"

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output, target) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}

    def load_state_dict(self, state: dict) -> None:
        unknown = sorted(set(state) - set(vars(self)))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown keys {unknown}")
        for k, v in state.items():
            setattr(self, k, v.copy() if isinstance(v, np.ndarray) else v)


class Accuracy(Metric):
    name = "accuracy"

    def reset(self):
        self.correct = 0
        self.total = 0

    def __init__(self):
        self.reset()

    def update(self, output, target):
        scores, tgt = _class_scores(output, target)
        self.correct += int(np.sum(np.argmax(scores, axis=1) == tgt))
        self.total += tgt.size

    def compute(self):
        return self.correct / max(self.total, 1)


class TopKAccuracy(Accuracy):
    def __init__(self, k: int = 5):
        self.k = k
        self.name = f"top{k}_accuracy"
        super().__init__()

    def update(self, output, target):
        scores, tgt = _class_scores(output, target)
        k = min(self.k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        self.correct += int(np.sum(np.any(top == tgt[:, None], axis=1)))
        self.total += tgt.size


class _Confusion(Metric):
    """Per-class true positives, false positives and false negatives; macro averaged."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.tp = self.fp = self.fn = None

    def update(self, output, target):
        scores, tgt = _class_scores(output, target)
        n_classes = max(scores.shape[1], int(tgt.max(initial=0)) + 1)
        pred = np.argmax(scores, axis=1)
        tp = np.bincount(tgt[pred == tgt], minlength=n_classes)
        fp = np.bincount(pred[pred != tgt], minlength=n_classes)
        fn = np.bincount(tgt[pred != tgt], minlength=n_classes)
        if self.tp is None:
            self.tp, self.fp, self.fn = tp, fp, fn
        else:
            self.tp = self.tp + tp
            self.fp = self.fp + fp
            self.fn = self.fn + fn

    def _ratios(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(self.tp + self.fp > 0, self.tp / (self.tp + self.fp), 0.0)
            recall = np.where(self.tp + self.fn > 0, self.tp / (self.tp + self.fn), 0.0)
        present = (self.tp + self.fn + self.fp) > 0
        return precision, recall, present


class Precision(_Confusion):
    name = "precision"

    def compute(self):
        if self.tp is None:
            return 0.0
        precision, _, present = self._ratios()
        return float(precision[present].mean())


class Recall(_Confusion):
    name = "recall"

    def compute(self):
        if self.tp is None:
            return 0.0
        _, recall, present = self._ratios()
        return float(recall[present].mean())


class F1(_Confusion):
    name = "f1"

    def compute(self):
        if self.tp is None:
            return 0.0
        precision, recall, present = self._ratios()
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(
                precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0
            )
        return float(f1[present].mean())


class _Regression(Metric):
    def __init__(self):
        self.reset()

    def reset(self):
        self.sum_sq = 0.0
        self.sum_abs = 0.0
        self.sum_y = 0.0
        self.sum_y2 = 0.0
        self.count = 0

    def update(self, output, target):
        out = _np(output).astype(np.float64)
        tgt = _np(target).astype(np.float64)
        if out.shape != tgt.shape:
            if out.size != tgt.size:
                raise ValueError(
                    f"{self.name}: the output of shape {out.shape} and the target of shape "
                    f"{tgt.shape} hold different numbers of values"
                )
            out = out.reshape(tgt.shape)
        err = out - tgt
        self.sum_sq += float(np.sum(err * err))
        self.sum_abs += float(np.sum(np.abs(err)))
        self.sum_y += float(np.sum(tgt))
        self.sum_y2 += float(np.sum(tgt * tgt))
        self.count += tgt.size


class MSE(_Regression):
    name = "mse"

    def compute(self):
        return self.sum_sq / max(self.count, 1)


class MAE(_Regression):
    name = "mae"

    def compute(self):
        return self.sum_abs / max(self.count, 1)


class R2(_Regression):
    name = "r2"

    def compute(self):
        if self.count == 0:
            return 0.0
        ss_tot = self.sum_y2 - self.sum_y**2 / self.count
        return 1.0 - self.sum_sq / ss_tot if ss_tot > 0 else 0.0


class Perplexity(Metric):
    name = "perplexity"

    def __init__(self):
        self.reset()

    def reset(self):
        self.nll = 0.0
        self.count = 0

    def update(self, output, target):
        scores, tgt = _class_scores(output, target)
        scores = scores.astype(np.float64)
        m = scores.max(axis=1, keepdims=True)
        log_z = m[:, 0] + np.log(np.exp(scores - m).sum(axis=1))
        self.nll += float(np.sum(log_z - scores[np.arange(tgt.size), tgt]))
        self.count += tgt.size

    def compute(self):
        return float(np.exp(self.nll / max(self.count, 1)))


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "precision": Precision,
    "recall": Recall,
    "f1": F1,
    "mse": MSE,
    "mae": MAE,
    "r2": R2,
    "perplexity": Perplexity,
}


def get_metric(spec) -> Metric:
    """A metric from a name ('accuracy', 'top5_accuracy', 'f1', ...) or a Metric instance."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key.startswith("top") and key.endswith("_accuracy"):
            return TopKAccuracy(int(key[3:-9]))
        if key in _BY_NAME:
            return _BY_NAME[key]()
    raise ValueError(
        f"unknown metric {spec!r}; use one of {sorted(_BY_NAME)} or 'top5_accuracy', "
        "or pass a Metric instance"
    )
