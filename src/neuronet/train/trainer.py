"""Trainer: fit, evaluate and predict, with callbacks, metrics, clipping, accumulation,
exact-resume checkpoints and safe Ctrl-C.

One optimizer step is::

    model.train()
    for each batch (x, y):
        loss = loss_fn(model(x), y) / accumulate
        loss.backward()
        every `accumulate` batches (and at the epoch's last batch):
            clip gradients -> optimizer.step() -> zero_grad() -> scheduler.step() if per step
    (a stream without __len__: the epoch ends when it does, and a partial accumulation group
    left then takes its step there)
    at the end of the epoch: evaluate on val, scheduler.step() if per epoch (with the monitored
    value if it needs_metric), on_epoch_end, on_checkpoint

Files are written by callbacks only: ``ModelCheckpoint`` (added for you by ``out_dir=``) writes
the training state at each ``on_checkpoint``. ``fit(..., resume=path)`` restores weights,
optimizer, scheduler, every RNG, the position in the data, the running sums of the epoch in
progress and any gradients accumulated so far, so a run interrupted anywhere and resumed gives
bitwise the weights, optimizer state and history of the uninterrupted one. Without a file, a
stopped trainer keeps its state: calling ``fit`` again with the same data continues it.

Ctrl-C (see ``interrupt.py``) stops after the current batch, or during validation, offers a
checkpoint and returns the history. A non-finite loss is recorded (``trainer.nonfinite``) and
from then on no checkpoint or weights file is written, so the files keep the last finite state.

Under MPI (``mpiexec -n N``, or after ``neuronet.distributed.init()``) the same loop runs on
every rank: ``self._ranks`` (``neuronet.distributed.training``) shards the data, wraps the model
in DistributedDataParallel, reduces the epoch's loss and metrics across ranks, agrees on
stopping, and lets only rank 0 print and write. Single-process, every ``_ranks`` call is a no-op.
"""

from __future__ import annotations

import copy
import math
import random
import sys
from pathlib import Path

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.distributed import training as distributed
from neuronet.random import Generator, get_rng_state, set_rng_state
from neuronet.train import evaluation
from neuronet.train.batches import batch_count, make_loader, split_batch
from neuronet.train.callbacks.base import Callback, CallbackList
from neuronet.train.callbacks.checkpoint import ModelCheckpoint
from neuronet.train.callbacks.history import History
from neuronet.train.callbacks.lr_monitor import LRMonitor
from neuronet.train.callbacks.progress_bar import ProgressBar
from neuronet.train.interrupt import SigintGuard
from neuronet.train.loop_state import EpochProgress, capture, restore
from neuronet.train.losses import resolve_loss
from neuronet.train.metrics import get_metric
from neuronet.train.outcome import end_of_run_message, where

CHECKPOINT_NAME = ModelCheckpoint.STATE_NAME


def _positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class Trainer:
    """Trains a model: the loop of Keras's ``fit`` and Lightning's ``Trainer`` for neuronet.

    Args:
        model: an ``nn.Module``.
        loss: a loss module or function ``loss(output, target)``, or a name ('cross_entropy',
            'mse', 'l1', 'bce_with_logits', ...).
        optimizer: a ``neuronet.optim`` optimizer over the model's parameters (None for a
            trainer that only evaluates and predicts).
        scheduler: a learning-rate scheduler; stepped per optimizer step or per epoch as it
            declares (``scheduler.interval``), with the monitored value when it declares
            ``needs_metric`` (``ReduceLROnPlateau``: ``val_loss``, else the training loss).
        metrics: names ('accuracy', 'top5_accuracy', 'f1', 'mse', 'r2', 'perplexity', ...) or
            ``Metric`` objects, computed on the training batches and on validation data.
        callbacks: extra ``Callback`` objects (History, LRMonitor and a progress bar are added).
        grad_clip: clip the global gradient norm to this value before each step.
        accumulate: accumulate gradients over this many batches per optimizer step.
        batch_size: used when ``fit``/``evaluate``/``predict`` get a Dataset, not a DataLoader.
        seed: seeds the shuffling of Datasets given to ``fit``.
        quiet: no progress bar and no messages (for scripts and CI).
        out_dir: adds ``ModelCheckpoint(out_dir, monitor=None, save_last=False)``, which writes
            ``out_dir/checkpoint.safetensors`` after every epoch and when the run stops.
        config: JSON-able data stored in every checkpoint (the CLI keeps its options there).
        monitor: the training doctor's ``Monitor`` callback (on by default: warns when training
            goes wrong, stops on a non-finite loss); False turns it off, or pass your own
            ``doctor.Monitor(...)``.
    """

    def __init__(
        self,
        model,
        loss,
        optimizer,
        scheduler=None,
        metrics=(),
        callbacks=(),
        grad_clip=None,
        accumulate=1,
        batch_size=32,
        seed=0,
        quiet=False,
        out_dir=None,
        config=None,
        monitor=True,
    ):
        if not callable(model) or not hasattr(model, "parameters"):
            raise TypeError(f"Trainer: model must be an nn.Module, got {type(model).__name__}")
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"Trainer: optimizer must be a neuronet.optim optimizer (or None to only "
                f"evaluate), got {type(optimizer).__name__}"
            )
        if grad_clip is not None and not (isinstance(grad_clip, (int, float)) and grad_clip > 0):
            raise ValueError(f"Trainer: grad_clip must be a positive number, got {grad_clip!r}")
        if getattr(scheduler, "interval", "epoch") not in ("epoch", "step"):
            raise ValueError(
                f"Trainer: scheduler.interval must be 'epoch' or 'step', got {scheduler.interval!r}"
            )
        bad = [cb for cb in callbacks if not isinstance(cb, Callback)]
        if bad:
            raise TypeError(
                f"Trainer: callbacks must be neuronet.train.Callback instances, got "
                f"{type(bad[0]).__name__}; subclass Callback and override its hooks"
            )
        self.model = model
        self.loss_fn = resolve_loss(loss)
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metric_specs = [get_metric(m) for m in metrics]  # unknown names fail here
        self.grad_clip = grad_clip
        self.accumulate = _positive_int("Trainer", "accumulate", accumulate)
        self.batch_size = _positive_int("Trainer", "batch_size", batch_size)
        self.generator = Generator(seed)
        self.quiet = quiet
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.config = config or {}
        self.history = History()
        self.lr_monitor = LRMonitor()
        self.user_callbacks = list(callbacks)
        self.monitor = None
        if monitor:  # the training doctor's live checks (neuronet/doctor/monitor.py)
            from neuronet.doctor.monitor import Monitor

            self.monitor = monitor if isinstance(monitor, Monitor) else Monitor()
        self.checkpointer = (
            ModelCheckpoint(self.out_dir, monitor=None, save_last=False) if out_dir else None
        )
        self.stop_training = False
        self.stop_reason = None
        self.interrupted = False
        self.nonfinite = None  # {'epoch', 'batch', 'step', 'loss'} of the first non-finite loss
        self.epoch = 0
        self.global_step = 0
        self.phase = "train"  # 'validate': the epoch's batches are done, its end is not
        self.progress = None  # EpochProgress of the epoch in progress
        self.steps_per_epoch = None
        self.batches_this_epoch = None  # what this epoch will run (resume and `steps` cut it)
        self.last_checkpoint = None  # the last file save_checkpoint wrote
        self._loader_in_use = None
        self._train_source = None
        self._partial_row = False  # the last history row is a step-capped partial epoch
        self._saved_now = None  # the file written at the last on_checkpoint, if any
        self._sigint = SigintGuard()
        self._ranks = distributed.SINGLE  # fit/evaluate set it (see the module docstring)

    # ---- helpers ----------------------------------------------------------------------------
    def fresh_metrics(self) -> list:
        """New metric objects (each epoch and evaluation starts from zero)."""
        return [copy.deepcopy(m) for m in self.metric_specs]

    def _loader(self, data, shuffle: bool, shard=None):
        # Only training batches draw from the trainer's generator; evaluation order is fixed.
        generator = self.generator if shuffle else Generator(0)
        sharded = self._ranks.loader(data, self.batch_size, shuffle, generator, shard)
        return sharded or make_loader(data, self.batch_size, shuffle, generator)

    def _forward(self, x, model=None):
        model = self.model if model is None else model
        return model(*x) if isinstance(x, tuple) else model(x)

    def _step_scheduler(self, per: str, logs: dict) -> None:
        s = self.scheduler
        if s is None or getattr(s, "interval", "epoch") != per:
            return
        if getattr(s, "needs_metric", False):
            key = getattr(s, "monitor", "val_loss")
            s.step(logs[key] if key in logs else logs["loss"])
        else:
            s.step()

    def _say(self, message: str) -> None:
        """The one place the loop prints (progress bars are callbacks); rank 0 only."""
        if not self.quiet and self._ranks.is_main:
            print(message, file=sys.stderr, flush=True)

    # ---- fit ----------------------------------------------------------------------------------
    def fit(self, train, val=None, epochs: int = 1, resume=None, steps: int | None = None):
        """Train until ``epochs`` epochs are done (or ``steps`` optimizer steps in total).

        Args:
            train: a Dataset (shuffled with the trainer's seed), a DataLoader, or an
                IterableDataset (in its order; without ``__len__`` an epoch ends when the
                stream does).
            val: optional validation Dataset or DataLoader, evaluated after each epoch.
            epochs: the total number of epochs (a resumed or continued run goes up to it).
            resume: a checkpoint a Trainer wrote (``ModelCheckpoint``'s checkpoint.safetensors).
            steps: an optional cap on the total number of optimizer steps. A cap inside an
                epoch still validates and logs that partial epoch; a later ``fit`` with a
                higher cap continues the epoch and replaces its row.

        Returns:
            The ``History`` (also ``trainer.history``).
        """
        epochs = _positive_int("Trainer.fit", "epochs", epochs)
        if steps is not None:
            steps = _positive_int("Trainer.fit", "steps", steps)
        if self.optimizer is None:
            raise ValueError("Trainer.fit: this Trainer has no optimizer; pass one to train")
        backend.prepare_run()  # malloc tuning, and a note when numba compiles (first run only)
        self._ranks = distributed.for_trainer()
        loader = self._training_loader(train)
        if val is not None and batch_count(self._loader(val, False, shard="eval")) == 0:
            raise ValueError("Trainer.fit: the validation data is empty (0 batches)")
        if resume is not None:
            self._restore(resume, loader)
        elif self._partial_row:  # continuing in memory after a step cap: the epoch goes on
            self.history.epochs.pop()
        self._partial_row = False
        progress = [] if self.quiet else [ProgressBar(epochs)]
        monitor = [self.monitor] if self.monitor is not None else []
        internal = [self.checkpointer] if self.checkpointer is not None else []
        every = [self.history, self.lr_monitor, *monitor, *self.user_callbacks, *progress]
        callbacks = CallbackList(self._ranks.callbacks([*every, *internal]), self)
        self.stop_training = False
        self.stop_reason = None
        self.interrupted = False
        try:
            with self._sigint:
                callbacks.on_train_begin({})
                outcome = self._run(loader, val, callbacks, epochs, steps)
                callbacks.on_train_end({"outcome": outcome})
        finally:
            if self.monitor is not None:
                self.monitor.close()
        self._report(outcome)
        return self.history

    def _training_loader(self, train):
        if train is self._train_source and self._loader_in_use is not None:
            loader = self._loader_in_use  # a stopped run continues where it stopped
            if self.phase == "train" and loader.batch_index > 0:
                loader.load_state_dict(loader.state_dict())  # the next iter() resumes the epoch
            return loader
        loader = self._loader(train, shuffle=True, shard="train")
        size = batch_count(loader)  # None: a stream without __len__, its epoch ends with it
        if size == 0:
            raise ValueError("Trainer.fit: the training data is empty (0 batches)")
        if size is None and self._ranks.world_size > 1:
            raise ValueError(
                f"Trainer.fit: under MPI the training data needs a length, but "
                f"{type(loader.dataset).__name__} is an IterableDataset without __len__: the "
                "ranks could run different numbers of batches and wait for each other forever; "
                "give it a __len__ (the batches each rank yields per epoch)"
            )
        if self.progress is not None or self.phase != "train":  # another data set: new epoch
            self.optimizer.zero_grad()
            self.progress, self.phase = None, "train"
        self._loader_in_use, self._train_source = loader, train
        self.steps_per_epoch = size
        return loader

    def _capped(self, steps) -> bool:
        return steps is not None and self.global_step >= steps

    def _run(self, loader, val, callbacks, epochs: int, steps) -> str:
        """Epochs until done; returns the outcome for ``on_train_end``."""
        while self.epoch < epochs and (self.phase == "validate" or not self._capped(steps)):
            if self.phase == "train":
                self._train_epoch(loader, callbacks, steps)
                if self.phase == "train":  # stopped inside the epoch
                    return self._stop_inside_epoch(val, callbacks, steps)
            if self._sigint.requested:
                return self._stop("interrupted", callbacks)
            if not self._end_epoch(val, callbacks):
                return self._stop("interrupted", callbacks)  # during validation
            (self.stop_training,) = self._ranks.agree(self.stop_training)
            self._checkpoint(callbacks, "epoch_end")
            if self.stop_training:
                return "stopped"
            if self._sigint.requested:
                self.interrupted = True
                return "interrupted"
        return "steps" if self._capped(steps) and self.epoch < epochs else "completed"

    def _stop(self, reason: str, callbacks) -> str:
        self.interrupted = reason == "interrupted"
        self._checkpoint(callbacks, reason)
        return reason

    def _stop_inside_epoch(self, val, callbacks, steps) -> str:
        if self._sigint.requested:
            return self._stop("interrupted", callbacks)
        if self.stop_training:
            return self._stop("stopped", callbacks)
        # A step cap: save the resumable state first, then log the partial epoch.
        self._checkpoint(callbacks, "steps")
        logs = self.progress.logs(self._ranks.reduce)
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        if val is not None:
            results = self._validate(val, callbacks)
            if results is None:
                self.interrupted = True
                return "interrupted"
            logs.update(results)
        callbacks.on_epoch_end(self.epoch, logs)
        self._partial_row = True
        return "steps"

    def _checkpoint(self, callbacks, reason: str) -> None:
        self._saved_now = None
        callbacks.on_checkpoint({"epoch": self.epoch, "step": self.global_step, "reason": reason})

    def _train_epoch(self, loader, callbacks, steps) -> None:
        self.model.train()
        if self.progress is None:
            self.progress = EpochProgress(self.fresh_metrics())
        start, batches = loader.batch_index, self.steps_per_epoch  # None: a stream
        left = None if batches is None else batches - start
        if steps is not None:
            cap = (steps - self.global_step) * self.accumulate - start % self.accumulate
            left = cap if left is None else min(left, cap)
        self.batches_this_epoch = left
        callbacks.on_epoch_begin(self.epoch, {"batch": start} if start else {})
        self._ranks.begin_epoch(loader, self.epoch)  # DistributedSampler.set_epoch
        model = self._ranks.wrap(self.model)  # DistributedDataParallel under MPI
        index = start - 1
        for index, batch in enumerate(loader, start):
            self._train_batch(index, batches, batch, callbacks, model)
            sigint, self.stop_training = self._ranks.agree(
                self._sigint.requested, self.stop_training
            )
            if sigint and not self._sigint.requested:  # another rank's Ctrl-C stops this one
                self._sigint.presses = 1
            last = batches is not None and index + 1 == batches
            if not last and (sigint or self.stop_training or self._capped(steps)):
                return
        if batches is None:  # the stream has ended, and with it the epoch
            if index < 0:
                raise ValueError("Trainer.fit: the training data is empty (0 batches)")
            if (index + 1) % self.accumulate:  # a partial accumulation group: its step now
                self._finish_group()
        elif index + 1 != batches:
            return
        self.progress.finish(self._ranks.reduce)
        self.phase = "validate"

    def _train_batch(self, index: int, batches, batch, callbacks, model) -> None:
        """Forward and backward on one batch, and the optimizer step when its accumulation
        group is complete (``batches`` None: a stream, whose last group ``_finish_group``
        completes)."""
        x, y = split_batch(batch)
        if y is None:
            raise ValueError(
                "Trainer.fit: the training batches hold inputs only; give (input, target) "
                "pairs, e.g. TensorDataset(x, y)"
            )
        callbacks.on_train_batch_begin(self.global_step, {"batch": index})
        output = self._forward(x, model)
        loss = self.loss_fn(output, y)
        stepped = (index + 1) % self.accumulate == 0 or index + 1 == batches
        with self._ranks.sync(self.model, stepped):  # no_sync() inside an accumulation group
            (loss / self.accumulate if self.accumulate > 1 else loss).backward()
        if stepped:
            self._update()
        value = float(loss.item())
        if not math.isfinite(value) and self.nonfinite is None:
            self.nonfinite = {
                "epoch": self.epoch,
                "batch": index,
                "step": self.global_step if stepped else self.global_step + 1,
                "loss": value,
            }
        n = len(y) if isinstance(y, Tensor) and y.ndim > 0 else 1
        self.progress.update(value, n, output, y)
        logs = {
            "loss": value,
            "lr": float(self.optimizer.param_groups[0]["lr"]),
            "batch_size": n,
            "epoch": self.epoch,
            "step": self.global_step,
        }
        if stepped:
            self._step_scheduler("step", logs)
        callbacks.on_train_batch_end(self.global_step, logs)

    def _update(self) -> None:
        """One optimizer step on the gradients accumulated so far."""
        if self.grad_clip is not None:
            from neuronet.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.global_step += 1

    def _finish_group(self) -> None:
        """The step of a stream's last, partial accumulation group, once the stream has ended
        (a per-step scheduler gets the logs of the group's last batch, as the History kept
        them: a run resumed just before this step has them too)."""
        self._update()
        self._step_scheduler("step", dict(self.history.steps[-1], step=self.global_step))

    def _end_epoch(self, val, callbacks) -> bool:
        """Validate, step the scheduler, log the epoch; False if Ctrl-C stopped validation."""
        logs = dict(self.progress.train_logs)
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])  # the rate the epoch used
        if val is not None:
            results = self._validate(val, callbacks)
            if results is None:
                return False
            logs.update(results)
        self._step_scheduler("epoch", logs)
        self.epoch += 1
        self.phase, self.progress = "train", None
        callbacks.on_epoch_end(self.epoch - 1, logs)
        return True

    def _validate(self, val, callbacks):
        """``val_*`` logs, or None when Ctrl-C stopped it (the RNGs are then put back, so
        validating again after a resume draws the same numbers)."""
        states = (get_rng_state(), np.random.get_state(), random.getstate())
        results = evaluation.evaluate(self, val, callbacks, interruptible=True)
        if results is None:
            set_rng_state(states[0])
            np.random.set_state(states[1])
            random.setstate(states[2])
            return None
        return {f"val_{k}": v for k, v in results.items()}

    # ---- evaluate / predict ---------------------------------------------------------------
    def evaluate(self, data, callbacks=None) -> dict:
        """Mean loss and every metric over ``data``, in eval mode without recording a graph."""
        return evaluation.evaluate(self, data, callbacks, interruptible=False)

    def predict(self, data) -> Tensor:
        """The model's outputs for every input in ``data``, concatenated along the batch."""
        return evaluation.predict(self, data)

    # ---- checkpoints --------------------------------------------------------------------------
    def checkpoint_refusal(self) -> str | None:
        """Why no checkpoint or weights file may be written now, or None if one may. The one
        place that decides: after a non-finite loss (or with non-finite weights) nothing is
        written, so the files on disk keep the last finite state. Under MPI only rank 0
        writes."""
        if not self._ranks.is_main:
            return "only rank 0 writes"
        if self.nonfinite is not None:
            return f"the loss became {self.nonfinite['loss']} at {self.where(self.nonfinite)}"
        for name, p in self.model.named_parameters():
            if not np.isfinite(p.array).all():
                return f"the parameter {name!r} holds NaN or Inf"
        return None

    def checkpoint_state(self) -> dict:
        """The loop's state for exact resume (see ``loop_state``). ``io.save_checkpoint``
        adds the model, optimizer, scheduler, data position and every RNG state."""
        return capture(self)

    def save_checkpoint(self, path):
        """Write model, optimizer, scheduler, data position, RNGs and loop state to ``path``
        (atomically; its folder is created). Returns the path, or None when
        ``checkpoint_refusal()`` forbids writing (the reason is reported at the end of fit)."""
        from neuronet.io import save_checkpoint

        if self.checkpoint_refusal() is not None:
            return None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_checkpoint(
            path,
            self.model,
            self.optimizer,
            self.scheduler,
            extra={"trainer": self.checkpoint_state()},
            data_loader=self._loader_in_use,
        )
        self.last_checkpoint = self._saved_now = path
        return path

    def _restore(self, path, loader) -> None:
        restore(self, path, loader)
        self.last_checkpoint = Path(path)

    # ---- the end of a run -------------------------------------------------------------------
    def where(self, at: dict) -> str:
        """'step S (epoch E, batch B/N)', 1-based, for a dict with 0-based epoch and batch."""
        return where(at, self.steps_per_epoch)

    def _report(self, outcome: str) -> None:
        message = end_of_run_message(self, outcome)
        if message is not None:
            self._say(message)
