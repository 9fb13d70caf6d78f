"""What ``neuronet train`` adds around the Trainer: the run's length in epochs and steps, the
callbacks that its options ask for, and the history and curves it leaves in the run folder.

Length: ``--steps N`` decides when given (the epochs follow: ceil(N / steps per epoch)); else
``--epochs``. ``config.toml`` records both as they ran, so ``--config`` reproduces the run.

Step-based runs (``--steps``, or runs that ended before their second epoch, e.g. interrupted)
are reported per optimizer step: ``history.csv`` has one row per step (loss, lr, and validation
results at the steps they were measured) and ``curves.png`` plots against the step. Other runs
get one row and one point per epoch.
"""

from __future__ import annotations

import math

from neuronet.cli.config import ConfigError

VAL_POINTS = 10  # validation checks along a step-based run (--val-every overrides)
VAL_SUBSET = 256  # samples each intermediate check evaluates (the end-of-run check uses all)


def run_length(config: dict, n_train: int, flags: dict) -> tuple:
    """(epochs, total steps, note or None); updates ``config`` to what will run."""
    steps_per_epoch = math.ceil(n_train / config["batch_size"])
    note = None
    if config["steps"]:
        total = config["steps"]
        epochs = math.ceil(total / steps_per_epoch)
        if flags.get("epochs") is not None and flags["epochs"] != epochs:
            note = (
                f"note: --steps {total} decides the length ({epochs} epoch(s) of "
                f"{steps_per_epoch} steps); --epochs {flags['epochs']} is not used"
            )
    else:
        epochs = config["epochs"]
        total = steps_per_epoch * epochs
    config["epochs"] = epochs
    return epochs, total, note


def is_step_based(config: dict, history) -> bool:
    return bool(config.get("steps")) or len(history.epochs) < 2


def extra_callbacks(config: dict, task, total: int, flags: dict) -> list:
    """PeriodicValidation for step-based runs, TensorBoardLogger for --tensorboard."""
    from neuronet.cli.tasks import evenly
    from neuronet.train.callbacks import PeriodicValidation

    callbacks = []
    every = config.get("val_every")
    if every is None and config.get("steps"):
        every = max(1, total // VAL_POINTS)
    if every and every < total:
        callbacks.append(PeriodicValidation(evenly(task.test, VAL_SUBSET), every, last_step=total))
    if flags.get("tensorboard"):
        try:
            from neuronet.train.callbacks import TensorBoardLogger

            hist_every = max(1, total // 20) if config.get("steps") else None
            callbacks.append(TensorBoardLogger(flags["tensorboard"], histogram_every=hist_every))
        except ImportError as err:
            raise ConfigError(f"--tensorboard: {err}") from None
    return callbacks


def write_history(run_dir, history, step_based: bool) -> None:
    """history.csv (per step or per epoch, see the module docstring) and history.json."""
    from neuronet.train.callbacks.history import _write_csv
    from neuronet.train.plot import step_rows

    if step_based:
        first = ("step", "epoch", "loss", "lr")
        rows = [
            {**{k: r[k] for k in first if k in r}, **{k: v for k, v in r.items() if k not in first}}
            for r in step_rows(history)
        ]
        _write_csv(run_dir / "history.csv", rows)
    else:
        history.to_csv(run_dir / "history.csv")
    history.to_json(run_dir / "history.json")


def write_curves(run_dir, history, step_based: bool, title: str):
    """curves.png; a note (not an error) when matplotlib is missing or nothing was logged."""
    from neuronet.train import plot_history

    try:
        plot_history(
            history, run_dir / "curves.png", title=title, per="step" if step_based else "epoch"
        )
    except (ImportError, ValueError) as err:
        print(f"note: no curves.png ({err})")
