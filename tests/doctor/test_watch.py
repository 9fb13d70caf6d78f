"""watch: leaves the loop, model, optimizer and RNG as they were, and tells real bugs from
deliberate patterns (gradient accumulation, eval with model.eval())."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import doctor, nn, optim
from neuronet.autograd.engine import ANOMALY
from neuronet.autograd.tensor import BACKWARD_OBSERVERS, Tensor

sys.path.insert(0, str(Path(__file__).parent))

from faults import blobs, mlp, train_loop  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _steps(model, opt, x, y, n=30, accumulate=1, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(n):
        idx = rng.choice(len(x), 32, replace=False)
        loss = F.cross_entropy(model(nt.tensor(x[idx])), nt.tensor(y[idx])) / accumulate
        loss.backward()
        if (i + 1) % accumulate == 0:
            opt.step()
            opt.zero_grad()


def test_watch_gives_bitwise_the_same_training_and_undoes_everything():
    x, y = blobs(0)
    a, b = mlp(16, 4, 0), mlp(16, 4, 0)
    opt_a, opt_b = optim.Adam(a.parameters(), 1e-3), optim.Adam(b.parameters(), 1e-3)
    backward = Tensor.backward
    _steps(a, opt_a, x, y)
    nt.manual_seed(5)
    state = nt.get_rng_state()
    with doctor.watch(b, opt_b, every=3) as w:
        _steps(b, opt_b, x, y)
    assert nt.get_rng_state() == state
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.array, pb.array)
    assert Tensor.backward is backward and not BACKWARD_OBSERVERS
    assert "step" not in opt_b.__dict__ and "zero_grad" not in opt_b.__dict__
    assert "zero_grad" not in b.__dict__
    assert not b._forward_hooks and not b._forward_pre_hooks
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in b.modules())
    assert ANOMALY.enabled is False
    assert w.steps == 30 and len(w.losses) == 30 and w.steps_checked == 29 and w.grad_resets == 29
    assert len(w.measurements) == 10
    assert not w.report().codes("warning")


def test_deliberate_gradient_accumulation_is_not_missing_zero_grad():
    x, y = blobs(1)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.05)
    with doctor.watch(m, opt) as w:
        _steps(m, opt, x, y, n=40, accumulate=4)
    assert w.steps == 10
    assert "opt.missing_zero_grad" not in w.report().codes()


def test_a_gan_loop_watched_on_one_model_is_judged_by_that_model_alone():
    """Generator and discriminator, each with its optimizer and zero_grad; the watch is on the
    generator. The discriminator's backward between two generator steps is not a missing
    zero_grad, and its loss is not the generator's (it used to make 2 losses a step: a false
    opt.missing_zero_grad error and a loss curve read as oscillating)."""
    nt.manual_seed(0)
    gen = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    disc = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
    g_opt, d_opt = optim.Adam(gen.parameters(), 1e-3), optim.Adam(disc.parameters(), 1e-3)
    rng = np.random.default_rng(0)
    ones, zeros = nt.ones(32, 1), nt.zeros(32, 1)
    g_losses = []
    with doctor.watch(gen, g_opt) as w:
        for _ in range(60):
            z = nt.tensor(rng.standard_normal((32, 8)).astype(np.float32))
            real = nt.tensor(rng.standard_normal((32, 4)).astype(np.float32) + 2)
            fake = gen(z)
            d_loss = F.binary_cross_entropy_with_logits(
                disc(real), ones
            ) + F.binary_cross_entropy_with_logits(disc(fake.detach()), zeros)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            g_loss = F.binary_cross_entropy_with_logits(disc(fake), ones)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            g_losses.append(g_loss.item())
    assert w.steps == 60 and w.backwards == 120
    np.testing.assert_array_equal(w.losses, g_losses)
    checked = [s for s in w.grad_norm_steps if s < 59]  # each followed by a generator backward
    assert w.steps_checked == w.grad_resets == len(checked) >= 16 and not w.accumulating
    assert not w.report().codes("warning")
    assert all(not p._hooks for p in gen.parameters())  # the zero_grad check's hook is gone


def test_zero_grad_with_set_to_none_false_is_recognised():
    x, y = blobs(2)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.05)
    rng = np.random.default_rng(0)
    with doctor.watch(m, opt) as w:
        for _ in range(20):
            idx = rng.choice(len(x), 32, replace=False)
            opt.zero_grad(set_to_none=False)
            F.cross_entropy(m(nt.tensor(x[idx])), nt.tensor(y[idx])).backward()
            opt.step()
    assert "opt.missing_zero_grad" not in w.report().codes()


def test_missing_zero_grad_names_the_steps():
    x, y = blobs(3)
    m = mlp(16, 4, 0)
    report = train_loop(m, optim.SGD(m.parameters(), 0.01), x, y, 0, steps=10, zero_grad=False)
    f = report.findings[0]
    assert f.code == "opt.missing_zero_grad" and f.severity == "error"
    assert f.evidence["steps"][:3] == [1, 2, 3]


def test_eval_in_eval_mode_is_fine():
    x, y = blobs(4)
    nt.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 16), nn.Dropout(0.5), nn.Linear(16, 4))

    def evaluate(model, w):
        model.eval()
        with nt.no_grad():
            model(nt.tensor(x[:50]))
        model.train()

    report = train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, 0, steps=40, evaluate=evaluate)
    assert "train.eval_in_train_mode" not in report.codes()


def test_params_not_updated_says_why():
    x, y = blobs(5)
    nt.manual_seed(0)

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(16, 4)
            self.spare = nn.Linear(16, 4)  # never called

        def forward(self, v):
            return self.used(v)

    m = Unused()
    report = train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, 0, steps=5)
    f = next(f for f in report.findings if f.code == "opt.params_not_updated")
    assert f.module == "spare"
    assert f.evidence["reason"] == "no gradient reaches it"
    assert f.evidence["parameters"] == ["spare.weight", "spare.bias"]


def test_nan_in_a_watched_loop_is_traced_to_the_op_and_module():
    x, y = blobs(6)
    m = mlp(16, 4, 0)

    class LogLoss:
        def __call__(self, out, t):
            return F.nll_loss(F.relu(out).log(), t)  # log(0) for clipped logits

    report = train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, 0, steps=3, loss_fn=LogLoss())
    f = report.findings[0]
    assert f.code == "numerics.non_finite"
    assert "loss computation" in f.message or f.evidence.get("op") in ("Log", "NllLoss")


def test_watch_rejects_bad_every():
    with pytest.raises(ValueError, match="every must be a positive int"):
        doctor.watch(mlp(4, 2, 0), every=0)


def _exact_norm(model) -> float:
    return float(
        np.sqrt(sum(np.sum(p.grad.array.astype(np.float64) ** 2) for p in model.parameters()))
    )


def test_explicit_every_checks_the_gradient_norm_of_every_step_exactly():
    x, y = blobs(2)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.05)
    expected = []
    with doctor.watch(m, opt, every=5) as w:
        for _ in range(25):
            loss = F.cross_entropy(m(nt.tensor(x[:32])), nt.tensor(y[:32]))
            opt.zero_grad()
            loss.backward()
            expected.append(_exact_norm(m))
            opt.step()
    assert list(w.grad_norm_steps) == list(range(25))
    np.testing.assert_allclose(list(w.grad_norms), expected, rtol=1e-5)


class _SqrtOfZero(nn.Module):
    """Finite loss, non-finite gradient: d sqrt(u)/du at u = 0 is Inf, and 0 * Inf is NaN."""

    def __init__(self, bad_from: int):
        super().__init__()
        self.body = nn.Linear(16, 8)
        self.head = nn.Linear(8, 4)
        self.calls = 0
        self.bad_from = bad_from

    def forward(self, x):
        self.calls += 1
        out = self.head(F.relu(self.body(x)))
        if self.calls > self.bad_from:
            out = out + (self.body.weight * 0.0).sqrt().sum()
        return out


def _loop(m, opt, x, y, steps):
    for _ in range(steps):
        loss = F.cross_entropy(m(nt.tensor(x[:32])), nt.tensor(y[:32]))
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_default_watch_bounds_its_gradient_checks(monkeypatch):
    watch_module = sys.modules["neuronet.doctor.watch_gradients"]

    x, y = blobs(3)
    # checking costs "more than the share": after NORM_PLAN checks, every NORM_MAX_EVERY-th step
    monkeypatch.setattr(watch_module, "NORM_SHARE", 1e-12)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.05)
    with doctor.watch(m, opt) as w:
        _loop(m, opt, x, y, 60)
    plan, k = watch_module.NORM_PLAN, watch_module.NORM_MAX_EVERY
    steps = list(w.grad_norm_steps)
    assert steps[:plan] == list(range(plan))
    assert steps[plan:] == list(range(plan - 1 + k, 60, k))
    assert w._norm_every == k
    # cheap enough: every step
    monkeypatch.setattr(watch_module, "NORM_SHARE", 1e12)
    with doctor.watch(m, opt) as w:
        _loop(m, opt, x, y, 40)
    assert list(w.grad_norm_steps) == list(range(40))


def test_between_full_steps_the_watch_only_counts_and_still_finds_loop_bugs(monkeypatch):
    """Checks every k-th step (forced): the full steps are the checked ones plus each sampled
    step and the one before it (which times it); the zero_grad, eval-mode and schedule checks
    still fire from the full steps alone."""
    grads = sys.modules["neuronet.doctor.watch_gradients"]
    monkeypatch.setattr(grads, "NORM_SHARE", 1e-12)
    sampling = sys.modules["neuronet.doctor.watch_sampling"]
    monkeypatch.setattr(sampling, "SAMPLE_SHARE", 1e12)  # sample every MIN_EVERY steps
    plan, k, every = grads.NORM_PLAN, grads.NORM_MAX_EVERY, sampling.MIN_EVERY
    x, y = blobs(7)
    nt.manual_seed(0)
    m = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 4))
    opt = optim.SGD(m.parameters(), 0.01)
    n = 80
    with doctor.watch(m, opt) as w:
        for step in range(n):
            loss = F.cross_entropy(m(nt.tensor(x[:32])), nt.tensor(y[:32]))
            loss.backward()  # no zero_grad: gradients accumulate
            opt.step()
            opt.param_groups[0]["lr"] *= 1.2
            if step % 20 == 19:
                with nt.no_grad():  # evaluation, still in training mode
                    m(nt.tensor(x[:50]))
            with nt.no_grad(), w.own_forward():  # a probe of the caller's own: not counted
                m(nt.tensor(x[:50]))
    checked = list(range(plan)) + list(range(plan - 1 + k, n, k))
    sampled = list(range(0, n, every))
    assert list(w.grad_norm_steps) == checked
    assert [s.step for s in w.measurements] == sampled
    before_sampled = set(range(every - 1, n, every))  # (79 comes before the sample due at 80)
    full = sorted(set(checked) | set(sampled) | before_sampled)
    assert list(w.lr_steps) == full
    np.testing.assert_allclose(w.lrs, [0.01 * 1.2**s for s in full])
    assert len(w.step_seconds) == len(full) - 1 and min(w.step_seconds) > 0
    assert w.steps == n and len(w.losses) == n and w.backwards == n
    assert w.eval_in_train == [20, 40, 60, 80]
    # the zero_grad check follows each checked step: every one found the gradients still there
    assert w.steps_checked == len(checked) and w.accumulating == [s + 1 for s in checked]
    codes = w.report().codes()
    assert "opt.missing_zero_grad" in codes and "train.eval_in_train_mode" in codes
    assert not m._forward_pre_hooks and all(not h._forward_pre_hooks for h in m.modules())


def test_a_watch_attached_again_carries_on_with_its_schedule(monkeypatch):
    """Leaving and re-entering a watch does not force a gradient check: the next one comes
    k steps after the last, as in one long loop."""
    grads = sys.modules["neuronet.doctor.watch_gradients"]
    monkeypatch.setattr(grads, "NORM_SHARE", 1e-12)
    plan, k = grads.NORM_PLAN, grads.NORM_MAX_EVERY
    x, y = blobs(3)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.05)
    w = doctor.watch(m, opt)
    with w:
        _loop(m, opt, x, y, plan + 2)
    with w:
        _loop(m, opt, x, y, k)
    assert list(w.grad_norm_steps) == list(range(plan)) + [plan - 1 + k]
    assert w.steps == plan + 2 + k


def test_a_non_finite_gradient_with_a_finite_loss_is_named():
    x, y = blobs(4)
    m = _SqrtOfZero(bad_from=5)
    opt = optim.SGD(m.parameters(), 0.05)
    with doctor.watch(m, opt, every=10) as w:
        _loop(m, opt, x, y, 8)
    f = w.report().findings[0]
    assert f.code == "numerics.non_finite"
    assert "at step 6 the gradient of 'body.weight' held NaN/Inf" in f.message
    assert f.evidence["op"] == "Sqrt" and f.evidence["phase"] == "backward"


def test_a_non_finite_gradient_on_an_unchecked_step_is_still_named(monkeypatch):
    watch_module = sys.modules["neuronet.doctor.watch_gradients"]

    monkeypatch.setattr(watch_module, "NORM_SHARE", 1e-12)
    x, y = blobs(4)
    plan, k = watch_module.NORM_PLAN, watch_module.NORM_MAX_EVERY
    m = _SqrtOfZero(bad_from=plan + 1)  # step plan + 2 (1-based) is not checked
    opt = optim.SGD(m.parameters(), 0.05)
    with doctor.watch(m, opt) as w:
        _loop(m, opt, x, y, plan + 5)
    assert plan + 1 not in w.grad_norm_steps
    f = w.report().findings[0]
    assert f.code == "numerics.non_finite" and f.module == "body"
    assert "parameter 'body.weight' already holds NaN/Inf" in f.message
    assert f"checked the gradients every {k} steps" in f.prescription


class _NaNAfterB(nn.Module):
    """From call ``bad_from`` on, a backward NaN is born right after ``b``: it reaches the
    gradients of ``b`` and ``a``, not of ``c``."""

    def __init__(self, bad_from: int):
        super().__init__()
        self.a = nn.Linear(16, 16)
        self.b = nn.Linear(16, 16)
        self.c = nn.Linear(16, 4)
        self.calls = 0
        self.bad_from = bad_from

    def forward(self, x):
        self.calls += 1
        h = self.b(F.relu(self.a(x)))
        if self.calls > self.bad_from:
            h = h + (h * 0.0).sqrt()
        return self.c(h)


def test_an_unchecked_nan_gradient_is_placed_at_the_deepest_parameter_it_reached(monkeypatch):
    watch_module = sys.modules["neuronet.doctor.watch_gradients"]
    monkeypatch.setattr(watch_module, "NORM_SHARE", 1e-12)
    x, y = blobs(5)
    plan = watch_module.NORM_PLAN
    m = _NaNAfterB(bad_from=plan + 1)
    opt = optim.Adam(m.parameters(), 1e-3)
    with doctor.watch(m, opt) as w:
        _loop(m, opt, x, y, plan + 5)
    f = w.report().findings[0]
    assert f.code == "numerics.non_finite" and f.module == "b"
    assert f.evidence["parameters"] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert "parameter 'b.bias' (and 3 earlier ones) already holds NaN/Inf" in f.message


def test_gradient_spikes_are_recorded_against_the_running_median():
    x, y = blobs(6)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 1e-6)  # the weights barely move: only the scale changes
    spiked = {25: 1000.0, 33: 50.0, 41: 5.0}  # the last is below the 10x threshold
    with doctor.watch(m, opt, every=10) as w:
        for step in range(50):
            loss = F.cross_entropy(m(nt.tensor(x[:32])), nt.tensor(y[:32])) * spiked.get(step, 1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert [s["step"] for s in w.spikes] == [25, 33]
    np.testing.assert_allclose([s["ratio"] for s in w.spikes], [1000.0, 50.0], rtol=0.05)
    f = next(f for f in w.report().findings if f.code == "grad.exploding")
    assert f.evidence["spikes"][0]["step"] == 25
