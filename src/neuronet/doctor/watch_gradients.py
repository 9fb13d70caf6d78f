"""The gradient check of ``watch``: the global gradient norm of a step, NaN/Inf in any gradient
(named at once, with the op that produced it), gradient-norm spikes, and how often to check.

``GradientChecks`` is a part of ``watch`` (its base class), split out by concept: ``watch``'s
full steps call ``_check_gradients`` on the steps ``_plan_norms`` chooses.
"""

from __future__ import annotations

import math
from time import perf_counter

import numpy as np

from neuronet.doctor import numerics

SPIKE = 10.0  # a gradient norm above 10x the median of the previous 20 is a spike
SPIKE_REFRESH = 4  # checks between refreshes of that threshold (also refreshed on exceeding it)
NORM_SHARE = 0.0025  # by default the gradients are checked every step unless that costs more
NORM_MAX_EVERY = 20  # than 0.25% of a step; then every k-th step, k at most 20,
NORM_PLAN = 16  # re-planned from the median cost of the last 16 checks
_INF = math.inf


class GradientChecks:
    """The gradient checks of a ``watch`` (which sets the attributes they read)."""

    def _check_gradients(self, now: float) -> None:
        """The global gradient norm of this step (one BLAS pass per gradient; NaN/Inf anywhere
        makes it non-finite, and then the parameter is named), a spike check against the
        running median, and, by default, when the next check is due."""
        total = 0.0
        bad = None
        first = None
        for p in self._params():
            g = p.grad
            if g is None:
                continue
            a = g.array
            sq = float(np.vdot(a, a))
            if sq != sq or sq == _INF and not np.isfinite(a).all():
                bad = p
            total += sq
            if first is None:
                first = (p, g)
        self._first = first
        norm = math.sqrt(total) if total < _INF else _INF
        self.grad_norms.append(norm)
        self.grad_norm_steps.append(self.steps)
        if bad is not None and not self._nonfinite_seen:
            self._nonfinite_seen = True
            self._gradient_nonfinite(bad)
        elif norm > self._spike_above or len(self.grad_norms) >= self._spike_refresh_at:
            self._spike(norm)
        self._next_norm = self.steps + 1
        if self.adaptive:
            self._plan_norms(perf_counter() - now)

    def _plan_norms(self, cost: float) -> None:
        """Check the gradients every step, unless that costs more than ``NORM_SHARE`` of a typical
        step (tiny models, whose steps are a fraction of a millisecond): then every k-th step,
        k at most ``NORM_MAX_EVERY``. Re-planned every ``NORM_PLAN`` checks."""
        self._norm_costs.append(cost)
        if len(self._norm_costs) < NORM_PLAN or not self.step_seconds:
            self._next_norm = self.steps + self._norm_every
            return
        costs = sorted(self._norm_costs)
        self._norm_costs.clear()
        recent = sorted(self.step_seconds[-NORM_PLAN:])
        typical = recent[len(recent) // 2]
        spent = costs[len(costs) // 2]
        every = math.ceil(spent / (NORM_SHARE * typical)) if typical > 0 else 1
        self._norm_every = max(1, min(NORM_MAX_EVERY, every))
        self._next_norm = self.steps + self._norm_every

    def _params(self) -> list:
        """The optimizer's parameters (re-read when a group was added)."""
        groups = self.optimizer.param_groups
        if len(groups) != self._groups_seen:
            self._groups_seen = len(groups)
            self._param_list = [p for g in groups for p in g["params"]]
        return self._param_list

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
        """Called when ``norm`` exceeds the cached threshold (SPIKE x the running median of the
        previous 20 norms): refresh the threshold, and record a spike when it still exceeds it.
        The threshold is also refreshed every ``SPIKE_REFRESH`` checks, so a check costs one
        comparison on a typical step."""
        n = len(self.grad_norms)
        if n <= 10 or not math.isfinite(norm):
            self._spike_refresh_at = n + SPIKE_REFRESH
            return
        history = sorted(self.grad_norms[-21:-1])
        median = history[len(history) // 2]
        self._spike_above = SPIKE * median if median > 0 else _INF
        self._spike_refresh_at = n + SPIKE_REFRESH
        if norm > self._spike_above:
            self.spikes.append({"step": self.steps, "norm": norm, "ratio": norm / median})
