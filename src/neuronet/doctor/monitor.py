"""Monitor: the doctor inside ``Trainer.fit`` (on by default), warning the moment training goes
wrong, with the same codes and prescriptions as ``diagnose``.

It runs a ``watch`` on the trainer's model and optimizer for the whole fit and, after each batch:
- a non-finite loss: names where it came from (the op and module, by replaying the step in
  anomaly mode before the update is applied), prints it, and stops training
  (``trainer.stop_training = True``, ``trainer.stop_reason`` naming the step, epoch and batch);
  the checkpoint of the last good epoch is what remains;
- every ``check_every`` steps: the loss curve (``train.diverging``: the loss rising well above
  its best), gradient-norm spikes (``grad.exploding``), dead ReLU units and saturated
  activations in the latest sampled step (``act.dead_relu``, ``act.saturated``);
- at each epoch end, the validation loss feeds ``train.overfitting``.
Each code is printed once. ``monitor.report()`` gives the full ``Report`` afterwards.

All output goes through ``say``, one function, so a distributed run can print on one rank only.
"""

from __future__ import annotations

import math
import sys

from neuronet.doctor import curves, grad_flow
from neuronet.doctor.findings import Collector
from neuronet.doctor.watch import watch
from neuronet.doctor.watch_report import SPIKE_CAUSES, build_report
from neuronet.train.callbacks.base import Callback

_WINDOW = 2000  # the loss curve is read over at most this many recent steps


def say(message: str) -> None:
    """Print one Monitor message (stderr). The single place Monitor output goes through; under
    MPI only rank 0 prints (every rank runs the Monitor and agrees on stopping)."""
    from neuronet.distributed.process_group import is_main_process

    if is_main_process():
        print(message, file=sys.stderr, flush=True)


class Monitor(Callback):
    """Training-doctor callback: warns on problems as they happen, stops on a non-finite loss.

    Args:
        every: record per-layer statistics every this many steps (default: adaptive, as
            ``watch``: every 10 steps or rarer, so that it costs about 0.25% of training).
        check_every: read the loss curve and the statistics every this many steps (default 50).
        stop_on_nan: stop training at the first non-finite loss (default True).
        verbose: print warnings (default: unless the trainer is quiet; errors always print).
    """

    def __init__(
        self,
        every: int | None = None,
        check_every: int = 50,
        stop_on_nan: bool = True,
        verbose: bool | None = None,
    ):
        self.every = every
        self.check_every = check_every
        self.stop_on_nan = stop_on_nan
        self.verbose = verbose
        self.watch = None
        self.findings = []
        self.epoch = 0
        self.batch = 0
        self._last_report = None

    # ---- output ------------------------------------------------------------------------------
    def _show(self, f) -> None:
        self.findings.append(f)
        quiet = getattr(self.trainer, "quiet", False) if self.verbose is None else not self.verbose
        if quiet and f.severity != "error":
            return
        where = f" [{f.module}]" if f.module else ""
        say(f"neuronet doctor: {f.severity} {f.code}{where}: {f.message}\n  fix: {f.prescription}")

    # ---- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.close()
        self.findings = []
        self.watch = watch(
            self.trainer.model, self.trainer.optimizer, every=self.every, on_finding=self._show
        )
        self.watch.attach()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.batch = 0

    def on_train_batch_end(self, step, logs=None):
        w = self.watch
        if w is None:
            return
        self.batch += 1
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self._stop(loss, step)
            return
        if len(w.losses) % self.check_every == 0 and w.losses:
            self._check()

    def on_epoch_end(self, epoch, logs=None):
        if self.watch is not None and logs and logs.get("val_loss") is not None:
            self.watch.record(val_loss=logs["val_loss"])
            found = [
                f
                for f in curves.analyse(self.watch.losses[-_WINDOW:], self.watch.val)
                if f.code == "train.overfitting"
            ]
            for f in found:
                self._once(f)

    def on_train_end(self, logs=None):
        if self.watch is not None:
            self._last_report = build_report(self.watch, where="training")
        self.close()

    # ---- checks ----------------------------------------------------------------------------------
    def _once(self, f) -> None:
        if f.code in self.watch._codes_seen:
            return
        self.watch._emit(f)

    def _stop(self, loss, step) -> None:
        w = self.watch
        cause = next(
            (f for f in w.live if f.code in ("numerics.non_finite", "data.non_finite")), None
        )
        reason = (
            f"the training loss became {loss} at step {step} (epoch {self.epoch}, batch "
            f"{self.batch})"
        )
        if cause is not None:
            reason += f": {cause.message}"
        if self.stop_on_nan:
            self.trainer.stop_training = True
            self.trainer.stop_reason = reason
            fix = f" Fix: {cause.prescription}" if cause is not None else ""
            say(f"neuronet doctor: stopping: {reason}.{fix}")

    def _check(self) -> None:
        w = self.watch
        for f in curves.analyse(w.losses[-_WINDOW:], where="training"):
            if f.code == "train.diverging":
                self._once(f)
        big = [s for s in w.spikes if s["ratio"] >= 100]
        if len(w.spikes) >= 3 or big:
            worst = max(w.spikes, key=lambda s: s["ratio"])
            sink = Collector()
            sink.add(
                "grad.exploding",
                f"the gradient norm spiked to {worst['norm']:.3g} at step {worst['step']} "
                f"({worst['ratio']:.0f}x its running median; {len(w.spikes)} spikes)",
                evidence={"spikes": w.spikes[:20]},
                causes=SPIKE_CAUSES,
                can_explain=False,
            )
            self._once(sink.findings[0])
        if w.measurements:
            sink = Collector()
            grad_flow.check(
                sink,
                grad_flow.summarise([w.measurements[-1]]),
                "during training",
                during_training=w.measurements[-1].step > 0,
            )
            for f in sink.findings:
                if f.code.startswith("act."):
                    self._once(f)

    # ---- results ---------------------------------------------------------------------------------
    def report(self):
        """The ``Report`` of the last fit (or of the fit in progress)."""
        if self.watch is not None:
            return build_report(self.watch, where="training")
        return self._last_report

    def close(self) -> None:
        """Detach the watch (idempotent; the Trainer calls it even when fit raises)."""
        if self.watch is not None:
            self.watch.detach()
            self.watch = None

    def state_dict(self) -> dict:
        return {}
