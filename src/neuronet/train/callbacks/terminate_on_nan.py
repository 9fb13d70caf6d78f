"""TerminateOnNaN: stop as soon as the training loss is NaN or infinite."""

from __future__ import annotations

import math

from neuronet.train.callbacks.base import Callback


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is not finite, and says which batch."""

    def __init__(self):
        self.bad_step = None

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.bad_step = step
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"loss became {loss} at step {step}; lower the learning rate, clip gradients "
                "(grad_clip=1.0) or check the data for NaN"
            )
