"""``watch``: observe the user's own training loop, unchanged, and report what went wrong.

    with doctor.watch(model, optimizer) as w:
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
    print(w.report())

What it attaches (all undone on exit; the model, optimizer and RNG are left as they were):
- a forward pre-hook and hook on the model (the batch of the last step, evaluation without
  gradients in training mode) and pre-hooks on BatchNorm layers (batches of one);
- wrappers around ``optimizer.step``/``zero_grad`` and ``model.zero_grad`` (instance attributes
  shadowing the methods), and around ``Tensor.backward`` while a watch is active (the loss value,
  and whether the previous step's gradients are still there: no ``zero_grad``);
- a copy of every trainable parameter at entry (those that never change are reported).

Every step costs a loss read, a check that the step's gradients are finite and their norms (one
BLAS dot product per gradient) and a few Python calls. Every ``every``-th step also records
activations and gradients per layer (anomaly mode's op observer and tensor hooks) and
update/weight ratios; by default the interval adapts so that this sampling costs about 2% of the
loop's time.
``benchmarks/doctor_overhead.py`` measures the total (target: at most 5% of a step).
"""

from __future__ import annotations

import math
import time
from array import array
from collections import deque

import numpy as np

from neuronet.autograd.anomaly import observe
from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor
from neuronet.doctor import numerics
from neuronet.doctor.grad_flow import Measurement, record_layers
from neuronet.doctor.watch_report import build_report

KEEP_MEASUREMENTS = 100  # sampled steps kept (each ~1-2 KB: per-layer statistics)
_ACTIVE = []
_ORIGINAL = {}
SPIKE = 10.0
MIN_EVERY = 10  # sample per-layer statistics at most every 10 steps...
MAX_EVERY = 1000
SAMPLE_SHARE = 0.02  # ...and, by default, rarely enough that sampling costs 2% of the loop
_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
_DROPOUTS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")


def _patched_backward(self, *args, **kwargs):
    for w in list(_ACTIVE):
        w._before_backward(self)
    return _ORIGINAL["backward"](self, *args, **kwargs)


class watch:
    """Context manager that observes a training loop on ``model`` (and ``optimizer``).

    Args:
        model: the model being trained.
        optimizer: its optimizer (optional; without it, update checks are skipped).
        every: record per-layer statistics every this many steps. Default (None): every 10
            steps, or less often when one sampled step costs more than 2% of the loop's time
            over that interval (measured as the loop runs).
        on_finding: optional callable ``on_finding(finding)`` called the moment a problem is
            seen (the ``Monitor`` callback prints them).
        track_loss: read the loss from every ``backward()`` (the Monitor feeds it instead).

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
        self.grad_norms = array("d")
        self.lrs = array("d")
        self.steps = 0
        self.backwards = 0
        self.forwards = 0
        self.zero_grads = 0
        self.accumulating = []  # steps whose gradients survived into the next backward
        self.eval_in_train = []
        self.batch_of_one = []
        self.live = []  # findings made while the loop ran
        # the last KEEP_MEASUREMENTS sampled steps (the Monitor reads the newest, diagnose's
        # short run all of its few): a long run's memory stays flat
        self.measurements = deque(maxlen=KEEP_MEASUREMENTS)
        self.spikes = []
        self._codes_seen = set()
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
        self._handles = [model.register_forward_pre_hook(self._pre_forward)]
        self._stochastic = []
        for path, m in model.named_modules():
            kind = type(m).__name__
            if kind in _NORMS:
                self._stochastic.append(path)
                self._handles.append(
                    m.register_forward_pre_hook(
                        lambda mod, args, path=path: self._check_norm(mod, args, path)
                    )
                )
            elif kind in _DROPOUTS and getattr(m, "p", 0) > 0:
                self._stochastic.append(path)
        self._trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self._initial = {n: p.array.copy() for n, p in self._trainable}
        self._in_optimizer = set()
        if self.optimizer is not None:
            self._in_optimizer = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
        self._saved_attrs = []
        if self.optimizer is not None:
            self._wrap(self.optimizer, "step", self._step)
            self._wrap(self.optimizer, "zero_grad", self._zero_grad)
        self._wrap(model, "zero_grad", self._zero_grad)
        if not _ACTIVE:
            _ORIGINAL["backward"] = Tensor.backward
            Tensor.backward = _patched_backward
        _ACTIVE.append(self)
        self._last_inputs = None
        self._out_grad = None
        self._stepped = None
        self._sampling = None
        self._sample_started_cost = 0.0
        if self.steps == 0:
            self._next_sample = 0
        self._last_step_at = None
        self._nonfinite_seen = False
        self._attached = True

    def detach(self) -> None:
        if not self._attached:
            return
        self._stop_sampling()
        for h in self._handles:
            h.remove()
        for owner, name, had, old in reversed(self._saved_attrs):
            if had:
                object.__setattr__(owner, name, old)
            else:
                owner.__dict__.pop(name, None)
        _ACTIVE.remove(self)
        if not _ACTIVE:
            Tensor.backward = _ORIGINAL.pop("backward")
        self._last_inputs = None
        self._attached = False

    def _wrap(self, owner, name: str, wrapper) -> None:
        had = name in owner.__dict__
        original = getattr(owner, name)
        self._saved_attrs.append((owner, name, had, owner.__dict__.get(name)))

        def call(*args, **kwargs):
            return wrapper(original, *args, **kwargs)

        object.__setattr__(owner, name, call)

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

    def _pre_forward(self, module, args):
        self.forwards += 1
        if not is_grad_enabled():
            if module.training and self._stochastic:
                self.eval_in_train.append(self.steps)
            return None
        self._last_inputs = args
        if self._sampling is not None:
            self._stop_sampling()
        if self.steps >= self._next_sample and self.optimizer is not None:
            self._start_sampling()
        return None

    def _post_forward(self, module, args, out):
        """Registered only for a sampled step: leave anomaly mode, keep dL/d(output)."""
        s = self._sampling
        if s is not None and s["mode"] is not None:
            s["mode"].__exit__(None, None, None)
            s["mode"] = None
        if isinstance(out, Tensor) and out.requires_grad:

            def keep(g, step=self.steps):
                self._out_grad = (step, g.array)

            out.register_hook(keep)
        return None

    def _check_norm(self, module, args, path) -> None:
        x = args[0] if args else None
        if module.training and isinstance(x, Tensor) and x.ndim >= 2 and x.shape[0] == 1:
            per_channel = int(np.prod(x.shape[2:])) if x.ndim > 2 else 1
            self.batch_of_one.append(
                {"step": self.steps, "module": path, "values_per_channel": per_channel}
            )

    def _start_sampling(self) -> None:
        started = time.perf_counter()
        result = Measurement(self.steps)
        handles, observer = record_layers(self.model, result, root=self.model)
        handles.append(self.model.register_forward_hook(self._post_forward))
        mode = observe(observer)
        mode.__enter__()
        self._sampling = {"result": result, "handles": handles, "mode": mode}
        self._sample_started_cost = time.perf_counter() - started

    def _stop_sampling(self) -> None:
        s = self._sampling
        if s is None:
            return
        if s["mode"] is not None:
            s["mode"].__exit__(None, None, None)
        for h in s["handles"]:
            h.remove()
        self._sampling = None

    def _before_backward(self, tensor) -> None:
        if tensor.array.size != 1:
            return
        self.backwards += 1
        if self._stepped is not None:
            for p, g in self._stepped:
                if p.grad is not None and p.grad is g and g.array.any():
                    self.accumulating.append(self.steps)
                    if len(self.accumulating) >= 2:
                        self._emit_zero_grad()
                    break
            self._stepped = None
        if not self.track_loss:
            return
        value = float(tensor.array.reshape(()))
        self.losses.append(value)
        if not math.isfinite(value) and not self._nonfinite_seen:
            self._nonfinite_seen = True
            self.nonfinite(value, self.steps + 1)

    def nonfinite(self, value, step) -> list:
        """Report a non-finite loss at ``step`` (1-based, the step it would have been): name its
        source (replays the forward)."""
        found = numerics.locate(
            self.model, self._last_inputs, f"at step {step} the loss was {value}"
        )
        for f in found:
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
                evidence={"steps": self.accumulating[:20], "zero_grad_calls": self.zero_grads},
                strength=3.0,
            )
        )

    def _zero_grad(self, original, *args, **kwargs):
        self.zero_grads += 1
        return original(*args, **kwargs)

    def _step(self, original, *args, **kwargs):
        now = time.perf_counter()
        if self._last_step_at is not None:
            self.step_seconds.append(now - self._last_step_at)
        total = 0.0
        bad = None
        stepped = []
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                flat = g.array.reshape(-1)
                sq = float(flat.dot(flat))
                if not math.isfinite(sq) and not np.isfinite(g.array).all():
                    bad = p
                total += sq
                if len(stepped) < 8:
                    stepped.append((p, g))
        norm = math.sqrt(total) if math.isfinite(total) else float("inf")
        self.grad_norms.append(norm)
        self.lrs.append(float(self.optimizer.param_groups[0]["lr"]))
        if bad is not None and not self._nonfinite_seen:
            self._nonfinite_seen = True
            self._gradient_nonfinite(bad)
        elif len(self.grad_norms) > 10:
            self._spike(norm)
        sampled = self._sampling is not None
        started = time.perf_counter()
        before = self._sample_weights() if sampled else None
        copied = time.perf_counter()
        result = original(*args, **kwargs)
        self.steps += 1
        self._stepped = stepped
        if sampled:
            finishing = time.perf_counter()
            self._finish_sample(before)
            self._plan_next(copied - started + time.perf_counter() - finishing)
        self._last_step_at = time.perf_counter()
        return result

    def _plan_next(self, sample_cost: float) -> None:
        """The next sampled step: ``every`` steps on, or later when sampling would cost more than
        ``SAMPLE_SHARE`` of the loop's time (its extra cost over a typical step, amortised).

        The extra cost is the setting up (``_sample_started_cost``), the weight copies around
        the update (``sample_cost``) and what the hooks added to the sampled step's forward and
        backward: its time since the previous step (``step_seconds[-1]``) over the median."""
        interval = self.every
        if self.adaptive and self.step_seconds:
            recent = sorted(self.step_seconds[-50:])
            typical = recent[len(recent) // 2]
            hooks = max(self.step_seconds[-1] - typical, 0.0)
            extra = max(self._sample_started_cost + sample_cost, 0.0) + hooks
            if typical > 0:
                interval = max(
                    interval, min(MAX_EVERY, math.ceil(extra / (SAMPLE_SHARE * typical)))
                )
        self.intervals.append(interval)
        self._next_sample = self.steps - 1 + interval  # steps counts the one just taken

    def _gradient_nonfinite(self, param) -> None:
        name = next((n for n, p in self._trainable if p is param), "?")
        when = f"at step {self.steps + 1} the gradient of '{name}' held NaN/Inf"
        captured = self._out_grad
        # dL/d(output) of this very step when it was sampled; otherwise a unit gradient stands in
        og = captured[1] if captured is not None and captured[0] == self.steps else ()
        if len(og) and not np.isfinite(og).all():
            from neuronet.doctor.findings import finding

            self._emit(
                finding(
                    "numerics.non_finite",
                    f"{when}; it already was at the model's "
                    "output: the loss's backward produced it",
                    strength=2.0,
                )
            )
            return
        for f in numerics.locate(self.model, self._last_inputs, when, output_grad=og):
            self._emit(f)

    def _spike(self, norm) -> None:
        history = sorted(self.grad_norms[-21:-1])
        if not math.isfinite(norm):
            return
        median = history[len(history) // 2]
        if median > 0 and norm > SPIKE * median:
            self.spikes.append({"step": self.steps, "norm": norm, "ratio": norm / median})

    def _sample_weights(self) -> dict:
        out = {}
        for path, m in self.model.named_modules():
            w = m._parameters.get("weight")
            if w is not None and w.ndim >= 2 and type(m).__name__ not in ("Embedding",):
                out[path] = (
                    w,
                    w.array.copy(),
                    None if w.grad is None else float(np.linalg.norm(w.grad.array)),
                )
        return out

    def _finish_sample(self, before) -> None:
        result = self._sampling["result"]
        self._stop_sampling()
        for path, (w, old, gnorm) in before.items():
            norm = float(np.linalg.norm(old))
            if norm > 0:
                result.update_ratios[path] = float(np.linalg.norm(w.array - old)) / norm
                if path in result.layers and gnorm is not None:
                    result.layers[path]["weighted"] = True
                    result.layers[path]["rho"] = gnorm / norm
        self.measurements.append(result)

    # ---- results ------------------------------------------------------------------------------
    def report(self):
        """A ``Report`` of everything seen so far."""
        return build_report(self)
