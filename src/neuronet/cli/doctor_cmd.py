"""``neuronet doctor``: the training doctor from the command line.

    neuronet doctor --model lenet --data digits --lr 0.3       # before training: same options
    neuronet doctor runs/20261126-101500-mlp-digits            # a finished or interrupted run
    neuronet doctor runs/X --json --budget full --out report/

It builds the model, data, loss and optimizer exactly as ``neuronet train`` would (or restores
them from the run folder: its ``config.toml``, and the weights and optimizer state of
``checkpoint.safetensors`` or ``model.safetensors``), runs ``doctor.diagnose``, writes
``doctor.md``, ``doctor.json`` and the PNGs to the run folder (or ``--out``), and prints the
report (``--json``: the JSON instead). For a run folder the recorded ``history.json`` is read too
(a NaN loss, validation loss rising). Exit code: 0 when nothing of severity 'error' was found,
1 otherwise (2 for a usage mistake, as every command).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from neuronet.cli.config import ConfigError, resolve

_NOT_COPIED = ("--resume", "--out", "--quiet", "-h", "--help")


def add_arguments(parser, train_parser) -> None:
    """The doctor's options: a run folder, or every `train` option (copied from its parser)."""
    parser.add_argument("run", nargs="?", help="a run folder written by `neuronet train`")
    for action in train_parser._actions:
        if not any(opt in _NOT_COPIED for opt in action.option_strings):
            parser._add_action(action)
    parser.add_argument(
        "--budget",
        choices=("quick", "full"),
        default="quick",
        help="quick (~10 s on digits-sized work) or full (up to ~60 s)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--out", help="folder for doctor.md, doctor.json and the PNGs (default: the run folder)"
    )


def _from_flags(flags: dict):
    from neuronet.cli.tasks import prepare
    from neuronet.cli.train_cmd import run_dir_for
    from neuronet.optim import make_optimizer
    from neuronet.random import manual_seed

    config = resolve(flags)
    manual_seed(config["seed"])
    task = prepare(config)
    optimizer = make_optimizer(
        config["optimizer"],
        task.model.parameters(),
        lr=config["lr"],
        weight_decay=config["weight_decay"],
    )
    out = (
        Path(flags["out"]) if flags.get("out") else Path(str(run_dir_for(config, None)) + "-doctor")
    )
    return config, task, optimizer, out, None


def _from_run(flags: dict):
    from neuronet import io
    from neuronet.cli.run_folder import run_preprocessing
    from neuronet.cli.tasks import prepare
    from neuronet.optim import make_optimizer

    run = Path(flags["run"])
    if not run.is_dir():
        raise ConfigError(f"{str(run)!r} is not a run folder (written by `neuronet train`)")
    if not (run / "config.toml").is_file():
        raise ConfigError(
            f"{str(run)!r} has no config.toml; is it a folder written by `neuronet train`?"
        )
    config = resolve({"config": str(run / "config.toml")})
    # the data exactly as the run saw it (its vocabulary, feature statistics, classes)
    task = prepare(config, preprocessing=run_preprocessing(run, config))
    optimizer = make_optimizer(
        config["optimizer"],
        task.model.parameters(),
        lr=config["lr"],
        weight_decay=config["weight_decay"],
    )
    checkpoint = run / "checkpoint.safetensors"
    weights = run / "model.safetensors"
    try:
        if checkpoint.is_file():
            io.load_checkpoint(checkpoint, task.model, optimizer, restore_rng=False)
        elif weights.is_file():
            io.load(task.model, weights)
        else:
            raise ConfigError(
                f"{str(run)!r} holds no checkpoint.safetensors or model.safetensors to examine"
            )
    except (ValueError, OSError) as err:
        raise ConfigError(f"cannot load the run's weights: {str(err).splitlines()[0]}") from None
    out = Path(flags["out"]) if flags.get("out") else run
    return config, task, optimizer, out, run


def _history_findings(run: Path) -> tuple:
    """Findings and a stage from the run's recorded per-epoch history."""
    from neuronet.doctor import curves
    from neuronet.doctor.exam import Stage

    path = run / "history.json"
    stage = Stage("history", "8. The recorded run (history.json)")
    if not path.is_file():
        stage.skipped = "no history.json in the run folder"
        return [], stage
    epochs = json.loads(path.read_text()).get("epochs", [])
    losses = [
        float(e["loss"]) if isinstance(e.get("loss"), (int, float)) else math.nan for e in epochs
    ]
    val = [
        (i, float(e["val_loss"]))
        for i, e in enumerate(epochs)
        if isinstance(e.get("val_loss"), (int, float))
    ]
    stage.lines.append(
        f"{len(epochs)} epochs recorded"
        + (f"; loss {losses[0]:.4g} -> {losses[-1]:.4g}" if losses else "")
    )
    if val:
        stage.lines.append(
            f"validation loss {val[0][1]:.4g} -> {val[-1][1]:.4g} "
            f"(best {min(v for _, v in val):.4g})"
        )
    return curves.analyse(losses, val, where="the recorded run (per epoch)"), stage


def doctor(flags: dict) -> int:
    from neuronet.doctor import Report, diagnose

    if flags.get("run") and flags.get("model"):
        raise ConfigError("give either a run folder or --model/--data, not both")
    config, task, optimizer, out, run = (_from_run if flags.get("run") else _from_flags)(flags)
    report = diagnose(
        task.model,
        task.train,
        task.loss,
        optimizer,
        val=task.test,
        batch_size=config["batch_size"],
        seed=config["seed"],
        budget=flags.get("budget") or "quick",
    )
    if run is not None:
        extra, stage = _history_findings(run)
        report = Report(report.findings + extra, report.stages + [stage], report.meta, report.plots)
    report.meta["data"] = config["data"]
    report.write(out)
    if flags.get("json"):
        print(report.to_json())
    else:
        print(report)
        print(f"\nreport written to {out / 'doctor.md'}")
    return 1 if report.errors else 0
