"""PeriodicValidation: validate every N optimizer steps, for runs measured in steps.

A language model trained for 2,000 steps in one epoch would otherwise be validated once, at the
end; this gives its curve validation points along the way (Lightning's ``val_check_interval``).
"""

from __future__ import annotations

from neuronet.train.callbacks.base import Callback


class PeriodicValidation(Callback):
    """Evaluate on ``data`` every ``every`` optimizer steps.

    The results (``val_loss``, ``val_<metric>``) go into that step's row of the trainer's
    history (``trainer.history.steps``) and into the batch logs, so callbacks after this one
    (TensorBoardLogger) see them. Evaluation runs in eval mode without a graph and draws no
    random numbers, so training is unchanged bit for bit.

    Args:
        data: a Dataset or DataLoader (a fixed subset of the validation data keeps it cheap).
        every: the interval in optimizer steps.
        last_step: no check at or after this step (the end-of-epoch validation covers it).
    """

    def __init__(self, data, every: int, last_step: int | None = None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"PeriodicValidation: every must be a positive int, got {every!r}")
        self.data = data
        self.every = every
        self.last_step = last_step
        self._done = None

    def on_train_batch_end(self, step, logs=None):
        if step == 0 or step % self.every or step == self._done:
            return
        if self.last_step is not None and step >= self.last_step:
            return
        self._done = step
        row = {f"val_{k}": v for k, v in self.trainer.evaluate(self.data).items()}
        steps = self.trainer.history.steps
        if steps and steps[-1].get("step") == step:
            steps[-1].update(row)
        if logs is not None:
            logs.update(row)

    def state_dict(self) -> dict:
        return {"done": self._done}  # a resume inside an accumulation group checks no twice

    def load_state_dict(self, state: dict) -> None:
        done = state.get("done")
        self._done = done if isinstance(done, int) else None
