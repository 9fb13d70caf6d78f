"""``neuronet train``: train a model, report results, leave a run folder behind.

The run folder (``runs/<timestamp>-<model>-<data>/`` or ``--out``) holds ``config.toml``,
``model.safetensors`` (weights + the model's config + the vocabulary for text), ``model.json``,
``preprocess.json`` (what predict/evaluate apply to inputs, see ``preprocess.py``),
``checkpoint.safetensors`` (for ``--resume``), ``history.csv``, ``history.json``, ``curves.png``
and ``metrics.json`` (written last).

Nothing is written until training starts: the options are checked, the data loaded, the model
built and any checkpoint restored first, so a run that fails before training leaves no folder.
``--out`` naming an existing run is refused unless ``--overwrite``. ``--resume`` keeps the run's
options (from its checkpoint); only ``--epochs`` and ``--steps`` may change, to train longer,
and a flag that conflicts with the run is named before anything is touched.
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import datetime
from pathlib import Path

from neuronet.cli import run_outputs
from neuronet.cli.config import COMMON, ConfigError, absolute_data, dump_toml, load_toml, resolve
from neuronet.cli.generate import generate_text
from neuronet.cli.preprocess import write_preprocessing
from neuronet.cli.run_folder import load_run  # noqa: F401  (its old home; commands use run_folder)
from neuronet.cli.tasks import prepare
from neuronet.train.callbacks.base import Callback

RUN_FILES = (
    "config.toml",
    "model.safetensors",
    "model.json",
    "preprocess.json",
    "checkpoint.safetensors",
    "history.csv",
    "history.json",
    "curves.png",
    "metrics.json",
)
RESUMABLE = ("epochs", "steps")  # what --resume may change: how long the run trains
FIXED_LENGTH = ("cosine", "warmup_cosine", "onecycle")  # schedules planned for the run's length


def make_scheduler(name: str, optimizer, total_steps: int, epochs: int, lr: float):
    from neuronet.optim import lr_scheduler as S

    if name == "none":
        return None
    if name == "step":
        return S.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.3)
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    if name == "warmup_cosine":
        warmup = max(1, total_steps // 20)
        return S.warmup_cosine(optimizer, warmup, total_steps, min_lr=lr * 0.05)
    return S.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)


def plan(config: dict, n_train: int) -> tuple[int, int]:
    """(epochs, total optimizer steps) a config asks for (``run_outputs.run_length``)."""
    epochs, total, _ = run_outputs.run_length(dict(config), n_train, {})
    return epochs, total


# ---- where the run goes -------------------------------------------------------------------------
def run_dir_for(config: dict, out) -> Path:
    """``--out``, or ``runs/<timestamp>-<model>-<data>`` (with -2, -3, ... if it exists)."""
    if out:
        return Path(out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{stamp}-{config['model']}-{config['data'].split(':', 1)[0]}"
    run_dir, n = base, 1
    while run_dir.exists():
        n += 1
        run_dir = base.with_name(f"{base.name}-{n}")
    return run_dir


def _new_run_dir(config: dict, out, overwrite: bool) -> Path:
    if not out:
        return run_dir_for(config, None)
    run_dir = Path(out)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    existing = [name for name in RUN_FILES if (run_dir / name).exists()]
    if existing and not overwrite:
        raise ConfigError(
            f"--out {out} already holds a run ({', '.join(existing)}); pass --overwrite to "
            f"replace it, --resume {out} to continue it, or choose another folder"
        )
    return run_dir


def _resume_target(resume, out) -> tuple[Path, Path]:
    """(run folder, checkpoint file) for ``--resume [RUN_OR_FILE]``."""
    target = Path(resume) if resume not in (None, True, "") else (Path(out) if out else None)
    if target is None:
        raise ConfigError("--resume needs a run folder or checkpoint file (or --out RUN)")
    ckpt = target / "checkpoint.safetensors" if target.is_dir() else target
    if not ckpt.is_file():
        raise ConfigError(f"nothing to resume: {str(ckpt)!r} does not exist")
    if out and resume not in (None, True, "") and Path(out).resolve() != ckpt.parent.resolve():
        raise ConfigError(
            f"--out {out} conflicts with --resume {resume}: a run resumes in its folder"
        )
    return ckpt.parent, ckpt


def _saved_run(ckpt: Path) -> tuple[dict, dict]:
    """(the run's resolved options, the Trainer's loop state) from its checkpoint."""
    from neuronet import io

    state = io.read_metadata(ckpt)["extra"].get("trainer")
    config = state.get("config") if isinstance(state, dict) else None
    run = config.get("run") if isinstance(config, dict) else None
    counters = isinstance(state, dict) and all(
        isinstance(state.get(k), int) for k in ("epoch", "global_step")
    )
    if not isinstance(run, dict) or not counters or state.get("phase") not in ("train", "validate"):
        raise ConfigError(f"{str(ckpt)!r} was not written by `neuronet train`; it cannot resume")
    return run, state


def _resumed_config(flags: dict, saved: dict, run_dir: Path) -> dict:
    """The saved options with --epochs/--steps applied; any other flag must agree with them."""
    asked = load_toml(flags["config"]) if flags.get("config") else {}
    if asked.get("data") is not None:
        asked["data"] = absolute_data(asked["data"], Path(flags["config"]).parent)
    asked.update({k: v for k, v in flags.items() if v is not None and k in COMMON})
    if asked.get("data") is not None:
        asked["data"] = absolute_data(asked["data"])
    config = dict(saved)
    for key, value in asked.items():
        if key in RESUMABLE:
            config[key] = value
        elif value != saved.get(key):
            raise ConfigError(
                f"--{key.replace('_', '-')} {value} conflicts with the run being resumed "
                f"({key} = {saved.get(key)!r} in {run_dir}); a resumed run keeps its model, data "
                "and hyperparameters (only --epochs and --steps may change): start a new run "
                "with --out NEW_FOLDER to change them"
            )
    return resolve({**config, "config": None})


def _check_resume(saved: dict, config: dict, state: dict, n: int, run_dir: Path, ckpt) -> None:
    epochs, total = plan(config, n)
    saved_epochs, saved_total = plan(saved, n)
    if config["schedule"] in FIXED_LENGTH and (epochs, total) != (saved_epochs, saved_total):
        raise ConfigError(
            f"this run's {config['schedule']} schedule was planned for {saved_total} steps "
            f"({saved_epochs} epochs); it cannot be stretched to {total} steps without changing "
            "the steps already taken. Resume with its length, or start a new run (--out NEW) "
            "with the longer --epochs/--steps"
        )
    done = state["epoch"] >= epochs or (state["phase"] == "train" and state["global_step"] >= total)
    metrics = run_dir / "metrics.json"
    if done and metrics.is_file() and metrics.stat().st_mtime >= Path(ckpt).stat().st_mtime:
        raise ConfigError(
            f"nothing to resume: {run_dir} has finished its {total} steps ({state['epoch']} "
            "epochs done); pass a larger --epochs or --steps to train longer"
        )


class _RunFolder(Callback):
    """Creates the run folder and writes config.toml when training starts (after the data,
    the model and any checkpoint loaded), so a run that fails before leaves nothing."""

    rank_zero_only = True  # under MPI rank 0 writes the run folder

    def __init__(self, run_dir: Path, config: dict, replace: bool):
        self.run_dir, self.config, self.replace = run_dir, config, replace

    def on_train_begin(self, logs=None):
        if self.replace:
            for name in RUN_FILES:
                (self.run_dir / name).unlink(missing_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        dump_toml(self.config, self.run_dir / "config.toml")


# ---- train --------------------------------------------------------------------------------------
def train(flags: dict) -> int:
    from neuronet.distributed import training as distributed
    from neuronet.optim import make_optimizer
    from neuronet.random import manual_seed
    from neuronet.train import Trainer

    if flags.get("nproc") is not None:
        code = _launch_ranks(flags["nproc"], flags.get("argv", []))
        if code is not None:  # this process started mpiexec, which has finished
            return code
    ranks = distributed.for_trainer()  # under mpiexec: one rank of the job; rank 0 writes
    resume_ckpt = None
    if flags.get("resume") is not None:
        run_dir, resume_ckpt = _resume_target(flags["resume"], flags.get("out"))
        saved, state = _saved_run(resume_ckpt)
        config = _resumed_config(flags, saved, run_dir)
    else:
        config = resolve(flags)
        run_dir = _new_run_dir(config, flags.get("out"), bool(flags.get("overwrite")))
    quiet = bool(flags.get("quiet"))
    manual_seed(config["seed"])
    task = prepare(config)
    for note in task.notes if ranks.is_main else ():
        print(note)
    model = task.model
    optimizer = make_optimizer(
        config["optimizer"],
        model.parameters(),
        lr=config["lr"],
        weight_decay=config["weight_decay"],
    )
    share = math.ceil(len(task.train) / ranks.world_size)  # DistributedSampler's share
    if resume_ckpt is not None:
        _check_resume(saved, config, state, share, run_dir, resume_ckpt)
        epochs, total = plan(saved, share)  # the schedule is the run's own
        scheduler = make_scheduler(config["schedule"], optimizer, total, epochs, config["lr"])
    epochs, total, note = run_outputs.run_length(config, share, flags)
    if note and ranks.is_main:
        print(note)
    if resume_ckpt is None:
        scheduler = make_scheduler(config["schedule"], optimizer, total, epochs, config["lr"])
    callbacks = [  # under MPI only rank 0 opens TensorBoard event files
        _RunFolder(run_dir, config, replace=resume_ckpt is None),
        *run_outputs.extra_callbacks(
            config, task, total, flags if ranks.is_main else {**flags, "tensorboard": None}
        ),
    ]
    trainer = Trainer(
        model,
        task.loss,
        optimizer,
        scheduler,
        metrics=task.metrics,
        callbacks=callbacks,
        grad_clip=config["grad_clip"],
        batch_size=config["batch_size"],
        seed=config["seed"],
        quiet=quiet,
        out_dir=run_dir,
        config={"model": model.config, "run": config},
    )
    if not quiet and ranks.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        parallel = f", {ranks.world_size} ranks x batch {config['batch_size']}"
        print(
            f"training {type(model).__name__} ({n_params:,} parameters) on {config['data']}: "
            f"{len(task.train)} train / {len(task.test)} test samples, {epochs} epoch(s)"
            f"{parallel if ranks.world_size > 1 else ''}"
            f"{f', {total} steps' if config['steps'] else ''} -> {run_dir}",
            flush=True,
        )
    start = time.perf_counter()
    history = trainer.fit(task.train, val=task.test, epochs=epochs, resume=resume_ckpt, steps=total)
    seconds = time.perf_counter() - start
    results = trainer.evaluate(task.test) if trainer.nonfinite is None else None  # all ranks
    if not ranks.is_main:  # rank 0 writes the run folder and reports
        return 130 if trainer.interrupted else 0
    return _write_outputs(trainer, task, config, history, seconds, run_dir, results)


def _write_outputs(trainer, task, config, history, seconds: float, run_dir: Path, results) -> int:
    from neuronet import io

    model = trainer.model
    step_based = run_outputs.is_step_based(config, history)
    run_outputs.write_history(run_dir, history, step_based)
    summary = {
        "task": task.kind,
        "epochs": trainer.epoch + (trainer.progress is not None),  # a partial one counts
        "steps": trainer.global_step,
        "train_seconds": round(seconds, 2),
        "interrupted": trainer.interrupted,
    }
    if trainer.nonfinite is not None:  # keep the last finite files; say where it went wrong
        at = trainer.where(trainer.nonfinite)
        summary["nonfinite"] = {**trainer.nonfinite, "loss": str(trainer.nonfinite["loss"])}
        (run_dir / "metrics.json").write_text(json.dumps(summary, indent=1))
        kept = (
            f"{trainer.last_checkpoint} keeps the last finite state"
            if trainer.last_checkpoint is not None
            else "no checkpoint was written before"
        )
        print(
            f"neuronet train: error: the loss became {trainer.nonfinite['loss']} at {at}; "
            f"model.safetensors was not written and {kept}. Lower --lr or set --grad-clip 1.0",
            file=sys.stderr,
        )
        return 1
    metadata = {
        "model_config": json.dumps(model.config),
        "run_config": json.dumps(config),
        "task": task.kind,
    }
    if task.data.vocab is not None:
        metadata["vocab"] = task.data.vocab.to_json()
    # model.safetensors + model.json: the run rebuilds without this code (neuronet.load_model)
    io.save_model(
        model, run_dir, task=task.kind, preprocessing=serving_preprocessing(task), metadata=metadata
    )
    write_preprocessing(run_dir, task.preprocessing)
    run_outputs.write_curves(run_dir, history, step_based, f"{config['model']} on {config['data']}")
    summary["test"] = results
    (run_dir / "metrics.json").write_text(json.dumps(summary, indent=1))
    print(_report(task.kind, results, seconds, run_dir))
    if trainer.interrupted:
        print(f"interrupted: continue with `neuronet train --resume {run_dir}`")
    elif task.kind == "language_model" and not trainer.quiet:
        print("sample:", repr(generate_text(model, task.data.vocab, "\n", 200, 0.8, None, 0)))
    return 130 if trainer.interrupted else 0


def serving_preprocessing(task) -> dict:
    """model.json's ``preprocessing`` (what ``load_model(run).predict`` does to a raw sample),
    derived from the run's ``Preprocessing`` so that it and ``neuronet predict`` agree."""
    x = task.train[0][0]
    x = x.array if hasattr(x, "array") else x
    return task.preprocessing.model_json(list(x.shape), str(x.dtype))


def _launch_ranks(nproc: int, argv: list):
    """``--nproc N``: run this command as N MPI ranks and return the job's exit code; None when
    this process should train itself (N == 1, or it is already one of N ranks)."""
    from neuronet.distributed import launched_world_size
    from neuronet.distributed._mpi import mpi_available
    from neuronet.distributed.launch import LaunchError, launch, strip_option

    if nproc < 1:
        raise ConfigError(f"--nproc must be a positive integer, got {nproc}")
    running = launched_world_size()
    if running > 1:
        if running != nproc:
            raise ConfigError(
                f"--nproc {nproc} given inside an mpiexec job of {running} ranks; leave out "
                "--nproc when you start mpiexec yourself"
            )
        return None
    if nproc == 1:
        return None
    if not mpi_available():
        raise ConfigError(
            "--nproc needs mpi4py and MPI: install the `mpi` extra (pip install 'neuronet[mpi]')"
        )
    try:
        code = launch(nproc, strip_option(argv, "--nproc"))
    except LaunchError as error:
        raise ConfigError(str(error)) from None
    if code not in (0, 130):  # 130: interrupted (Ctrl-C), rank 0 saved a checkpoint
        print(
            f"neuronet train: the job of {nproc} MPI ranks failed (exit code {code}); the "
            "failing rank's message is above",
            file=sys.stderr,
        )
    return code


def _report(kind: str, results: dict, seconds: float, run_dir: Path) -> str:
    if kind == "classification":
        head = f"test accuracy {results['accuracy']:.4f} (loss {results['loss']:.4f})"
    elif kind == "language_model":
        head = (
            f"validation loss {results['loss']:.4f} nats/char "
            f"(perplexity {results['perplexity']:.2f})"
        )
    elif kind == "reconstruction":
        head = f"test reconstruction MSE {results['mse']:.5f}"
    else:
        head = f"test MSE {results['mse']:.6g}, MAE {results['mae']:.6g}, R2 {results['r2']:.4f}"
    return f"{head} in {seconds:.1f}s; run written to {run_dir}"
