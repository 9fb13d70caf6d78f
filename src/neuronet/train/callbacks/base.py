"""The callback API: hooks the training loop calls, with a ``logs`` dict (Keras's vocabulary).

Order of calls in ``Trainer.fit``::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_train_batch_begin(step, logs)   on_train_batch_end(step, logs)    (each batch)
        on_test_begin(logs) ... on_test_batch_end(step, logs) ... on_test_end(logs)   (if val)
      on_epoch_end(epoch, logs)            logs: loss, metrics, val_loss, val_<metric>, lr
      on_checkpoint(logs)                  after every callback's on_epoch_end
    on_checkpoint(logs)                    when the run stops inside an epoch (see below)
    on_train_end(logs)                     logs: {'outcome': 'completed' | 'steps' |
                                           'stopped' | 'interrupted'}

``on_checkpoint`` marks a point the loop can resume from bitwise: write a training checkpoint
there with ``self.trainer.save_checkpoint(path)`` (``ModelCheckpoint`` does). Its logs hold
``epoch``, ``step`` and ``reason``: 'epoch_end', 'steps' (a step cap inside an epoch, before
that partial epoch's row), 'stopped' (``stop_training`` was set during a batch) or
'interrupted' (Ctrl-C). The Trainer has no other way of writing files.

``on_batch_begin``/``on_batch_end`` are aliases of the train-batch hooks. A callback sees the
trainer as ``self.trainer`` (model, optimizer, ``stop_training``), set before training starts.
Setting ``trainer.stop_training = True`` in ``on_epoch_end`` ends training after that epoch;
in a batch hook it stops after that batch (a checkpoint is offered, the epoch is left
unfinished and a later ``fit`` continues it).
"""

from __future__ import annotations


class Callback:
    """Base class: override the hooks you need; the rest do nothing.

    Under MPI every rank runs the callbacks, on the same (reduced) epoch logs, so callbacks that
    decide (EarlyStopping, schedulers) agree; a callback with ``rank_zero_only = True`` (one
    that prints or writes files: ProgressBar, CSVLogger, ModelCheckpoint) runs on rank 0 only.
    """

    trainer = None
    rank_zero_only = False

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs=None): ...

    def on_train_end(self, logs=None): ...

    def on_epoch_begin(self, epoch, logs=None): ...

    def on_epoch_end(self, epoch, logs=None): ...

    def on_train_batch_begin(self, step, logs=None):
        self.on_batch_begin(step, logs)

    def on_train_batch_end(self, step, logs=None):
        self.on_batch_end(step, logs)

    def on_batch_begin(self, step, logs=None): ...

    def on_batch_end(self, step, logs=None): ...

    def on_test_begin(self, logs=None): ...

    def on_test_end(self, logs=None): ...

    def on_test_batch_begin(self, step, logs=None): ...

    def on_test_batch_end(self, step, logs=None): ...

    def on_checkpoint(self, logs=None): ...

    def state_dict(self) -> dict:
        """JSON-able state saved in training checkpoints (for exact resume)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class CallbackList:
    """Calls a hook on every callback, in order."""

    HOOKS = (
        "on_train_begin",
        "on_train_end",
        "on_epoch_begin",
        "on_epoch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_end",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_checkpoint",
    )

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be neuronet.train.Callback instances, got "
                    f"{type(cb).__name__}; subclass Callback and override its hooks"
                )
            cb.set_trainer(trainer)

    def __getattr__(self, hook):
        if hook not in self.HOOKS:
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call

    def __iter__(self):
        return iter(self.callbacks)
