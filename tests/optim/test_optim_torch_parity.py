"""Every optimizer and option combination against torch.optim, step for step.

Same initial weights, same precomputed gradients (a sparse-looking embedding included), 50
steps, the learning rate changed every 10 steps: parameters and every state buffer equal to
torch's at every step — rtol 1e-5 in float32, and near machine precision in float64 (the
semantic check) — on both update paths (numba kernels and NumPy).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from optim_helpers import gradient_sequence, initial_weights, make_params, set_grads

from neuronet import optim

STEPS = 50


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def _sgd_configs():
    configs = []
    for c in _grid(
        momentum=[0.0, 0.9],
        dampening=[0.0, 0.3],
        nesterov=[False, True],
        weight_decay=[0.0, 0.1],
        maximize=[False, True],
    ):
        if c["momentum"] == 0 and (c["dampening"] or c["nesterov"]):
            continue
        if c["nesterov"] and c["dampening"]:
            continue
        configs.append({"lr": 0.05, **c})
    return configs


def _adam_configs(default_wd):
    grid = _grid(weight_decay=[0.0, default_wd], amsgrad=[False, True], maximize=[False, True])
    configs = [{"lr": 0.01, **c} for c in grid]
    configs.append({"lr": 0.01, "betas": (0.3, 0.8), "eps": 1e-3, "weight_decay": default_wd})
    return configs


CASES = (
    [("SGD", c) for c in _sgd_configs()]
    + [("Adam", c) for c in _adam_configs(0.1)]
    + [("AdamW", c) for c in _adam_configs(0.05)]
    + [
        ("RMSprop", {"lr": 0.01, **c})
        for c in _grid(
            weight_decay=[0.0, 0.1],
            momentum=[0.0, 0.9],
            centered=[False, True],
            maximize=[False, True],
        )
    ]
    + [("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5})]
    + [
        ("Adadelta", {"lr": 0.5, **c})
        for c in _grid(weight_decay=[0.0, 0.1], maximize=[False, True])
    ]
    + [("Adadelta", {"rho": 0.5, "eps": 1e-3})]
    + [
        ("Adamax", {"lr": 0.01, **c})
        for c in _grid(weight_decay=[0.0, 0.1], maximize=[False, True])
    ]
    + [("Adamax", {"lr": 0.01, "betas": (0.5, 0.8), "eps": 1e-3})]
    + [
        ("RAdam", {"lr": 0.01, **c})
        for c in _grid(
            weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True]
        )
    ]
    + [("RAdam", {"lr": 0.01, "betas": (0.5, 0.8), "eps": 1e-3})]  # rectified from step 6 on
    + [
        ("NAdam", {"lr": 0.01, **c})
        for c in _grid(
            weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True], maximize=[False, True]
        )
    ]
    + [("NAdam", {"lr": 0.01, "betas": (0.5, 0.8), "eps": 1e-3, "momentum_decay": 0.05})]
    + [("Rprop", {"lr": 0.01, **c}) for c in _grid(maximize=[False, True])]
    + [("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)})]
    + [
        ("Adagrad", {"lr": 0.05, **c})
        for c in _grid(
            weight_decay=[0.0, 0.1],
            lr_decay=[0.0, 0.05],
            initial_accumulator_value=[0.0, 0.1],
            maximize=[False, True],
        )
    ]
)


def _case_id(case):
    name, config = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in config.items() if k != "lr")


TOLERANCES = {np.float32: (1e-5, 1e-6), np.float64: (1e-11, 1e-13)}


def assert_matches(ours, theirs, dtype, what):
    """rtol elementwise, with an absolute floor scaled by the array's magnitude: where a value
    is the difference of much larger terms (momentum buffers crossing zero), float32 rounding of
    those terms (~1 ulp of the array's scale) is all that can be asked."""
    rtol, atol = TOLERANCES[dtype]
    scale = max(1.0, float(np.max(np.abs(theirs)))) if theirs.size else 1.0
    if not np.all(np.abs(ours - theirs) <= atol * scale + rtol * np.abs(theirs)):  # fast check
        np.testing.assert_allclose(ours, theirs, rtol, atol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_torch_every_step(case, dtype, update_path, torch):
    name, config = case
    weights = initial_weights(dtype)
    grads_seq = gradient_sequence(dtype, STEPS)
    ours = make_params(weights)
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = getattr(optim, name)(ours, **config)
    topt = getattr(torch.optim, name)(theirs, **config)
    for t, grads in enumerate(grads_seq):
        set_grads(ours, grads)
        for tp, g in zip(theirs, grads):
            tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        if (t + 1) % 10 == 0:
            for group in opt.param_groups + topt.param_groups:
                group["lr"] *= 0.7
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            where = f"{name} step {t + 1} param {i}"
            assert p.array.dtype == dtype, f"{where}: dtype became {p.array.dtype}"
            assert_matches(p.array, tp.detach().numpy(), dtype, where)
            tstate = topt.state[tp]
            for key, value in opt.state[p].items():
                if key == "step":
                    assert value == int(tstate["step"]), f"{where}: step"
                    continue
                if key == "mu_product":  # NAdam's: a float32 scalar in torch, for any dtype
                    assert value.dtype == np.float32 and value == tstate[key].numpy(), where
                    continue
                assert value.dtype == dtype, f"{where}: state {key} dtype {value.dtype}"
                assert_matches(value, tstate[key].numpy(), dtype, f"{where} state {key}")
            assert set(opt.state[p]) == set(tstate), f"{where}: state keys differ"


def test_skips_parameters_without_grad(update_path, torch):
    weights = initial_weights(np.float32)
    ours = make_params(weights)
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = optim.Adam(ours, lr=0.1)
    topt = torch.optim.Adam(theirs, lr=0.1)
    for grads in gradient_sequence(np.float32, 5):
        set_grads(ours[:2], grads[:2])
        ours[2].grad = None
        for tp, g in zip(theirs[:2], grads[:2]):
            tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_array_equal(ours[2].array, weights[2])
    assert ours[2] not in opt.state or not opt.state[ours[2]]
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_param_groups_with_own_options(update_path, torch):
    weights = initial_weights(np.float32)
    grads_seq = gradient_sequence(np.float32, 20)
    ours = make_params(weights)
    theirs = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = optim.SGD(
        [{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5, "momentum": 0.5}],
        lr=0.05,
        momentum=0.9,
        nesterov=False,
    )
    topt = torch.optim.SGD(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5, "momentum": 0.5}],
        lr=0.05,
        momentum=0.9,
    )
    for grads in grads_seq:
        set_grads(ours, grads)
        for tp, g in zip(theirs, grads):
            tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.array, tp.detach().numpy(), rtol=1e-5, atol=1e-6)
