"""The per-layer sampling of ``watch``: on a sampled step, every leaf module's output statistics
and dL/d(output) (tensor hooks), the dead and saturated units of its ReLU/Sigmoid/Tanh ops
(anomaly mode's op observer) and the update/weight ratio of each weight; and when to sample
next, so that sampling costs about ``SAMPLE_SHARE`` of the loop's time.

``LayerSampling`` is a part of ``watch`` (its base class), split out by concept, as
``GradientChecks`` is: ``watch``'s full steps arm ``_pre_forward`` on the model when a sample is
due, and ``_full_step`` copies the weights around the sampled update and plans the next one.
"""

from __future__ import annotations

import math
from time import perf_counter

import numpy as np

from neuronet.autograd.anomaly import observe
from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor
from neuronet.doctor.grad_flow import Measurement, record_layers

KEEP_MEASUREMENTS = 100  # sampled steps kept (each ~1-2 KB: per-layer statistics)
MIN_EVERY = 10  # sample per-layer statistics at most every 10 steps...
MAX_EVERY = 5000  # (a 0.3 ms step: about every 1.5 s)
SAMPLE_SHARE = 0.0025  # ...and, by default, rarely enough that sampling costs 0.25% of the loop
SAMPLE_COSTS_KEPT = 5  # the costliest of the last 5 sampled steps plans the next interval


class LayerSampling:
    """The per-layer sampling of a ``watch`` (which sets the attributes it reads)."""

    def _arm_sampling(self) -> None:
        """Put ``_pre_forward`` on the model: the next forward with gradients is sampled."""
        if self._armed is None:
            self._armed = self.model.register_forward_pre_hook(self._pre_forward)

    def _disarm_sampling(self) -> None:
        if self._armed is not None:
            self._armed.remove()
            self._armed = None

    def _pre_forward(self, module, args):
        """On the model while a sampled step is due: start sampling at its first forward with
        gradients (an evaluation forward before it leaves the hook in place)."""
        if not is_grad_enabled():
            return None
        self._disarm_sampling()
        self._stop_sampling()
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

    def _start_sampling(self) -> None:
        started = perf_counter()
        result = Measurement(self.steps)
        handles, observer = record_layers(self.model, result, root=self.model)
        handles.append(self.model.register_forward_hook(self._post_forward))
        mode = observe(observer)
        mode.__enter__()
        self._sampling = {"result": result, "handles": handles, "mode": mode}
        self._sample_started_cost = perf_counter() - started

    def _stop_sampling(self) -> None:
        s = self._sampling
        if s is None:
            return
        if s["mode"] is not None:
            s["mode"].__exit__(None, None, None)
        for h in s["handles"]:
            h.remove()
        self._sampling = None

    def _plan_next(self, sample_cost: float) -> None:
        """The next sampled step: ``every`` steps on, or later when sampling would cost more than
        ``SAMPLE_SHARE`` of the loop's time (its extra cost over a typical step, amortised).

        The extra cost is the setting up (``_sample_started_cost``), the weight copies around
        the update (``sample_cost``) and what the hooks added to the sampled step's forward and
        backward: its time since the previous step (``step_seconds[-1]``) over the median. One
        such measurement is noisy (a short one would make the next interval short), so the
        largest of the last ``SAMPLE_COSTS_KEPT`` plans it."""
        interval = self.every
        if self.adaptive and self.step_seconds:
            recent = sorted(self.step_seconds[-50:])
            typical = recent[len(recent) // 2]
            hooks = max(self.step_seconds[-1] - typical, 0.0)
            self._sample_costs.append(max(self._sample_started_cost + sample_cost, 0.0) + hooks)
            extra = max(self._sample_costs)
            if typical > 0:
                interval = max(
                    interval, min(MAX_EVERY, math.ceil(extra / (SAMPLE_SHARE * typical)))
                )
        self.intervals.append(interval)
        self._next_sample = self.steps - 1 + interval  # steps counts the one just taken

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
