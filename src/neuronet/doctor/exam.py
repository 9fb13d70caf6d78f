"""One examination: what every stage of ``diagnose`` reads (the model, data, loss, budget) and
writes (findings, stage summaries, plot data).

The user's model and optimizer are never run: every experiment uses ``fresh()``, a deep copy of
both taken together (so the copied optimizer points at the copied parameters and carries their
state), and draws batches from its own ``Generator``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from neuronet.autograd.tensor import Tensor
from neuronet.doctor.findings import finding
from neuronet.random import Generator


@dataclass
class Stage:
    """One stage of the examination, as the report shows it.

    Attributes:
        name: 'data', 'wiring', 'init', 'overfit', 'lr_find', 'grad_flow' or 'run'.
        title: the heading ("1. Data").
        lines: the summary, one line per measurement, with its numbers.
        numbers: the same measurements as JSON-able values.
        table: optional rows (per layer, per class), each a dict.
        seconds: time spent.
        skipped: why the stage did not run, or None.
    """

    name: str
    title: str
    lines: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    table: list = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "lines": self.lines,
            "numbers": self.numbers,
            "table": self.table,
            "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
        }


class Exam:
    """The shared state of one ``diagnose`` call."""

    def __init__(self, model, optimizer, loss, rows, val, seed: int, budget):
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.rows = rows
        self.val = val
        self.seed = int(seed)
        self.budget = budget
        self.findings = []
        self.stages = []
        self.plots = {}
        self.task = None
        self.output_shape = None
        self.layers = []  # the dry batch's per-module output shapes (wiring.probe)
        self.probe_batch = None
        self.probe_output = None
        self.probe_raw = None
        self.blocked = None  # why training experiments cannot run (the model or loss fails)
        self.init_loss = None
        self.nonfinite_at_init = False
        self.lr_suggestion = None
        self.budget_scale = 1.0  # < 1 when the training experiments were cut to fit the budget
        self.started = time.perf_counter()

    # ---- randomness and copies --------------------------------------------------------------
    def generator(self, salt: int) -> Generator:
        """A generator for one purpose (``salt``), determined by the seed."""
        return Generator(self.seed * 7919 + salt)

    def fresh(self):
        """Deep copies of (model, optimizer); the optimizer is Adam(lr=1e-3) when none was
        given."""
        model, optimizer = copy.deepcopy((self.model, self.optimizer))
        if optimizer is None:
            from neuronet.optim import Adam

            optimizer = Adam(model.parameters(), lr=1e-3)
        return model, optimizer

    @property
    def user_lr(self):
        if self.optimizer is None:
            return None
        return float(self.optimizer.param_groups[0]["lr"])

    # ---- running the model ---------------------------------------------------------------------
    def forward(self, model, inputs):
        return model(*inputs)

    def output(self, model, inputs) -> Tensor:
        """The model's output for ``inputs``; the first tensor when it returns a tuple."""
        out = model(*inputs)
        if isinstance(out, (tuple, list)):
            out = next(o for o in out if isinstance(o, Tensor))
        return out

    def loss_of(self, model, batch) -> Tensor:
        inputs, target = batch
        out = self.forward(model, inputs)
        return self.loss.fn(out, target)

    # ---- recording ----------------------------------------------------------------------------
    def add(self, code: str, message: str, **kwargs):
        f = finding(code, message, **kwargs)
        self.findings.append(f)
        return f

    def stage(self, name: str, title: str) -> Stage:
        s = Stage(name, title)
        self.stages.append(s)
        return s

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def time_left(self) -> float:
        return self.budget.seconds - self.elapsed()
