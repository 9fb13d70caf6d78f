"""Trainer: fit, evaluate and predict, with callbacks, metrics, clipping, accumulation,
exact-resume checkpoints and safe Ctrl-C.

One optimizer step is::

    model.train()
    for each batch (x, y):
        loss = loss_fn(model(x), y) / accumulate
        loss.backward()
        every `accumulate` batches:  clip gradients -> optimizer.step() -> zero_grad()
                                     -> scheduler.step() if it steps per batch
    at the end of the epoch: evaluate on val, scheduler.step() if it steps per epoch

``fit(..., resume=path)`` restores weights, optimizer, scheduler, every RNG and the position in
the data, so N epochs straight and N/2 + resume + N/2 give bitwise identical weights.
Ctrl-C (SIGINT) stops after the current batch, writes a checkpoint and returns the history.

Under MPI (``mpiexec -n N``, or after ``neuronet.distributed.init()``) the same loop runs on
every rank: ``self._ranks`` (``neuronet.distributed.training``) shards the data, wraps the model
in DistributedDataParallel, reduces the epoch's loss and metrics across ranks, agrees on
stopping, and lets only rank 0 print and write. Single-process, every ``_ranks`` call is a no-op.
"""

from __future__ import annotations

import copy
import signal
import sys
import threading
from pathlib import Path

import numpy as np

from neuronet import backend
from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.distributed import training as distributed
from neuronet.random import Generator
from neuronet.train.batches import make_loader, split_batch
from neuronet.train.callbacks.base import CallbackList
from neuronet.train.callbacks.history import History
from neuronet.train.callbacks.lr_monitor import LRMonitor
from neuronet.train.callbacks.progress_bar import ProgressBar
from neuronet.train.losses import resolve_loss
from neuronet.train.metrics import get_metric

CHECKPOINT_NAME = "checkpoint.safetensors"


class Trainer:
    """Trains a model: the loop of Keras's ``fit`` and Lightning's ``Trainer`` for neuronet.

    Args:
        model: an ``nn.Module``.
        loss: a loss module or function ``loss(output, target)``, or a name ('cross_entropy',
            'mse', 'l1', 'bce_with_logits', ...).
        optimizer: a ``neuronet.optim`` optimizer over the model's parameters.
        scheduler: a learning-rate scheduler; stepped per batch or per epoch as it declares
            (``scheduler.interval``); ``ReduceLROnPlateau`` gets the monitored value.
        metrics: names ('accuracy', 'top5_accuracy', 'f1', 'mse', 'r2', 'perplexity', ...) or
            ``Metric`` objects, computed on the training batches and on validation data.
        callbacks: extra ``Callback`` objects (History, LRMonitor and a progress bar are added).
        grad_clip: clip the global gradient norm to this value before each step.
        accumulate: accumulate gradients over this many batches per optimizer step.
        batch_size: used when ``fit``/``evaluate``/``predict`` get a Dataset, not a DataLoader.
        seed: seeds the shuffling of Datasets given to ``fit``.
        quiet: no progress bar and no epoch lines (for scripts and CI).
        out_dir: where ``checkpoint.safetensors`` is written after every epoch and on Ctrl-C.
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
        if accumulate < 1 or int(accumulate) != accumulate:
            raise ValueError(f"Trainer: accumulate must be a positive int, got {accumulate!r}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"Trainer: grad_clip must be a positive number, got {grad_clip!r}")
        self.model = model
        self.loss_fn = resolve_loss(loss)
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.metric_specs = list(metrics)
        self.grad_clip = grad_clip
        self.accumulate = int(accumulate)
        self.batch_size = batch_size
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
        self.stop_training = False
        self.stop_reason = None
        self.interrupted = False
        self.epoch = 0
        self.global_step = 0
        self.steps_per_epoch = None
        self.batches_this_epoch = None  # what this epoch will run (resume and `steps` cut it)
        self._sigint = False
        self._loader_in_use = None
        self._ranks = distributed.SINGLE  # fit/evaluate set it (see the module docstring)

    # ---- helpers ----------------------------------------------------------------------------
    def _metrics(self) -> list:
        """Fresh metric objects (each fit epoch and evaluation starts from zero)."""
        return [copy.deepcopy(get_metric(m)) for m in self.metric_specs]

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
        if type(s).__name__ == "ReduceLROnPlateau":
            key = getattr(s, "monitor", "val_loss")
            value = logs.get(key, logs.get("loss"))
            s.step(value)
        else:
            s.step()

    def _clip(self) -> None:
        from neuronet.nn.utils import clip_grad_norm_

        clip_grad_norm_(self.model.parameters(), self.grad_clip)

    # ---- fit ----------------------------------------------------------------------------------
    def fit(self, train, val=None, epochs: int = 1, resume=None, steps: int | None = None):
        """Train for ``epochs`` epochs (or stop after ``steps`` optimizer steps in total).

        Args:
            train: a Dataset (shuffled with the trainer's seed) or a DataLoader.
            val: optional validation Dataset or DataLoader, evaluated after each epoch.
            epochs: the total number of epochs (a resumed run continues up to it).
            resume: a checkpoint written by this trainer (``out_dir/checkpoint.safetensors``).
            steps: an optional cap on the total number of optimizer steps.

        Returns:
            The ``History`` (also ``trainer.history``).
        """
        backend.prepare_run()  # malloc tuning, and a note when numba compiles (first run only)
        self._ranks = distributed.for_trainer()
        loader = self._loader(train, shuffle=True, shard="train")
        self.steps_per_epoch = len(loader)
        if resume is not None:
            self._restore(resume, loader)
        progress = [] if self.quiet else [ProgressBar(epochs)]
        monitor = [self.monitor] if self.monitor is not None else []
        callbacks = CallbackList(
            self._ranks.callbacks(
                [self.history, self.lr_monitor, *monitor, *self.user_callbacks, *progress]
            ),
            self,
        )
        self.stop_training = False
        self._install_sigint()
        try:
            callbacks.on_train_begin({})
            while self.epoch < epochs and not self.stop_training:
                logs = self._train_epoch(loader, callbacks, steps)
                if self.interrupted:
                    break
                if val is not None:
                    logs.update(
                        {f"val_{k}": v for k, v in self.evaluate(val, callbacks=callbacks).items()}
                    )
                self._step_scheduler("epoch", logs)
                self.epoch += 1
                callbacks.on_epoch_end(self.epoch - 1, logs)
                (self.stop_training,) = self._ranks.agree(self.stop_training)
                self.save_checkpoint()
                if steps is not None and self.global_step >= steps:
                    break
            callbacks.on_train_end({})
        finally:
            self._restore_sigint()
            if self.monitor is not None:
                self.monitor.close()
        if self.interrupted:
            path = self.save_checkpoint(interrupted=True)
            if not self.quiet and self._ranks.is_main:
                print(
                    f"Interrupted: stopped after step {self.global_step}; checkpoint written "
                    f"to {path}",
                    file=sys.stderr,
                )
        return self.history

    def _train_epoch(self, loader, callbacks, steps) -> dict:
        self.model.train()
        metrics = self._metrics()
        for m in metrics:
            m.reset()
        self._loader_in_use = loader
        loss_sum = 0.0
        count = 0
        batches = len(loader)
        self._ranks.begin_epoch(loader, self.epoch)  # DistributedSampler.set_epoch
        iterator = iter(loader)  # a resumed loader starts at its saved batch
        self.batches_this_epoch = batches - loader.batch_index
        if steps is not None:
            left = (steps - self.global_step) * self.accumulate
            self.batches_this_epoch = max(0, min(self.batches_this_epoch, left))
        callbacks.on_epoch_begin(self.epoch, {})
        model = self._ranks.wrap(self.model)  # DistributedDataParallel under MPI
        for index, batch in enumerate(iterator, loader.batch_index):
            x, y = split_batch(batch)
            callbacks.on_train_batch_begin(self.global_step, {})
            output = self._forward(x, model)
            loss = self.loss_fn(output, y)
            last = index + 1 == batches
            step_now = (index + 1) % self.accumulate == 0 or last
            with self._ranks.sync(self.model, step_now):  # no_sync() inside a group
                (loss / self.accumulate if self.accumulate > 1 else loss).backward()
            if step_now:
                if self.grad_clip is not None:
                    self._clip()
                self.optimizer.step()
                self.optimizer.zero_grad()
                self.global_step += 1
            value = float(loss.item())
            n = len(y) if isinstance(y, Tensor) and y.ndim > 0 else 1
            loss_sum += value * n
            count += n
            for m in metrics:
                m.update(output.array, y.array if isinstance(y, Tensor) else y)
            logs = {
                "loss": value,
                "lr": float(self.optimizer.param_groups[0]["lr"]),
                "batch_size": n,
                "epoch": self.epoch,
                "step": self.global_step,
            }
            self._step_scheduler("step", logs)
            callbacks.on_train_batch_end(self.global_step, logs)
            sigint, self.stop_training = self._ranks.agree(self._sigint, self.stop_training)
            if sigint:
                self.interrupted = True
                break
            if self.stop_training or (steps is not None and self.global_step >= steps):
                break
        loss_sum, count = self._ranks.reduce(loss_sum, count, metrics)  # over all ranks
        logs = {"loss": loss_sum / max(count, 1)}
        logs.update({m.name: m.compute() for m in metrics})
        logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
        return logs

    # ---- evaluate / predict ---------------------------------------------------------------
    def evaluate(self, data, callbacks=None) -> dict:
        """Mean loss and every metric over ``data``, in eval mode without recording a graph."""
        was_training = self.model.training
        self.model.eval()
        self._ranks = distributed.for_trainer()
        self._ranks.sync_buffers(self.model)  # rank 0's running statistics everywhere
        metrics = self._metrics()
        for m in metrics:
            m.reset()
        loss_sum = 0.0
        count = 0
        if callbacks is not None:
            callbacks.on_test_begin({})
        try:
            with no_grad():
                for index, batch in enumerate(self._loader(data, False, shard="eval")):
                    x, y = split_batch(batch)
                    output = self._forward(x)
                    n = len(y) if isinstance(y, Tensor) and y.ndim > 0 else 1
                    loss_sum += float(self.loss_fn(output, y).item()) * n
                    count += n
                    for m in metrics:
                        m.update(output.array, y.array if isinstance(y, Tensor) else y)
                    if callbacks is not None:
                        callbacks.on_test_batch_end(index, {})
        finally:
            self.model.train(was_training)
        loss_sum, count = self._ranks.reduce(loss_sum, count, metrics)  # over all ranks
        result = {"loss": loss_sum / max(count, 1)}
        result.update({m.name: m.compute() for m in metrics})
        if callbacks is not None:
            callbacks.on_test_end(result)
        return result

    def predict(self, data) -> Tensor:
        """The model's outputs for every input in ``data``, concatenated along the batch."""
        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in self._loader(data, shuffle=False):
                    x, _ = split_batch(batch, need_target=False)
                    outputs.append(self._forward(x).array)
        finally:
            self.model.train(was_training)
        return Tensor(np.concatenate(outputs, axis=0))

    # ---- checkpoints --------------------------------------------------------------------------
    def checkpoint_state(self) -> dict:
        """The loop's state for exact resume (JSON-able). ``io.save_checkpoint`` adds the
        model, optimizer, scheduler and every RNG state."""
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "loader": self._loader_in_use.state_dict() if self._loader_in_use else None,
            "history": self.history.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.user_callbacks],
            "config": self.config,
            **self._ranks.checkpoint_state(),  # the world size under MPI
        }

    def save_checkpoint(self, path=None, interrupted: bool = False):
        """Write model, optimizer, scheduler and loop state to one .safetensors file."""
        from neuronet.io import save_checkpoint

        if not self._ranks.is_main:  # under MPI rank 0 writes, the others hold the same state
            return None
        if path is None:
            if self.out_dir is None:
                if not interrupted:
                    return None
                path = Path("neuronet-interrupted.safetensors")
            else:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                path = self.out_dir / CHECKPOINT_NAME
        save_checkpoint(
            path,
            self.model,
            self.optimizer,
            self.scheduler,
            extra={"trainer": self.checkpoint_state()},
        )
        return path

    def _restore(self, path, loader) -> None:
        from neuronet.io import load_checkpoint

        extra = load_checkpoint(path, self.model, self.optimizer, self.scheduler)
        state = extra.get("trainer")
        if state is None:
            raise ValueError(
                f"{path} is a checkpoint without training-loop state (written by io.save?); "
                "resume needs a file written by Trainer (out_dir/checkpoint.safetensors)"
            )
        self._ranks.check_resume(path, state)
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        if state.get("loader") is not None:
            loader.load_state_dict(state["loader"])
        self.history.load_state_dict(state.get("history", {}))
        for cb, cb_state in zip(self.user_callbacks, state.get("callbacks", [])):
            cb.load_state_dict(cb_state)

    # ---- Ctrl-C -----------------------------------------------------------------------------
    def _install_sigint(self) -> None:
        self._sigint = False
        self.interrupted = False
        self._old_handler = None
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum, frame):
            if self._sigint:  # a second Ctrl-C: stop right now
                raise KeyboardInterrupt
            self._sigint = True

        self._old_handler = signal.signal(signal.SIGINT, handler)

    def _restore_sigint(self) -> None:
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
            self._old_handler = None
