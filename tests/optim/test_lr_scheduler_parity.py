"""Every scheduler against torch.optim.lr_scheduler for 200 steps; state-dict round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuronet import optim
from neuronet.nn import Parameter
from neuronet.optim import lr_scheduler as ls

STEPS = 200


def _lam(epoch):
    return 0.97**epoch * (1 + epoch % 5)


# name -> (build(lib, opt) -> scheduler, optimizer kind); lib is torch.optim.lr_scheduler or ours
CASES = {
    "StepLR": (lambda L, o: L.StepLR(o, step_size=7, gamma=0.5), "sgd"),
    "MultiStepLR": (lambda L, o: L.MultiStepLR(o, [30, 80, 80, 150], gamma=0.3), "sgd"),
    "ExponentialLR": (lambda L, o: L.ExponentialLR(o, gamma=0.98), "sgd"),
    "CosineAnnealingLR-restart": (
        lambda L, o: L.CosineAnnealingLR(o, T_max=50, eta_min=1e-3),
        "sgd",
    ),
    "CosineAnnealingLR": (lambda L, o: L.CosineAnnealingLR(o, T_max=STEPS), "sgd"),
    "CosineAnnealingWarmRestarts": (
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=17, eta_min=1e-3),
        "sgd",
    ),
    "CosineAnnealingWarmRestarts-T_mult": (
        lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
        "adam",
    ),
    "CyclicLR-triangular": (lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.05], step_size_up=15), "sgd"),
    "CyclicLR-triangular2-adam": (
        lambda L, o: L.CyclicLR(
            o, 0.001, 0.02, step_size_up=10, step_size_down=30, mode="triangular2"
        ),
        "adam",
    ),
    "CyclicLR-exp_range": (
        lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=7, mode="exp_range", gamma=0.995),
        "sgd",
    ),
    "CyclicLR-scale_fn-no-momentum": (
        lambda L, o: L.CyclicLR(
            o,
            0.01,
            0.1,
            step_size_up=12,
            scale_fn=_lam,
            scale_mode="iterations",
            cycle_momentum=False,
        ),
        "sgd",
    ),
    "LinearLR-warmup": (lambda L, o: L.LinearLR(o, start_factor=0.1, total_iters=30), "sgd"),
    "LinearLR-decay": (lambda L, o: L.LinearLR(o, 1.0, 0.2, total_iters=100), "sgd"),
    "LambdaLR": (lambda L, o: L.LambdaLR(o, _lam), "sgd"),
    "MultiplicativeLR": (
        lambda L, o: L.MultiplicativeLR(o, lambda t: 0.99 if t % 3 else 1.01),
        "sgd",
    ),
    "MultiplicativeLR-per-group": (
        lambda L, o: L.MultiplicativeLR(o, [lambda t: 0.98, lambda t: 1.0 - 0.001 * (t % 7)]),
        "adam",
    ),
    "ConstantLR": (lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=40), "sgd"),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o, total_iters=150, power=2.0), "sgd"),
    "PolynomialLR-linear": (lambda L, o: L.PolynomialLR(o, total_iters=STEPS), "adam"),
    "SequentialLR-constant-polynomial": (
        lambda L, o: L.SequentialLR(
            o,
            [L.ConstantLR(o, factor=0.1, total_iters=10), L.PolynomialLR(o, total_iters=100)],
            milestones=[10],
        ),
        "sgd",
    ),
    "OneCycleLR-sgd": (lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=STEPS), "sgd"),
    "OneCycleLR-adam-linear-3phase": (
        lambda L, o: L.OneCycleLR(
            o,
            max_lr=0.3,
            epochs=4,
            steps_per_epoch=50,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
            base_momentum=0.8,
            max_momentum=0.9,
        ),
        "adam",
    ),
    "OneCycleLR-no-momentum": (
        lambda L, o: L.OneCycleLR(o, max_lr=0.2, total_steps=STEPS, cycle_momentum=False),
        "sgd",
    ),
    "SequentialLR-warmup-cosine": (
        lambda L, o: L.SequentialLR(
            o,
            [
                L.LinearLR(o, start_factor=0.01, total_iters=20),
                L.CosineAnnealingLR(o, T_max=180, eta_min=1e-4),
            ],
            milestones=[20],
        ),
        "sgd",
    ),
    "SequentialLR-warmup-restarts": (  # the restarts begin at the milestone, as torch's
        lambda L, o: L.SequentialLR(
            o,
            [
                L.LinearLR(o, start_factor=0.1, total_iters=15),
                L.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
            ],
            milestones=[15],
        ),
        "sgd",
    ),
    "SequentialLR-three": (
        lambda L, o: L.SequentialLR(
            o,
            [
                L.LinearLR(o, start_factor=0.5, total_iters=10),
                L.StepLR(o, step_size=25, gamma=0.5),
                L.ExponentialLR(o, gamma=0.99),
            ],
            milestones=[10, 100],
        ),
        "adam",
    ),
}


def _optimizer(lib, kind, param):
    groups = [{"params": [param[0]]}, {"params": [param[1]], "lr": 0.01}]
    if kind == "adam":
        return lib.Adam(groups, lr=0.1)
    return lib.SGD(groups, lr=0.1, momentum=0.9)


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _pair(torch, name):
    build, kind = CASES[name]
    opt = _optimizer(optim, kind, [Parameter(np.zeros(2)), Parameter(np.zeros(2))])
    topt = _optimizer(torch.optim, kind, [torch.zeros(2, requires_grad=True) for _ in range(2)])
    return opt, build(ls, opt), topt, build(torch.optim.lr_scheduler, topt)


@pytest.mark.parametrize("name", list(CASES))
def test_lr_matches_torch_for_200_steps(name, torch):
    opt, sched, topt, tsched = _pair(torch, name)
    for t in range(STEPS + 1):
        np.testing.assert_allclose(
            sched.get_last_lr(),
            tsched.get_last_lr(),
            rtol=1e-5,
            atol=1e-12,
            err_msg=f"{name} step {t}",
        )
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [g["lr"] for g in topt.param_groups], rel=1e-5, abs=1e-12
        )
        assert _momenta(opt) == pytest.approx(_momenta(topt), rel=1e-9), f"{name} step {t}"
        if t < STEPS:
            opt.step()
            topt.step()
            sched.step()
            tsched.step()


def test_closed_forms_agree_with_torch_recursion_to_rounding(torch):
    """The recursive torch values vs the closed form: the largest relative difference."""
    worst = 0.0
    for name in ("CosineAnnealingLR-restart", "LinearLR-warmup", "SequentialLR-warmup-cosine"):
        _, sched, topt, tsched = _pair(torch, name)
        for _ in range(STEPS):
            topt.step()
            sched.step()
            tsched.step()
            ours = np.array(sched.get_last_lr())
            theirs = np.array(tsched.get_last_lr())
            worst = max(worst, float(np.max(np.abs(ours - theirs) / np.abs(theirs))))
    assert worst < 1e-9


@pytest.mark.parametrize("T_mult", [1, 3])
def test_warm_restarts_stepped_by_fractional_epochs_match_torch(T_mult, torch):
    """``step(epoch + i / batches)`` every batch, PyTorch's recipe for SGDR per batch, then
    plain steps, then a jump back: the rates and the saved state match torch's."""
    opt = _optimizer(optim, "sgd", [Parameter(np.zeros(2)), Parameter(np.zeros(2))])
    topt = _optimizer(torch.optim, "sgd", [torch.zeros(2, requires_grad=True) for _ in range(2)])
    sched = ls.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=0.001)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        topt, T_0=3, T_mult=T_mult, eta_min=0.001
    )
    epochs = [e + i / 7 for e in range(20) for i in range(7)] + [None] * 10 + [2.5, 0, None]
    for epoch in epochs:
        sched.step(epoch)
        tsched.step(epoch)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12), epoch
        assert (sched.T_cur, sched.T_i, sched.last_epoch) == pytest.approx(
            (tsched.T_cur, tsched.T_i, tsched.last_epoch), rel=1e-12
        )
    with pytest.raises(ValueError, match="epoch must be a number >= 0, got -1"):
        sched.step(-1)
    with pytest.raises(ValueError, match="T_mult must be an integer >= 1, got 1.5"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=1.5)
    with pytest.raises(ValueError, match="T_0 must be a positive integer, got 0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 3},
        {
            "mode": "max",
            "factor": 0.5,
            "patience": 2,
            "threshold_mode": "abs",
            "threshold": 0.05,
            "cooldown": 3,
            "min_lr": [0.02, 0.001],
        },
        {"patience": 0, "factor": 0.7, "min_lr": 0.005, "eps": 1e-3},
    ],
)
def test_reduce_on_plateau_matches_torch(kwargs, torch):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 30), 0.5 + 0.02 * rng.standard_normal(170)])
    opt = _optimizer(optim, "sgd", [Parameter(np.zeros(2)), Parameter(np.zeros(2))])
    topt = _optimizer(torch.optim, "sgd", [torch.zeros(2, requires_grad=True) for _ in range(2)])
    sched = ls.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    changes = 0
    for t, m in enumerate(metrics):
        before = sched.get_last_lr()
        sched.step(float(m))
        tsched.step(float(m))
        changes += sched.get_last_lr() != before
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12), f"step {t}"
        assert sched.num_bad_epochs == tsched.num_bad_epochs
    assert changes > 0


def _json(state):
    return json.loads(json.dumps(state))


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_continues_identically(name, torch):
    opt, sched, _, _ = _pair(torch, name)
    for _ in range(100):
        sched.step()
    opt_state = opt.state_dict()
    sched_state = _json(sched.state_dict())
    expected = []
    for _ in range(STEPS - 100):
        sched.step()
        expected.append(sched.get_last_lr() + _momenta(opt))
    opt2, sched2, _, _ = _pair(torch, name)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    got = []
    for _ in range(STEPS - 100):
        sched2.step()
        got.append(sched2.get_last_lr() + _momenta(opt2))
    assert got == expected


def test_plateau_state_round_trip():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = ls.ReduceLROnPlateau(opt, patience=2, cooldown=1)
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.98, 0.97, 0.99, 0.8, 0.85, 0.9, 0.95]
    for m in metrics[:5]:
        sched.step(m)
    state = _json(sched.state_dict())
    opt2 = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = ls.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(state)
    for m in metrics[5:]:
        sched.step(m)
        sched2.step(m)
        assert sched2.get_last_lr() == sched.get_last_lr()
    assert sched.get_last_lr()[0] < 0.1


def test_warmup_cosine_is_torchs_composition(torch):
    opt = optim.AdamW([Parameter(np.zeros(2))], lr=3e-3)
    sched = ls.warmup_cosine(opt, warmup_steps=20, total_steps=STEPS, min_lr=1e-5)
    topt = torch.optim.AdamW([torch.zeros(2, requires_grad=True)], lr=3e-3)
    L = torch.optim.lr_scheduler
    tsched = L.SequentialLR(
        topt,
        [
            L.LinearLR(topt, start_factor=1 / 20, total_iters=20),
            L.CosineAnnealingLR(topt, T_max=180, eta_min=1e-5),
        ],
        milestones=[20],
    )
    assert sched.interval == "step"
    for t in range(STEPS + 1):
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-5), t
        if t in (0, 20, STEPS):
            assert sched.get_last_lr()[0] == pytest.approx({0: 1.5e-4, 20: 3e-3, STEPS: 1e-5}[t])
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


def test_warmup_cosine_without_warmup_and_lr_at():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = ls.warmup_cosine(opt, warmup_steps=0, total_steps=10, min_lr=0.1)
    assert isinstance(sched, ls.CosineAnnealingLR) and sched.interval == "step"
    opt2 = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    seq = ls.warmup_cosine(opt2, warmup_steps=4, total_steps=12)
    values = []
    for _ in range(12):
        values.append(seq.get_last_lr()[0])
        seq.step()
    assert [seq.lr_at(t)[0] for t in range(12)] == pytest.approx(values, rel=1e-12)


def test_intervals():
    opt = optim.Adam([Parameter(np.zeros(1))], lr=1.0)
    assert ls.StepLR(opt, 3).interval == "epoch"
    assert ls.CosineAnnealingLR(opt, 10).interval == "epoch"
    assert ls.ReduceLROnPlateau(opt).interval == "epoch"
    assert ls.OneCycleLR(opt, max_lr=1.0, total_steps=10).interval == "step"
    first = ls.LinearLR(opt, total_iters=3)
    first.interval = "step"
    seq = ls.SequentialLR(opt, [first, ls.ExponentialLR(opt, 0.9)], milestones=[3])
    assert seq.interval == "step"


def test_closed_form_functions():
    s = ls.schedules
    assert s.step_lr(10, 2.0, 3, 0.5) == 2.0 * 0.5**3
    assert s.multistep_lr(80, 1.0, [30, 80, 80], 0.1) == pytest.approx(1e-3)
    assert s.linear_lr(100, 2.0, 0.5, 1.0, 10) == 2.0
    assert s.cosine_annealing_lr(5, 1.0, 10, 0.2) == pytest.approx(0.6)
    assert s.cosine_annealing_lr(20, 1.0, 10, 0.2) == pytest.approx(1.0)
    assert s.one_cycle(0, 100, 0.04, 1.0, 4e-6) == pytest.approx(0.04)
    assert s.one_cycle(29, 100, 0.04, 1.0, 4e-6) == pytest.approx(1.0)
    assert s.one_cycle(99, 100, 0.04, 1.0, 4e-6) == pytest.approx(4e-6)
    assert s.anneal(1.0, 0.0, 0.5, "linear") == 0.5
    assert math.isclose(s.anneal(1.0, 0.0, 0.5, "cos"), 0.5)


def test_scheduler_errors():
    opt = optim.SGD([Parameter(np.zeros(1))], lr=1.0)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        ls.StepLR([], step_size=2)
    with pytest.raises(KeyError, match=r"'initial_lr' is not specified in param_groups\[0\]"):
        ls.StepLR(optim.SGD([Parameter(np.zeros(1))]), step_size=2, last_epoch=5)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        ls.StepLR(opt, step_size=0)
    with pytest.raises(
        ValueError, match="Starting multiplicative factor expected to be greater than 0"
    ):
        ls.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        ls.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        ls.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        ls.LambdaLR(opt, [_lam, _lam])
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        ls.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start, but got 1"):
        ls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        ls.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(
        ValueError, match="max_lr must have the same length as optimizer.param_groups"
    ):
        ls.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ls.OneCycleLR(optim.Adagrad([Parameter(np.zeros(1))]), max_lr=1.0, total_steps=10)
    short = ls.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    short.step()
    short.step()
    with pytest.raises(
        ValueError, match="Tried to step 3 times. The specified number of total steps is 2"
    ):
        short.step()
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        ls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode maximum is unknown"):
        ls.ReduceLROnPlateau(opt, mode="maximum")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        ls.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(TypeError, match="no closed form"):
        ls.ReduceLROnPlateau(opt).lr_at(3)
    a = ls.ExponentialLR(opt, 0.9)
    with pytest.raises(
        ValueError, match="number of schedulers 1 and the number of milestones to be equal to 1"
    ):
        ls.SequentialLR(opt, [a], milestones=[3])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        ls.SequentialLR(opt, [a, ls.ReduceLROnPlateau(opt)], milestones=[3])
    other = ls.ExponentialLR(optim.SGD([Parameter(np.zeros(1))], lr=1.0), 0.9)
    with pytest.raises(ValueError, match="to belong to the same optimizer"):
        ls.SequentialLR(opt, [a, other], milestones=[3])
    with pytest.raises(
        ValueError,
        match="total_steps \\(10\\) must be an integer larger than warmup_steps \\(10\\)",
    ):
        ls.warmup_cosine(opt, 10, 10)
    with pytest.raises(ValueError, match="warmup_steps must be an integer >= 0"):
        ls.warmup_cosine(opt, -1, 10)
