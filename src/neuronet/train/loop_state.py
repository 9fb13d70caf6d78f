"""What the training loop must remember to continue exactly: the epoch in progress and the
loop's counters, as saved in a training checkpoint under ``extra['trainer']``.

A checkpoint is written only at a point the loop can resume from bitwise:
    phase 'train'     between two batches (at an epoch's start, or inside it after Ctrl-C, a
                      stop or a step cap): the running loss sum and sample count, each metric's
                      accumulated state, and the gradients accumulated so far when the batch
                      closed no optimizer step (``accumulate > 1``);
    phase 'validate'  the epoch's batches are done but its end is not (Ctrl-C came before or
                      during validation): the epoch's training logs, already computed.
The model, optimizer, scheduler, data loader position and every RNG state are stored beside
it by ``neuronet.io.save_checkpoint``.

``check_state`` validates a loaded state against the trainer before anything is changed, so a
damaged or mismatched checkpoint is a ``CheckpointError`` and never a half-restored trainer.
"""

from __future__ import annotations

import copy

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.io.files import CheckpointError

STATE_VERSION = 2


class EpochProgress:
    """The running sums of the epoch in progress: loss (sample-weighted) and metric states."""

    def __init__(self, metrics: list):
        self.metrics = metrics
        for m in metrics:
            m.reset()
        self.loss_sum = 0.0
        self.count = 0
        self.train_logs = None  # the epoch's logs, once all its batches are done

    def update(self, loss: float, n: int, output, target) -> None:
        self.loss_sum += loss * n
        self.count += n
        for m in self.metrics:
            m.update(output.array, target.array if isinstance(target, Tensor) else target)

    def logs(self, reduce=None) -> dict:
        """Mean loss and every metric over the batches seen so far; ``reduce`` (under MPI,
        ``Ranks.reduce``) sums them over the ranks, on copies, so the running state stays."""
        loss_sum, count, metrics = self.loss_sum, self.count, self.metrics
        if reduce is not None:
            metrics = copy.deepcopy(metrics)
            loss_sum, count = reduce(loss_sum, count, metrics)
        out = {"loss": loss_sum / max(count, 1)}
        out.update({m.name: m.compute() for m in metrics})
        return out

    def finish(self, reduce=None) -> dict:
        self.train_logs = self.logs(reduce)
        return self.train_logs

    def state_dict(self) -> dict:
        return {
            "loss_sum": self.loss_sum,
            "count": self.count,
            "metrics": [m.state_dict() for m in self.metrics],
            "train_logs": self.train_logs,
        }

    def load_state_dict(self, state: dict) -> None:
        self.loss_sum = float(state["loss_sum"])
        self.count = int(state["count"])
        for m, s in zip(self.metrics, state["metrics"]):
            m.load_state_dict(s)
        self.train_logs = state["train_logs"]


def _fail(path, message: str) -> CheckpointError:
    return CheckpointError(f"{str(path)!r}: {message}")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def _same_kind(saved, fresh) -> bool:
    """Whether a saved metric attribute can stand where a fresh metric has ``fresh``: numbers
    for numbers, numeric arrays (or None) where the metric starts with None or an array, the
    same value for anything else (a name, k)."""
    if _is_number(fresh):
        return _is_number(saved)
    if fresh is None or isinstance(fresh, np.ndarray):
        return saved is None or (isinstance(saved, np.ndarray) and saved.dtype.kind in "biuf")
    return type(saved) is type(fresh) and saved == fresh


def _flat_rows(rows) -> bool:
    scalar = (int, float, str, np.number, type(None))
    return isinstance(rows, list) and all(
        isinstance(r, dict)
        and all(isinstance(k, str) and isinstance(v, scalar) for k, v in r.items())
        for r in rows
    )


def _check_progress(path, progress, metrics: list) -> None:
    if not isinstance(progress, dict) or set(progress) != {
        "loss_sum",
        "count",
        "metrics",
        "train_logs",
    }:
        raise _fail(path, "the saved epoch progress is malformed")
    if not _is_number(progress["loss_sum"]) or not _is_int(progress["count"]):
        raise _fail(path, "the saved running loss is malformed")
    saved = progress["metrics"]
    if not isinstance(saved, list) or len(saved) != len(metrics):
        names = [m.name for m in metrics]
        raise _fail(
            path,
            f"the checkpoint was saved with {len(saved) if isinstance(saved, list) else '?'} "
            f"metric(s), this Trainer has {names}; resume with the same metrics",
        )
    for m, s in zip(metrics, saved):
        own = m.state_dict()
        if (
            not isinstance(s, dict)
            or set(s) != set(own)
            or not all(_same_kind(s[k], own[k]) for k in own)
        ):
            raise _fail(path, f"the saved state of the metric {m.name!r} does not fit it")
    logs = progress["train_logs"]
    if logs is not None and (
        not isinstance(logs, dict) or not all(_is_number(v) for v in logs.values())
    ):
        raise _fail(path, "the saved training logs are malformed")


def _check_grads(path, grads, params: list) -> None:
    if not isinstance(grads, list) or len(grads) != len(params):
        raise _fail(path, "the saved accumulated gradients do not match the model's parameters")
    for i, (g, p) in enumerate(zip(grads, params)):
        if g is None:
            continue
        if not isinstance(g, np.ndarray) or g.shape != p.shape or g.dtype != p.array.dtype:
            raise _fail(
                path,
                f"the saved accumulated gradient of parameter {i} does not fit it (shape "
                f"{getattr(g, 'shape', None)}, parameter shape {p.shape})",
            )


def check_state(path, state, trainer) -> None:
    """Raise ``CheckpointError`` unless ``state`` is a loop state this trainer can resume."""
    if not isinstance(state, dict):
        raise _fail(
            path,
            "a checkpoint without training-loop state (written by io.save_checkpoint?); "
            "resume needs a file a Trainer wrote (ModelCheckpoint / out_dir)",
        )
    version = state.get("version")
    if not _is_int(version) or version != STATE_VERSION:
        raise _fail(
            path,
            f"the training-loop state has version {version!r}, this neuronet "
            f"resumes version {STATE_VERSION}; it was written by another neuronet version",
        )
    expected = {
        "version": int,
        "epoch": int,
        "global_step": int,
        "phase": str,
        "accumulate": int,
        "history": dict,
        "lr_monitor": dict,
        "callbacks": list,
    }
    for key, kind in expected.items():
        value = state.get(key)
        ok = _is_int(value) if kind is int else isinstance(value, kind)
        if not ok:
            raise _fail(path, f"the training-loop state has a bad or missing {key!r}")
    if state["phase"] not in ("train", "validate"):
        raise _fail(path, f"the training-loop state has an unknown phase {state['phase']!r}")
    progress = state.get("progress")
    if progress is not None:
        _check_progress(path, progress, trainer.fresh_metrics())
    if state["phase"] == "validate" and (progress is None or progress["train_logs"] is None):
        raise _fail(path, "the training-loop state is in its validation phase without logs")
    grads = state.get("grads")
    if grads is not None:
        _check_grads(path, grads, list(trainer.model.parameters()))
        if state["accumulate"] != trainer.accumulate:
            raise _fail(
                path,
                f"the checkpoint was written with accumulate={state['accumulate']} in the middle "
                f"of an accumulation group; this Trainer has accumulate={trainer.accumulate}. "
                f"Resume with accumulate={state['accumulate']}",
            )
    for cb in state["callbacks"]:
        if not isinstance(cb, dict) or not isinstance(cb.get("class"), str):
            raise _fail(path, "the saved callback states are malformed")
    try:
        history = type(trainer.history)()
        history.load_state_dict(state["history"])
        type(trainer.lr_monitor)().load_state_dict(state["lr_monitor"])
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise _fail(path, f"the saved history is malformed ({error})") from None
    if not _flat_rows(history.steps) or not _flat_rows(history.epochs):
        raise _fail(path, "the saved history rows are not flat tables of numbers and strings")


def capture(trainer) -> dict:
    """The trainer's loop state, JSON-able with arrays (see the module docstring)."""
    loader = trainer._loader_in_use
    pending = trainer.phase == "train" and loader is not None
    pending = pending and loader.batch_index % trainer.accumulate != 0
    params = list(trainer.model.parameters())
    progress = trainer.progress
    return {
        "version": STATE_VERSION,
        "epoch": trainer.epoch,
        "global_step": trainer.global_step,
        "phase": trainer.phase,
        "accumulate": trainer.accumulate,
        "progress": progress.state_dict() if progress is not None else None,
        "grads": [None if p.grad is None else p.grad.array for p in params] if pending else None,
        "history": trainer.history.state_dict(),
        "lr_monitor": trainer.lr_monitor.state_dict(),
        "callbacks": [
            {"class": type(cb).__name__, "state": cb.state_dict()} for cb in trainer.user_callbacks
        ],
        "config": trainer.config,
        **trainer._ranks.checkpoint_state(),  # the world size under MPI
    }


def _load_callback_states(path, callbacks: list, saved: list) -> list:
    """Give each callback the next saved state of its class; returns (callback, old state)
    pairs to roll back with. A callback refusing its state is a CheckpointError."""
    saved, backups = list(saved), []
    for cb in callbacks:
        match = next((s for s in saved if s["class"] == type(cb).__name__), None)
        if match is None:
            continue
        saved.remove(match)
        backups.append((cb, cb.state_dict()))
        try:
            cb.load_state_dict(match.get("state") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            for done, backup in backups[:-1]:
                done.load_state_dict(backup)
            raise _fail(
                path, f"the saved state of {type(cb).__name__} does not fit it ({error})"
            ) from None
    return backups


def restore(trainer, path, loader) -> None:
    """Load a checkpoint a Trainer wrote into ``trainer`` and ``loader``: everything is
    checked first, and nothing is changed if anything does not fit."""
    from neuronet.io.checkpoint import open_checkpoint

    ckpt = open_checkpoint(path)
    state = ckpt.extra.get("trainer")
    check_state(path, state, trainer)
    trainer._ranks.check_resume(path, state)
    if ckpt.info.get("data_loader") is None:
        raise _fail(path, "the checkpoint holds no data position")
    backups = _load_callback_states(path, trainer.user_callbacks, state["callbacks"])
    try:
        ckpt.restore(trainer.model, trainer.optimizer, trainer.scheduler, data_loader=loader)
    except BaseException:
        for cb, backup in backups:
            cb.load_state_dict(backup)
        raise
    trainer.epoch, trainer.global_step = int(state["epoch"]), int(state["global_step"])
    trainer.phase = state["phase"]
    trainer.progress = None
    if state.get("progress") is not None:
        trainer.progress = EpochProgress(trainer.fresh_metrics())
        trainer.progress.load_state_dict(state["progress"])
    for p, g in zip(trainer.model.parameters(), state.get("grads") or ()):
        p.grad = None if g is None else Tensor(g)
    trainer.history.load_state_dict(state["history"])
    trainer.lr_monitor.load_state_dict(state["lr_monitor"])
    trainer.nonfinite = None
