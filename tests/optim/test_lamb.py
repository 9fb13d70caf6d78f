"""LAMB against the paper's update rule (You et al., 2019, Algorithm 2), transcribed here
independently, plus its invariants and its equality with AdamW when the trust ratio is 1."""

from __future__ import annotations

import numpy as np
import pytest
from optim_helpers import gradient_sequence, initial_weights, make_params, run, set_grads

import neuronet as nt
from neuronet import optim
from neuronet.nn import Module, Parameter


def paper_lamb(
    weights,
    grads_seq,
    lr,
    beta1=0.9,
    beta2=0.999,
    eps=1e-6,
    wd=0.0,
    clamp=None,
    adapt=(True, True, True),
    decay=(True, True, True),
):
    """Algorithm 2 of the LAMB paper, layer by layer, in float64 (the ``phi`` of the paper is
    the identity, or a clamp to [0, clamp])."""
    ws = [w.astype(np.float64) for w in weights]
    ms = [np.zeros_like(w) for w in ws]
    vs = [np.zeros_like(w) for w in ws]
    history = []
    for t, grads in enumerate(grads_seq, start=1):
        for i, g in enumerate(grads):
            g = g.astype(np.float64)
            ms[i] = beta1 * ms[i] + (1 - beta1) * g
            vs[i] = beta2 * vs[i] + (1 - beta2) * g**2
            m_hat = ms[i] / (1 - beta1**t)
            v_hat = vs[i] / (1 - beta2**t)
            r = m_hat / (np.sqrt(v_hat) + eps) + (wd if decay[i] else 0.0) * ws[i]
            w_norm = np.linalg.norm(ws[i])
            if clamp is not None:
                w_norm = min(w_norm, clamp)
            r_norm = np.linalg.norm(r)
            trust = w_norm / r_norm if (w_norm > 0 and r_norm > 0 and adapt[i]) else 1.0
            ws[i] = ws[i] - lr * trust * r
        history.append([w.copy() for w in ws])
    return history


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.02, "weight_decay": 0.05, "betas": (0.8, 0.99), "eps": 1e-4},
        {"lr": 0.01, "weight_decay": 0.1, "clamp_value": 1.5},
    ],
    ids=["plain", "decay", "betas-eps", "clamp"],
)
def test_matches_paper_every_step(options, update_path):
    weights = initial_weights(np.float64)
    grads_seq = gradient_sequence(np.float64, 50)
    params = make_params(weights)
    ours = run(optim.LAMB(params, **options), params, grads_seq)
    beta1, beta2 = options.get("betas", (0.9, 0.999))
    expected = paper_lamb(
        weights,
        grads_seq,
        options["lr"],
        beta1,
        beta2,
        options.get("eps", 1e-6),
        options.get("weight_decay", 0.0),
        options.get("clamp_value"),
    )
    for t, (got, want) in enumerate(zip(ours, expected)):
        for i, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"step {t} p{i}")


def test_float32_stays_float32_and_close_to_paper(update_path):
    weights = initial_weights(np.float32)
    grads_seq = gradient_sequence(np.float32, 50)
    params = make_params(weights)
    opt = optim.LAMB(params, lr=0.01, weight_decay=0.1)
    ours = run(opt, params, grads_seq)
    expected = paper_lamb(weights, grads_seq, 0.01, wd=0.1)
    for a, b in zip(ours[-1], expected[-1]):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert all(
        v.dtype == np.float32
        for s in opt.state.values()
        for v in s.values()
        if isinstance(v, np.ndarray)
    )


def test_trust_ratio_is_one_for_zero_weights(update_path):
    g = np.array([0.5, -2.0, 1.0])
    w = Parameter(np.zeros(3))
    w.grad = nt.Tensor(g.copy())
    optim.LAMB([w], lr=0.1, weight_decay=0.3).step()
    expected = -0.1 * g / (np.abs(g) + 1e-6)  # first step: m_hat = g, sqrt(v_hat) = |g|
    np.testing.assert_allclose(w.array, expected, rtol=1e-12)


def test_trust_ratio_is_one_for_zero_update(update_path):
    w = Parameter(np.array([1.0, -2.0]))
    w.grad = nt.Tensor(np.zeros(2))
    optim.LAMB([w], lr=0.1).step()  # r = 0 (no decay): no change, and no nan from 0/0
    np.testing.assert_array_equal(w.array, [1.0, -2.0])


def test_adapted_step_has_norm_lr_times_weight_norm(update_path):
    rng = np.random.default_rng(3)
    w = Parameter(rng.standard_normal((4, 5)))
    before = w.array.copy()
    w.grad = nt.Tensor(rng.standard_normal((4, 5)))
    optim.LAMB([w], lr=0.01, weight_decay=0.2).step()
    step_norm = np.linalg.norm(w.array - before)
    np.testing.assert_allclose(step_norm, 0.01 * np.linalg.norm(before), rtol=1e-12)


def test_clamp_bounds_the_weight_norm_in_the_ratio(update_path):
    rng = np.random.default_rng(4)
    w = Parameter(10 * rng.standard_normal(6))
    before = w.array.copy()
    w.grad = nt.Tensor(rng.standard_normal(6))
    optim.LAMB([w], lr=0.01, clamp_value=2.0).step()
    np.testing.assert_allclose(np.linalg.norm(w.array - before), 0.01 * 2.0, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trust_ratio_fixed_at_one_equals_adamw(dtype, update_path):
    weights = initial_weights(dtype)
    grads_seq = gradient_sequence(dtype, 50)
    a = make_params(weights)
    b = make_params(weights)
    lamb = optim.LAMB(a, lr=0.01, eps=1e-8, weight_decay=0.1, exclude_from_adaptation=True)
    adamw = optim.AdamW(b, lr=0.01, eps=1e-8, weight_decay=0.1)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    for t, (got, want) in enumerate(zip(run(lamb, a, grads_seq), run(adamw, b, grads_seq))):
        for x, y in zip(got, want):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {t}")


class _Tiny(Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(5)
        self.weight = Parameter(rng.standard_normal((5, 4)))
        self.bias = Parameter(rng.standard_normal(4))
        self.emb = Parameter(rng.standard_normal((7, 3)))


def test_param_groups_for_excludes_biases_from_decay_and_adaptation(update_path):
    model = _Tiny()
    groups = optim.LAMB.param_groups_for(model)
    assert [len(g["params"]) for g in groups] == [2, 1]
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["exclude_from_adaptation"] is True
    weights = [p.array.copy() for p in (model.weight, model.bias, model.emb)]
    grads_seq = gradient_sequence(np.float64, 10)
    opt = optim.LAMB(groups, lr=0.01, weight_decay=0.1)
    got = run(opt, [model.weight, model.bias, model.emb], grads_seq)
    want = paper_lamb(
        weights, grads_seq, 0.01, wd=0.1, adapt=(True, False, True), decay=(True, False, True)
    )
    for x, y in zip(got[-1], want[-1]):
        np.testing.assert_allclose(x, y, rtol=1e-10)


def test_exclusion_callables(update_path):
    weights = initial_weights(np.float64)
    grads_seq = gradient_sequence(np.float64, 10)
    params = make_params(weights)
    opt = optim.LAMB(
        params,
        lr=0.01,
        weight_decay=0.1,
        exclude_from_weight_decay=lambda p: p.ndim == 1,
        exclude_from_adaptation=lambda p: p.shape == (7, 3),
    )
    got = run(opt, params, grads_seq)
    want = paper_lamb(
        weights, grads_seq, 0.01, wd=0.1, adapt=(True, True, False), decay=(True, False, True)
    )
    for x, y in zip(got[-1], want[-1]):
        np.testing.assert_allclose(x, y, rtol=1e-10)


def test_state_dict_keeps_callables_out_and_back(update_path):
    rule = lambda p: p.ndim == 1  # noqa: E731
    params = make_params(initial_weights(np.float64))
    opt = optim.LAMB(params, lr=0.01, exclude_from_weight_decay=rule)
    set_grads(params, gradient_sequence(np.float64, 1)[0])
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["exclude_from_weight_decay"] is None
    fresh = optim.LAMB(params, lr=0.01, exclude_from_weight_decay=rule)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["exclude_from_weight_decay"] is rule


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -1.0}, "Invalid learning rate: -1.0"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ({"eps": -1e-6}, "Invalid epsilon value"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ({"clamp_value": 0.0}, "Invalid clamp_value: 0.0"),
    ],
)
def test_invalid_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.LAMB([Parameter(np.zeros(2))], **kwargs)
