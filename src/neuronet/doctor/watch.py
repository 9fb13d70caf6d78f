"""``watch``: observe the user's own training loop, unchanged, and report what went wrong.

    with doctor.watch(model, optimizer) as w:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
    print(w.report())

What it attaches (all undone on exit; the model, optimizer and RNG are left as they were):
- a forward pre-hook on the model that keeps the batch of the last forward (a C-level
  ``dict.__setitem__``: no Python runs for it), pre-hooks on BatchNorm layers (batches of one)
  and on the first Dropout/BatchNorm layer (evaluation without gradients in training mode);
- a wrapper around ``optimizer.step`` (an instance attribute shadowing the method);
- a backward observer (``autograd.tensor.BACKWARD_OBSERVERS``): the loss, taken at the next
  optimizer step (the last backward before a step is that step's: a GAN's other model's
  backward in between is not);
- after a checked step, a tensor hook on the first parameter it updated: at the next backward
  that reaches it, are that step's gradients still there, not zeroed (no ``zero_grad``)?
- a copy of every trainable parameter at entry (those that never change are reported).

Every step costs a loss read, a step count and a few Python calls. The rest runs on "full" steps
only. By default the watch bounds its own cost (``benchmarks/doctor_overhead.py`` measures it;
target: at most 5% of a step):
- the gradient check (the global norm, one BLAS dot product per gradient, which is non-finite
  when any element is; a spike check against the running median; the zero_grad check that
  follows it; the learning rate and the step time) runs every step unless it costs more than
  0.25% of a step (tiny models, large parameters), then every k-th step (k <= 20);
- the per-layer statistics (activations and gradients per layer through anomaly mode's op
  observer and tensor hooks, update/weight ratios) are sampled every 10 steps or rarer, so that
  sampling costs about 0.25% of the loop's time. A forward pre-hook that starts them is on the
  model only while a sampled step is due.
With an explicit ``every``, the statistics are sampled every ``every`` steps and every step is
a full step.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from contextlib import contextmanager
from functools import partial
from time import perf_counter

import numpy as np

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import BACKWARD_OBSERVERS, Tensor
from neuronet.doctor import numerics
from neuronet.doctor.inputs import check_model_and_optimizer
from neuronet.doctor.watch_gradients import GradientChecks
from neuronet.doctor.watch_report import build_report
from neuronet.doctor.watch_sampling import (
    KEEP_MEASUREMENTS,
    MIN_EVERY,
    SAMPLE_COSTS_KEPT,
    LayerSampling,
)

_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
_DROPOUTS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")


class watch(GradientChecks, LayerSampling):
    """Context manager that observes a training loop on ``model`` (and ``optimizer``).

    Args:
        model: the model being trained.
        optimizer: its optimizer (optional; without it, update checks are skipped).
        every: record per-layer statistics every this many steps, and check the gradients
            every step. Default (None): the watch bounds its cost as the loop runs: statistics
            every 10 steps, or less often when one sampled step costs more than 0.25% of the
            loop's time over that interval, and the gradients every step, or every k-th
            (k <= 20) when checking them costs more than 0.25% of a step.
        on_finding: optional callable ``on_finding(finding)`` called the moment a problem is
            seen (the ``Monitor`` callback prints them).
        track_loss: record the loss of each step, that of the last ``backward()`` before it
            (without an optimizer, of every ``backward()``).

    After the block (or during it), ``report()`` returns a ``Report``.
    """

    def __init__(
        self,
        model,
        optimizer=None,
        every: int | None = None,
        on_finding=None,
        track_loss: bool = True,
    ):
        check_model_and_optimizer("doctor.watch", model, optimizer)
        if every is not None and (int(every) != every or every < 1):
            raise ValueError(f"watch: every must be a positive int or None, got {every!r}")
        self.model = model
        self.optimizer = optimizer
        self.adaptive = every is None
        self.every = MIN_EVERY if every is None else int(every)
        # per-step series as packed doubles (8 bytes a step, not a 32-byte float object and a
        # list slot): a Monitor that watches a million steps keeps 32 MB, not ~300 MB
        self.step_seconds = array("d")
        self.intervals = array("d")
        self._next_sample = 0
        self.on_finding = on_finding
        self.track_loss = track_loss
        self.losses = array("d")
        self.val = []  # (step, value) from record(val_loss=...)
        self.grad_norms = array("d")  # the global gradient norm of the checked steps...
        self.grad_norm_steps = array("l")  # ...and which steps those were (0-based)
        self.lrs = array("d")  # the first group's learning rate at the full steps...
        self.lr_steps = array("l")  # ...which were these (0-based)
        self.steps = 0
        self.backwards = 0
        self.steps_checked = 0  # full steps followed by another backward()...
        self.grad_resets = 0  # ...and how many of those had cleared the gradients first
        self.accumulating = []  # steps whose gradients survived into the next backward
        self.eval_in_train = []
        self.batch_of_one = []
        self.live = []  # findings made while the loop ran
        # the last KEEP_MEASUREMENTS sampled steps (the Monitor reads the newest, diagnose's
        # short run all of its few): a long run's memory stays flat
        self.measurements = deque(maxlen=KEEP_MEASUREMENTS)
        self.spikes = []
        self._norm_every = 1  # a full step every this many steps (see _plan_norms)...
        self._next_norm = 0  # ...the next one
        self._norm_costs = []
        self._sample_costs = deque(maxlen=SAMPLE_COSTS_KEPT)
        self._codes_seen = set()
        self._own = 0  # inside own_forward()
        self._loss = None
        self._zero_grad_hook = None
        self._attached = False

    # ---- attach / detach ------------------------------------------------------------------
    def __enter__(self):
        self.attach()
        return self

    def __exit__(self, *exc):
        self.detach()
        return False

    def attach(self) -> None:
        if self._attached:
            return
        model = self.model
        # the batch of the last forward: dict.__setitem__(model, args), called from C
        self._inputs = {}
        self._handles = [model.register_forward_pre_hook(self._inputs.__setitem__)]
        self._stochastic = []
        for path, m in model.named_modules():
            kind = type(m).__name__
            if kind in _NORMS:
                self._handles.append(
                    m.register_forward_pre_hook(
                        lambda mod, args, path=path: self._check_norm(mod, args, path)
                    )
                )
            elif not (kind in _DROPOUTS and getattr(m, "p", 0) > 0):
                continue
            if not self._stochastic:  # one forward reaches it once: count evaluations there
                self._handles.append(m.register_forward_pre_hook(self._check_eval))
            self._stochastic.append(path)
        self._trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self._initial = {n: p.array.copy() for n, p in self._trainable}
        self._in_optimizer = set()
        if self.optimizer is not None:
            self._in_optimizer = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
        self._saved_attrs = []
        if self.optimizer is not None:
            self._wrap(self.optimizer, "step", self._step)
        self._observer = self._before_backward
        BACKWARD_OBSERVERS.append(self._observer)
        self._out_grad = None
        self._loss = None  # the array of the last backward's loss, until the step
        self._first = None
        self._zero_grad_hook = None
        self._sampling = None
        self._armed = None
        self._sample_started_cost = 0.0
        if self.steps == 0:  # a watch attached again carries on with its schedules
            self._next_sample = 0 if self.optimizer is not None else math.inf
            self._next_norm = 0
        self._last_full = None  # (perf_counter, steps) at the last full step
        self._nonfinite_seen = False
        self._groups_seen = -1
        self._next_full = min(self._next_norm, self._next_sample - 1)
        self._spike_above = math.inf
        self._spike_refresh_at = 11
        self._attached = True
        if self.steps >= self._next_sample:
            self._arm_sampling()

    def detach(self) -> None:
        if not self._attached:
            return
        if self._loss is not None:
            self._take_loss()
        self._stop_sampling()
        self._disarm_sampling()
        self._disarm_zero_grad_check()
        for h in self._handles:
            h.remove()
        for owner, name, had, old in reversed(self._saved_attrs):
            if had:
                object.__setattr__(owner, name, old)
            else:
                owner.__dict__.pop(name, None)
        BACKWARD_OBSERVERS.remove(self._observer)
        self._inputs = {}
        self._attached = False

    def _wrap(self, owner, name: str, wrapper) -> None:
        had = name in owner.__dict__
        original = getattr(owner, name)
        self._saved_attrs.append((owner, name, had, owner.__dict__.get(name)))
        # partial (C) rather than a closure: one Python frame per call, not two
        object.__setattr__(owner, name, partial(wrapper, original))

    # ---- what the user can add --------------------------------------------------------------
    def record(self, val_loss: float | None = None) -> None:
        """Tell the watch a validation loss (for ``train.overfitting``)."""
        if val_loss is not None:
            self.val.append((max(len(self.losses) - 1, 0), float(val_loss)))

    # ---- hooks --------------------------------------------------------------------------------
    def _emit(self, f) -> None:
        self.live.append(f)
        if self.on_finding is not None and f.code not in self._codes_seen:
            self.on_finding(f)
        self._codes_seen.add(f.code)

    @property
    def _last_inputs(self):
        """The arguments of the model's last forward (None before the first)."""
        return self._inputs.get(self.model)

    def _check_eval(self, module, args) -> None:
        """On the first Dropout/BatchNorm layer: a forward without gradients (evaluation) while
        that layer is in training mode."""
        if module.training and not is_grad_enabled() and not self._own:
            self.eval_in_train.append(self.steps)

    @contextmanager
    def own_forward(self):
        """A block whose forwards are the caller's own probes (diagnose's fixed-batch loss), not
        the loop's evaluation: evaluation in training mode is not counted there."""
        self._own += 1
        try:
            yield
        finally:
            self._own -= 1

    def _check_norm(self, module, args, path) -> None:
        x = args[0] if args else None
        if module.training and isinstance(x, Tensor) and x.ndim >= 2 and x.shape[0] == 1:
            per_channel = int(np.prod(x.shape[2:])) if x.ndim > 2 else 1
            self.batch_of_one.append(
                {"step": self.steps, "module": path, "values_per_channel": per_channel}
            )

    def _before_backward(self, tensor) -> None:
        """Every ``backward()`` from a single value: its loss. With an optimizer the loss waits
        for the step (``_take_loss``): the last backward before this optimizer's step is that
        step's, while in a loop that trains two models (a GAN) the other model's backward
        comes and goes in between."""
        a = tensor.array
        if a.size != 1:
            return
        self.backwards += 1
        if self.track_loss:
            self._loss = a
            if self.optimizer is None:
                self._take_loss()

    def _take_loss(self) -> None:
        """Record the pending loss (a non-finite one is traced to its source at once)."""
        value = self._loss.item()
        self._loss = None
        self.losses.append(value)
        if not math.isfinite(value) and not self._nonfinite_seen:
            self._nonfinite_seen = True
            self.nonfinite(value, self.steps + 1)

    def _arm_zero_grad_check(self, p, g) -> None:
        """After a checked step: at the next backward that reaches ``p`` (the first parameter
        the step updated, so a backward of this model), is the step's gradient ``g`` still in
        ``p.grad``, and not zeroed? Then no ``zero_grad`` ran in between. A tensor hook on
        ``p``, removed when it has looked (or at the next checked step)."""
        self._disarm_zero_grad_check()

        def check(grad):
            self._disarm_zero_grad_check()
            self.steps_checked += 1
            if p.grad is g and g.array.any():
                self.accumulating.append(self.steps)
                if len(self.accumulating) >= 2:
                    self._emit_zero_grad()
            else:
                self.grad_resets += 1

        self._zero_grad_hook = p.register_hook(check)

    def _disarm_zero_grad_check(self) -> None:
        if self._zero_grad_hook is not None:
            self._zero_grad_hook.remove()
            self._zero_grad_hook = None

    def nonfinite(self, value, step) -> list:
        """Report a non-finite loss at ``step`` (1-based, the step it would have been): name its
        source (replays the forward)."""
        found = numerics.locate(
            self.model, self._last_inputs, f"at step {step} the loss was {value}"
        )
        unchecked = self.grad_norm_steps and self.grad_norm_steps[-1] < self.steps - 1
        for f in found:
            if unchecked and f.evidence.get("parameters"):
                f.prescription += (
                    f" (this watch checked the gradients every {self._norm_every} steps, to bound "
                    f"its cost, and step {self.steps} was not checked: watch(..., every=N) "
                    "checks every step and names the op whose gradient went non-finite)"
                )
            self._emit(f)
        return found

    def _emit_zero_grad(self):
        from neuronet.doctor.findings import finding

        if "opt.missing_zero_grad" in self._codes_seen:
            return
        self._emit(
            finding(
                "opt.missing_zero_grad",
                f"the gradients used by optimizer step {self.accumulating[0]} were still in .grad "
                f"when the next backward() ran ({len(self.accumulating)} steps so far): each step "
                "adds to the previous gradients",
                evidence={"steps": self.accumulating[:20], "gradient_resets": self.grad_resets},
                strength=3.0,
            )
        )

    def _step(self, original, *args, **kwargs):
        """``optimizer.step`` while attached: the loss and the step count; the rest on full
        steps only."""
        if self.steps < self._next_full:
            if self._loss is not None:
                self._take_loss()
            result = original(*args, **kwargs)
            self.steps += 1
            return result
        return self._full_step(original, args, kwargs)

    def _full_step(self, original, args, kwargs):
        """The step time (averaged over the steps since the last full step), the learning rate,
        the gradient check when due and, on a sampled step, the update/weight ratios."""
        if self._loss is not None:
            self._take_loss()
        now = perf_counter()
        last = self._last_full
        if last is not None and self.steps > last[1]:
            self.step_seconds.append((now - last[0]) / (self.steps - last[1]))
        self._last_full = (now, self.steps)
        self.lrs.append(self.optimizer.param_groups[0]["lr"])
        self.lr_steps.append(self.steps)
        if self.steps >= self._next_norm:
            self._check_gradients(now)
        if self._sampling is None:
            result = original(*args, **kwargs)
            self.steps += 1
        else:
            started = perf_counter()
            before = self._sample_weights()
            copied = perf_counter()
            result = original(*args, **kwargs)
            self.steps += 1
            finishing = perf_counter()
            self._finish_sample(before)
            self._plan_next(copied - started + perf_counter() - finishing)
        if self._first is not None:  # the gradients were checked: so will be their reset
            self._arm_zero_grad_check(*self._first)
            self._first = None
        if self.steps >= self._next_sample:  # the next step is sampled, and full
            self._arm_sampling()
            self._next_full = self.steps
        else:  # the next gradient check, or the step before a sampled one (it times that one)
            self._next_full = min(self._next_norm, self._next_sample - 1)
        return result

    # ---- results ------------------------------------------------------------------------------
    def report(self):
        """A ``Report`` of everything seen so far."""
        if self._attached and self._loss is not None:  # a backward() not followed by a step
            self._take_loss()
        return build_report(self)
