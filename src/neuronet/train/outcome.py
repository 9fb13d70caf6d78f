"""What the Trainer says when a run ends early: where it stopped, and what was kept.

The Trainer prints these through its one printing method (``Trainer._say``); this module only
composes the words.
"""

from __future__ import annotations


def where(at: dict, steps_per_epoch: int | None) -> str:
    """'step S (epoch E, batch B/N)', 1-based, for a dict with 0-based epoch and batch."""
    of = f"/{steps_per_epoch}" if steps_per_epoch else ""
    return f"step {at['step']} (epoch {at['epoch'] + 1}, batch {at['batch'] + 1}{of})"


def _position(trainer) -> str:
    loader = trainer._loader_in_use
    batch = loader.batch_index if loader is not None else 0
    if trainer.phase == "validate":
        return f"after the last batch of epoch {trainer.epoch + 1}, before its validation"
    if batch == 0:
        return f"after epoch {trainer.epoch} (step {trainer.global_step})"
    at = {"epoch": trainer.epoch, "batch": batch - 1, "step": trainer.global_step}
    return "after " + where(at, trainer.steps_per_epoch)


def end_of_run_message(trainer, outcome: str) -> str | None:
    """The message for a run that went non-finite, was interrupted or stopped; else None."""
    if trainer.nonfinite is not None:
        kept = (
            f"{trainer.last_checkpoint} keeps the last finite state"
            if trainer.last_checkpoint is not None
            else "no checkpoint had been written"
        )
        return (
            f"Training went non-finite: the loss became {trainer.nonfinite['loss']} at "
            f"{where(trainer.nonfinite, trainer.steps_per_epoch)}; nothing was saved after that, "
            f"{kept}. Lower the learning rate, clip gradients (grad_clip=1.0) or check the data "
            "for NaN"
        )
    if outcome not in ("interrupted", "stopped"):
        return None
    what = "Interrupted" if outcome == "interrupted" else "Stopped"
    if trainer.stop_reason:
        what += f" ({trainer.stop_reason})"
    if trainer._saved_now is not None:
        written = f"checkpoint written to {trainer._saved_now}"
    else:
        written = (
            "no checkpoint written (this Trainer has no out_dir and no ModelCheckpoint): call "
            "fit() again with the same data to continue, or trainer.save_checkpoint(path) to "
            "keep the state"
        )
    return f"{what} {_position(trainer)}; {written}"
