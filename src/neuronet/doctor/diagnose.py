"""``diagnose``: the debugging playbook as one call.

Seven stages, each on copies of the model and optimizer, each reported with its numbers:
data (``data_checks``), shapes and loss wiring (``wiring``), initialisation (``init_checks``),
overfitting one batch (``overfit``), the learning-rate range test (``lr_finder``), gradient flow
and a short run (``short_run``). A stage that cannot run (the model fails on a batch, the loss is
NaN at init) says why, and the later training experiments are skipped.

Budgets fix the number of steps of each experiment (so results do not depend on the machine's
load); if one training step is slow enough that they would not fit the budget's time, every count
is scaled down in proportion and the report says so. The step is timed by the smaller of its
wall-clock and its process CPU time, so other work on a shared machine does not cut the budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from neuronet.doctor import data_checks, init_checks, lr_finder, overfit, short_run, wiring
from neuronet.doctor.exam import Exam
from neuronet.doctor.inputs import Rows, check_model_and_optimizer, resolve_loss
from neuronet.doctor.report import Report
from neuronet.random import get_rng_state, set_rng_state


@dataclass(frozen=True)
class Budget:
    """How much work each stage does. ``seconds`` is the target for the whole examination."""

    name: str
    seconds: float
    data_rows: int = 5000
    init_batches: int = 4
    flow_batches: int = 2
    overfit_steps: int = 150
    signal_steps: int = 120
    lr_steps_per_decade: int = 20
    run_steps: int = 200


BUDGETS = {
    "quick": Budget("quick", 10.0),
    "full": Budget(
        "full",
        60.0,
        data_rows=20000,
        init_batches=8,
        flow_batches=4,
        overfit_steps=300,
        signal_steps=400,
        lr_steps_per_decade=25,
        run_steps=600,
    ),
}
_FLOORS = {"overfit_steps": 20, "signal_steps": 20, "lr_steps_per_decade": 4, "run_steps": 30}
SHARE = 0.6  # of the budget's seconds for the training experiments (the rest: checks, copies)


def resolve_budget(budget) -> Budget:
    if isinstance(budget, Budget):
        return budget
    if budget in BUDGETS:
        return BUDGETS[budget]
    raise ValueError(
        f"doctor: budget must be 'quick' or 'full' (or a doctor.Budget), got {budget!r}"
    )


def _plan(exam) -> None:
    """Scale the training experiments down when one step is slow (the budget is time)."""
    from neuronet.doctor import loops

    model, optimizer = exam.fresh()
    batches = exam.rows.batches(exam.generator(11))
    loops.step(exam, model, optimizer, next(batches))  # warm-up (allocations, JIT)
    times = []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        loops.step(exam, model, optimizer, next(batches))
        # the CPU time this process spent, when other work on the machine slows the wall clock
        times.append(min(time.perf_counter() - start, time.process_time() - cpu))
    per_step = min(times)
    b = exam.budget
    small = min(overfit.batch_size(exam), exam.rows.batch_size) / max(exam.rows.batch_size, 1)
    steps = (
        3 * b.overfit_steps * max(small, 0.25)
        + b.signal_steps
        + 8 * b.lr_steps_per_decade
        + b.run_steps * 1.15
    )
    allowed = SHARE * b.seconds
    need = steps * per_step
    exam.step_seconds = per_step
    if need <= allowed:
        return
    scale = allowed / need
    exam.budget_scale = scale
    changes = {k: max(_FLOORS[k], int(getattr(b, k) * scale)) for k in _FLOORS}
    exam.budget = replace(b, **changes)
    exam.budget_note = (
        f"one training step takes {per_step * 1e3:.0f} ms, so every experiment "
        f"was cut to {scale:.0%} of its steps to fit the {b.name} budget; "
        "findings that need training are weaker evidence"
        + (" (budget='full' runs more)" if b.name == "quick" else "")
    )


def _check_optimizer(exam) -> None:
    if not any(p.requires_grad for p in exam.model.parameters()):
        exam.add(
            "opt.params_not_updated",
            "no parameter of the model requires grad: nothing can be trained (frozen with "
            "requires_grad_(False), or built under no_grad?)",
            evidence={"reason": "no parameter requires grad"},
            strength=3.0,
            causes=(),
        )
        exam.blocked = "no parameter requires grad"
        return
    if exam.optimizer is None:
        return
    held = {id(p) for g in exam.optimizer.param_groups for p in g["params"]}
    missing = {}
    for name, p in exam.model.named_parameters():
        if p.requires_grad and id(p) not in held:
            module = name.rsplit(".", 1)[0] if "." in name else ""
            missing.setdefault(module, []).append(name)
    for module, names in missing.items():
        exam.add(
            "opt.params_not_updated",
            f"{', '.join(repr(n) for n in names[:4])}"
            + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            + " require grad but are not in the optimizer: they will never change",
            module=module or None,
            evidence={"parameters": names, "reason": "not in the optimizer"},
            strength=3.0,
            causes=(),
        )


def _timed(exam, fn) -> None:
    before = len(exam.stages)
    start = time.perf_counter()
    try:
        fn(exam)
    except Exception as err:  # a stage that cannot run on this model says so; the rest go on
        if len(exam.stages) == before:
            exam.stage(fn.__module__.rsplit(".", 1)[-1], fn.__module__.rsplit(".", 1)[-1])
        text = str(err).splitlines()[0] if str(err) else ""
        reason = f"failed with {type(err).__name__}: {text}"
        exam.stages[-1].skipped = reason
        if fn.__name__ == "run" and fn.__module__.endswith(("init_checks", "wiring")):
            exam.blocked = exam.blocked or f"stage {exam.stages[-1].title} {reason}"
    took = time.perf_counter() - start
    new = exam.stages[before:]
    for s in new:
        s.seconds = took / len(new)


def diagnose(
    model, data, loss, optimizer=None, val=None, batch_size: int = 32, seed: int = 0, budget="quick"
) -> Report:
    """Run the training doctor's checklist on copies of ``model`` and ``optimizer``.

    Args:
        model: an ``nn.Module`` (never modified).
        data: the training data: a Dataset, a DataLoader, or a pair ``(inputs, targets)``.
        loss: a loss name ('cross_entropy', 'mse', ...), a loss module or a function
            ``loss(output, target)``.
        optimizer: the optimizer you train with (never modified; its type, hyperparameters and
            rate are what the experiments use). None: Adam(lr=1e-3).
        val: optional validation data, as ``data``.
        batch_size: the batch size (a DataLoader's own is used when one is given).
        seed: seeds the doctor's own sampling (the global RNG is left as it was).
        budget: 'quick' (about 10 s on a digits-sized model) or 'full' (up to 60 s for 1M
            parameters on 10k samples), or a ``Budget``.

    Returns:
        A ``Report``: ``report.findings`` most likely cause first, ``print(report)``,
        ``report.write(out_dir)``.
    """
    check_model_and_optimizer("doctor.diagnose", model, optimizer)
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or (batch_size < 1)
    ):
        raise ValueError(f"doctor.diagnose: batch_size must be a positive int, got {batch_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"doctor.diagnose: seed must be an int, got {seed!r}")
    plan = resolve_budget(budget)
    rows = Rows(data, batch_size, "data")
    val_rows = Rows(val, batch_size, "val") if val is not None else None
    exam = Exam(model, optimizer, resolve_loss(loss), rows, val_rows, seed, plan)
    exam.budget_note = None
    state = get_rng_state()
    # The experiments provoke overflow and NaN on purpose (a too-high rate, a broken model):
    # what they find goes into the report, not into NumPy warnings on the user's terminal.
    errstate = np.errstate(all="ignore")
    errstate.__enter__()
    try:
        _timed(exam, wiring.probe)
        _timed(exam, data_checks.run)
        _check_optimizer(exam)
        _timed(exam, wiring.run)
        _timed(exam, init_checks.run)
        if not exam.blocked:
            _plan(exam)
        _timed(exam, overfit.run)
        _timed(exam, lr_finder.run)
        _timed(exam, short_run.run)
    finally:
        errstate.__exit__(None, None, None)
        set_rng_state(state)
    params = sum(p.numel() for p in model.parameters())
    meta = {
        "model": type(model).__name__,
        "parameters": params,
        "rows": rows.n,
        "val_rows": val_rows.n if val_rows else None,
        "budget": plan.name,
        "seed": seed,
        "seconds": round(exam.elapsed(), 2),
        "loss": exam.loss.name,
        "optimizer": type(optimizer).__name__ if optimizer is not None else None,
        "lr": exam.user_lr,
        "lr_suggestion": exam.lr_suggestion,
    }
    if exam.budget_note:
        meta["budget_note"] = exam.budget_note
        exam.stages[0].lines.append(f"budget: {exam.budget_note}")
    return Report(exam.findings, exam.stages, meta=meta, plots=exam.plots)
