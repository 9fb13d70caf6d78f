"""plot_history: returns the figure; per-epoch and per-step views; constant lr gets no panel."""

from __future__ import annotations

import numpy as np
import pytest

from neuronet.train import History, plot_history, smooth, step_rows

pytest.importorskip("matplotlib", reason="plot_history needs matplotlib (the plot extra)")


def _history(epochs=3, steps_per_epoch=40, lr=lambda s: 1e-3, val_every=None):
    h = History()
    step = 0
    for e in range(epochs):
        for _ in range(steps_per_epoch):
            step += 1
            row = {
                "loss": 2.0 / step**0.5,
                "lr": lr(step),
                "batch_size": 8,
                "epoch": e,
                "step": step,
            }
            if val_every and step % val_every == 0:
                row["val_loss"] = 2.5 / step**0.5
            h.steps.append(row)
        h.epochs.append(
            {
                "epoch": e,
                "loss": 1.0 / (e + 1),
                "accuracy": 0.5 + 0.1 * e,
                "val_loss": 1.2 / (e + 1),
                "val_accuracy": 0.45 + 0.1 * e,
                "lr": lr(step),
            }
        )
    return h


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_per_epoch_panels_and_returned_figure(tmp_path):
    from matplotlib.figure import Figure

    fig = plot_history(_history(lr=lambda s: 1e-3 * 0.99**s), tmp_path / "c.png", title="t")
    assert isinstance(fig, Figure) and (tmp_path / "c.png").stat().st_size > 1000
    assert _titles(fig) == ["loss", "accuracy", "learning rate"]
    loss_ax = fig.axes[0]
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["train", "validation"]
    assert list(loss_ax.get_lines()[0].get_xdata()) == [1, 2, 3]


def test_constant_lr_has_no_panel_and_is_named_in_the_title():
    fig = plot_history(_history(), title="mlp on digits")
    assert "learning rate" not in _titles(fig)
    assert fig._suptitle.get_text() == "mlp on digits  ·  lr 0.001 (constant)"


def test_per_step_raw_smoothed_validation_at_its_steps_and_lr_per_step():
    h = _history(epochs=1, steps_per_epoch=100, lr=lambda s: 1e-3 * (1 - s / 200), val_every=25)
    fig = plot_history(h)  # one epoch: 'auto' draws per step
    assert _titles(fig) == ["loss", "accuracy", "learning rate"]
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"train (each step)", "train (smoothed)", "validation"}
    assert list(lines["train (each step)"].get_xdata()) == list(range(1, 101))
    assert list(lines["validation"].get_xdata()) == [25, 50, 75, 100]  # 100: the epoch's end
    assert lines["validation"].get_ydata()[-1] == pytest.approx(1.2)  # the end-of-epoch value
    lr_line = fig.axes[2].get_lines()[0]
    assert len(lr_line.get_xdata()) == 100 and lr_line.get_ydata()[0] == pytest.approx(1e-3 * 0.995)


def test_step_rows_merge_epoch_results_at_the_epochs_last_step():
    rows = step_rows(_history(epochs=2, steps_per_epoch=5))
    assert [r["step"] for r in rows] == list(range(1, 11))
    assert rows[4]["val_loss"] == pytest.approx(1.2) and rows[9]["val_loss"] == pytest.approx(0.6)
    assert "val_loss" not in rows[3] and rows[4]["loss"] == pytest.approx(2.0 / 5**0.5)


def test_smooth_is_a_centred_moving_average():
    assert smooth([3.0, 3.0, 3.0], window=3) == pytest.approx([3.0, 3.0, 3.0])
    assert smooth([1.0, 2.0, 6.0, 4.0], window=3) == pytest.approx([1.5, 3.0, 4.0, 5.0])
    line = np.arange(100.0)
    assert smooth(line)[10:90] == pytest.approx(line[10:90])  # no lag on a straight line


def test_errors():
    with pytest.raises(ValueError, match="no epoch entries"):
        plot_history(History(), per="epoch")
    with pytest.raises(ValueError, match="per must be 'auto', 'epoch' or 'step'"):
        plot_history(_history(), per="batch")
