"""TerminateOnNaN: stop as soon as the training loss is NaN or infinite."""

from __future__ import annotations

import math

from neuronet.train.callbacks.base import Callback


class TerminateOnNaN(Callback):
    """Stops training after the first batch whose loss is not finite, and says where.

    The Trainer itself never writes a checkpoint once the loss has gone non-finite, so the
    files on disk keep the last finite state; this callback also stops the run there.

    Attributes:
        bad_step: the optimizer step of that batch (None until it happens).
    """

    def __init__(self):
        self.bad_step = None

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            at = getattr(self.trainer, "nonfinite", None)
            where = self.trainer.where(at) if at else f"step {step}"
            self.bad_step = at["step"] if at else step
            self.trainer.stop_training = True
            self.trainer.stop_reason = f"TerminateOnNaN: the loss became {loss} at {where}"
