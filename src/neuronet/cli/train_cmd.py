"""``neuronet train``: train a model, report results, leave a run folder behind.

The run folder (``runs/<timestamp>-<model>-<data>/`` or ``--out``) holds ``config.toml``,
``model.safetensors`` (weights + the model's config + the vocabulary for text),
``preprocess.json`` (what predict/evaluate apply to inputs, see ``preprocess.py``),
``checkpoint.safetensors`` (for ``--resume``), ``history.csv``, ``history.json``, ``curves.png``
and ``metrics.json``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import datetime
from pathlib import Path

from neuronet.cli import run_outputs
from neuronet.cli.config import ConfigError, dump_toml, resolve
from neuronet.cli.generate import generate_text
from neuronet.cli.preprocess import write_preprocessing
from neuronet.cli.run_folder import load_run  # noqa: F401  (its old home; commands use run_folder)
from neuronet.cli.tasks import prepare


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


def run_dir_for(config: dict, out) -> Path:
    if out:
        return Path(out)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = config["data"].split(":", 1)[0]
    return Path("runs") / f"{stamp}-{config['model']}-{data}"


def _resume_target(resume, out):
    """(run folder, checkpoint file) for ``--resume [RUN_OR_FILE]``."""
    target = Path(resume) if resume not in (None, True, "") else (Path(out) if out else None)
    if target is None:
        raise ConfigError("--resume needs a run folder or checkpoint file (or --out RUN)")
    ckpt = target / "checkpoint.safetensors" if target.is_dir() else target
    if not ckpt.is_file():
        raise ConfigError(f"nothing to resume: {str(ckpt)!r} does not exist")
    return ckpt.parent, ckpt


def train(flags: dict) -> int:
    from neuronet import io
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
        if not flags.get("config") and (run_dir / "config.toml").is_file():
            flags = {**flags, "config": str(run_dir / "config.toml")}
    config = resolve(flags)
    if resume_ckpt is None:
        run_dir = run_dir_for(config, flags.get("out"))
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
    rank_share = math.ceil(len(task.train) / ranks.world_size)  # DistributedSampler's share
    epochs, total, note = run_outputs.run_length(config, rank_share, flags)
    if note and ranks.is_main:
        print(note)
    scheduler = make_scheduler(config["schedule"], optimizer, total, epochs, config["lr"])
    if ranks.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        dump_toml(config, run_dir / "config.toml")
    trainer = Trainer(
        model,
        task.loss,
        optimizer,
        scheduler,
        metrics=task.metrics,
        grad_clip=config["grad_clip"],
        batch_size=config["batch_size"],
        seed=config["seed"],
        quiet=quiet,
        out_dir=run_dir,
        config={"model": model.config, "run": config},
        # under MPI only rank 0 opens TensorBoard event files
        callbacks=run_outputs.extra_callbacks(
            config, task, total, flags if ranks.is_main else {**flags, "tensorboard": None}
        ),
    )
    if not quiet and ranks.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        parallel = ""
        if ranks.world_size > 1:
            parallel = f", {ranks.world_size} ranks x batch {config['batch_size']}"
        print(
            f"training {type(model).__name__} ({n_params:,} parameters) on {config['data']}: "
            f"{len(task.train)} train / {len(task.test)} test samples, {epochs} epoch(s)"
            f"{parallel}"
            f"{f', {total} steps' if config['steps'] else ''} -> {run_dir}"
        )
    start = time.perf_counter()
    history = trainer.fit(task.train, val=task.test, epochs=epochs, resume=resume_ckpt, steps=total)
    seconds = time.perf_counter() - start
    results = trainer.evaluate(task.test)
    if not ranks.is_main:  # rank 0 writes the run folder and reports
        return 130 if trainer.interrupted else 0
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
    step_based = run_outputs.is_step_based(config, history)
    run_outputs.write_history(run_dir, history, step_based)
    summary = {
        "task": task.kind,
        "test": results,
        "epochs": trainer.epoch,
        "steps": trainer.global_step,
        "train_seconds": round(seconds, 2),
        "interrupted": trainer.interrupted,
    }
    (run_dir / "metrics.json").write_text(json.dumps(summary, indent=1))
    title = f"{config['model']} on {config['data']}"
    run_outputs.write_curves(run_dir, history, step_based, title)
    print(_report(task.kind, results, seconds, run_dir))
    if task.kind == "language_model" and not quiet and not trainer.interrupted:
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
