"""The report's pictures (matplotlib, optional): ``samples.png``, ``lr_find.png``,
``grad_flow.png`` and ``loss.png``.

Figures are drawn on a ``matplotlib.figure.Figure`` with the Agg canvas directly, so writing a
report never changes the user's pyplot backend. Without matplotlib the report is written without
pictures and says so.
"""

from __future__ import annotations

import numpy as np

NO_MATPLOTLIB = (
    "matplotlib is not installed, so no PNGs were written (pip install 'neuronet[plot]')"
)


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    return fig


def samples(data, path) -> None:
    images = np.asarray(data["images"])
    labels = data.get("labels")
    k = min(len(images), 16)
    cols = min(8, k)
    rows = (k + cols - 1) // cols
    fig = _figure(1.2 * cols, 1.35 * rows)
    for i in range(k):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = images[i]
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_xticks([])
        ax.set_yticks([])
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def lr_find(data, path) -> None:
    fig = _figure(6, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    lrs = np.asarray(data["lrs"])
    ax.plot(lrs, data["losses"], color="0.75", lw=1, label="loss per step")
    if data.get("smoothed"):
        ax.plot(lrs, data["smoothed"], color="C0", lw=2, label="smoothed")
    if data.get("lr_min"):
        ax.axvline(data["lr_min"], color="0.4", ls="--", lw=1, label="loss stops falling")
    if data.get("suggestion"):
        ax.axvline(
            data["suggestion"], color="C2", lw=2, label=f"suggested {data['suggestion']:.1e}"
        )
    if data.get("user_lr"):
        ax.axvline(data["user_lr"], color="C3", lw=2, ls=":", label=f"yours {data['user_lr']:.1e}")
    ax.set_xscale("log")
    finite = np.asarray([v for v in data["losses"] if np.isfinite(v)])
    if finite.size:
        top = min(finite.max(), 3 * np.median(finite[: max(5, finite.size // 5)]))
        ax.set_ylim(finite.min() - 0.05 * abs(finite.min()), top)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("Learning-rate range test")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def grad_flow(summary, path) -> None:
    layers = [r for r in summary["layers"] if r.get("rho") is not None or r.get("grad_norm")]
    acts = summary["acts"]
    fig = _figure(7, 5.6 if acts else 3.4)
    ax = fig.add_subplot(2 if acts else 1, 1, 1)
    names = [r["layer"] for r in layers]
    x = np.arange(len(names))
    rho = [r.get("rho") or np.nan for r in layers]
    grad = [r.get("grad_norm") or np.nan for r in layers]
    ax.bar(x - 0.2, rho, width=0.4, color="C0", label="||dL/dW|| / ||W||")
    ax.bar(x + 0.2, grad, width=0.4, color="C1", label="||dL/d output|| per sample")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_title("Gradient flow, first layer to last")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    if acts:
        ax2 = fig.add_subplot(2, 1, 2)
        labels = [f"{a['layer']} ({a['op']})" for a in acts]
        values = [a.get("dead", a.get("saturated", 0.0)) for a in acts]
        colors = ["C3" if "dead" in a else "C4" for a in acts]
        ax2.bar(np.arange(len(acts)), values, color=colors)
        ax2.axhline(0.5, color="0.4", ls="--", lw=1)
        ax2.set_ylim(0, 1)
        ax2.set_xticks(np.arange(len(acts)))
        ax2.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
        ax2.set_title("Dead ReLU units (red) / saturated sigmoid-tanh outputs (purple)")
        ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path)


def loss(data, path) -> None:
    fig = _figure(6, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    values = np.asarray(data["losses"], dtype=np.float64)
    ax.plot(np.arange(len(values)), values, color="C0", lw=1, label="training loss")
    if data.get("val"):
        steps, val = zip(*data["val"])
        ax.plot(steps, val, "o-", color="C1", ms=4, label="validation loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 30:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Short training run")
    fig.tight_layout()
    fig.savefig(path)


def write_all(report, out_dir):
    """Draw every plot the report has data for. Returns (file names, note or None)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [], NO_MATPLOTLIB
    plots = report.plots
    written = []
    jobs = [
        ("samples.png", samples, plots.get("samples")),
        ("lr_find.png", lr_find, plots.get("lr_find")),
        ("grad_flow.png", grad_flow, plots.get("grad_flow") or plots.get("grad_flow_init")),
        ("loss.png", loss, plots.get("loss")),
    ]
    for name, draw, data in jobs:
        if not data:
            continue
        if name == "lr_find.png" and len(data.get("lrs", ())) < 2:
            continue
        if name == "loss.png" and len(data.get("losses", ())) < 2:
            continue
        draw(data, out_dir / name)
        written.append(name)
    return written, None
