"""plot_history: the training curves of a run as one matplotlib figure (and a PNG).

Two views of the same ``History``:

per epoch   one panel per logged quantity (loss, each metric; train and validation) against the
            epoch, and the learning rate;
per step    for step-based runs (``--steps``, or fewer than two epochs): the loss of every
            optimizer step (raw, and smoothed with a centred moving average),
            validation results as points at the steps they were measured, each metric's
            validation points, and the learning rate per step.

A learning rate that never changed gets no panel; its value is written in the title instead.

Needs matplotlib (the ``plot`` extra: ``pip install neuronet[plot]``). The figure is built
without pyplot, so it changes no global backend and works on servers without a display; in a
notebook the returned figure shows inline.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

_SKIP = ("epoch", "step", "batch_size", "lr")


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plot_history needs matplotlib; install the plot extra: pip install 'neuronet[plot]'"
        ) from None
    if "IPython" in sys.modules:  # a notebook: pyplot sets up the inline display of figures
        import matplotlib.pyplot  # noqa: F401
    return Figure


def step_rows(history) -> list:
    """One dict per optimizer step (``history.steps``), with each epoch's end-of-epoch results
    (validation, epoch metrics) merged into the row of that epoch's last step."""
    rows = [dict(r) for r in history.steps]
    last = {}
    for i, row in enumerate(rows):
        last[row.get("epoch")] = i
    for epoch_row in history.epochs:
        i = last.get(epoch_row.get("epoch"))
        if i is None:
            continue
        for k, v in epoch_row.items():
            if k not in ("epoch", "lr", "loss"):
                rows[i][k] = v
    return rows


def smooth(values, window: int | None = None) -> np.ndarray:
    """Centred moving average: the mean of the ``window`` values around each point (fewer at the
    ends). Unlike an exponential average it does not lag behind a falling curve.

    ``window`` defaults to about 1/25 of the series (odd, at least 1)."""
    v = np.asarray(values, dtype=np.float64)
    if window is None:
        window = max(1, len(v) // 25)
    half = int(window) // 2
    total = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.clip(np.arange(len(v)) - half, 0, len(v))
    hi = np.clip(np.arange(len(v)) + half + 1, 0, len(v))
    return (total[hi] - total[lo]) / (hi - lo)


def _constant(values) -> bool:
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return len(set(finite)) <= 1


def _series(history):
    """(epoch rows, step rows): History objects give both, a dict of per-epoch lists only the
    first."""
    if hasattr(history, "epochs") and hasattr(history, "steps"):
        return list(history.epochs), step_rows(history)
    series = history.history if hasattr(history, "history") else dict(history)
    length = max((len(v) for v in series.values()), default=0)
    rows = [{k: v[i] for k, v in series.items() if i < len(v)} for i in range(length)]
    return rows, []


def plot_history(history, path=None, title: str | None = None, per: str = "auto"):
    """Draw the loss, metrics and learning rate of a training run.

    Args:
        history: a ``History`` (``trainer.history``; what ``fit`` returns) or a Keras-style
            dict of per-epoch lists.
        path: write the figure to this PNG file too (folders are created).
        title: the figure's title.
        per: 'epoch', 'step', or 'auto' (per step when there are fewer than two epochs).

    Returns:
        The ``matplotlib.figure.Figure`` (shown inline in a notebook).
    """
    if per not in ("auto", "epoch", "step"):
        raise ValueError(f"plot_history: per must be 'auto', 'epoch' or 'step', got {per!r}")
    epochs, steps = _series(history)
    if per == "auto":
        per = "step" if len(epochs) < 2 and steps else "epoch"
    rows = steps if per == "step" else epochs
    if not rows:
        raise ValueError(
            f"plot_history: the history has no {per} entries; train for at least one {per}"
        )
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    base = [k for k in keys if not k.startswith(("val_", "lr_group")) and k not in _SKIP]
    base += [k[4:] for k in keys if k.startswith("val_") and k[4:] not in base]
    lrs = [r["lr"] for r in rows if "lr" in r]
    show_lr = bool(lrs) and not _constant(lrs)
    n = len(base) + show_lr
    Figure = _figure_class()
    fig = Figure(figsize=(4.2 * len(base) + 3.2 * show_lr, 3.4), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False, width_ratios=[1.0] * len(base) + [0.75] * show_lr)[0]
    xlabel = "step" if per == "step" else "epoch"
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax, key in zip(axes, base):
        _panel(ax, rows, key, per)
        ax.set_title(key)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if show_lr:
        ax = axes[-1]
        xs, ys = _points(rows, "lr", per)
        ax.plot(xs, ys, color="tab:green", marker="" if per == "step" else "o", ms=3)
        ax.set_title("learning rate")
        ax.set_xlabel(xlabel)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        ax.grid(alpha=0.3)
    heading = title or ""
    if lrs and not show_lr:
        heading += f"{'  ·  ' if heading else ''}lr {lrs[0]:.3g} (constant)"
    if heading:
        fig.suptitle(heading)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    return fig


def _points(rows, key: str, per: str):
    xs, ys = [], []
    for i, row in enumerate(rows):
        v = row.get(key)
        if isinstance(v, (int, float)) and v is not None:
            xs.append(row.get("step", i + 1) if per == "step" else i + 1)
            ys.append(v)
    return xs, ys


def _panel(ax, rows, key: str, per: str) -> None:
    xs, ys = _points(rows, key, per)
    val_x, val_y = _points(rows, f"val_{key}", per)
    if per == "step" and key == "loss" and xs:
        ax.plot(xs, ys, color="tab:blue", alpha=0.3, lw=0.8, label="train (each step)")
        if len(ys) >= 50:
            ax.plot(xs, smooth(ys), color="tab:blue", lw=1.8, label="train (smoothed)")
    elif xs:
        marker = "o" if per == "epoch" or len(xs) < 50 else ""
        label = "train (epoch mean)" if per == "step" and key != "loss" else "train"
        ax.plot(xs, ys, color="tab:blue", marker=marker, ms=3, label=label)
    if val_x:
        style = "o-" if len(val_x) > 1 else "o"
        ax.plot(val_x, val_y, style, color="tab:orange", ms=4, label="validation")
