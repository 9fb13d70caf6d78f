"""plot_history: one PNG with the loss, each metric and the learning rate per epoch.

Needs matplotlib (the ``plot`` extra: ``pip install neuronet[plot]``); uses the Agg backend, so
it works on servers without a display.
"""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plot_history needs matplotlib; install the plot extra: pip install 'neuronet[plot]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history, path, title: str | None = None) -> Path:
    """Write loss, metrics (train and val) and learning rate per epoch to ``path`` (PNG).

    Args:
        history: a ``History`` (or its ``.history`` dict of per-epoch lists).
        path: the PNG file to write.
        title: an optional figure title.

    Returns:
        The path written.
    """
    series = history.history if hasattr(history, "history") else dict(history)
    if not series:
        raise ValueError("plot_history: the history is empty; train for at least one epoch")
    plt = _pyplot()
    base = [
        k for k in series if not k.startswith("val_") and k != "lr" and not k.startswith("lr_group")
    ]
    panels = base + (["lr"] if "lr" in series else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, key in zip(axes[0], panels):
        values = series[key]
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, marker="o", ms=3, label="train" if key != "lr" else "lr")
        if f"val_{key}" in series:
            ax.plot(
                range(1, len(series[f"val_{key}"]) + 1),
                series[f"val_{key}"],
                marker="o",
                ms=3,
                label="validation",
            )
        ax.set_title(key)
        ax.set_xlabel("epoch")
        if key == "lr":
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        else:
            ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
