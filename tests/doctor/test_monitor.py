"""The Monitor callback: on by default in Trainer, stops on a non-finite loss naming the step,
batch and source, warns once per code, and detaches even when fit raises."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
from neuronet import doctor, nn, optim
from neuronet.autograd.tensor import Tensor
from neuronet.data import TensorDataset
from neuronet.train import Trainer

sys.path.insert(0, str(Path(__file__).parent))

from faults import blobs, mlp  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_trainer_has_a_monitor_by_default_and_can_turn_it_off():
    m = mlp(16, 4, 0)
    assert isinstance(
        Trainer(m, "cross_entropy", optim.Adam(m.parameters())).monitor, doctor.Monitor
    )
    assert Trainer(m, "cross_entropy", optim.Adam(m.parameters()), monitor=False).monitor is None
    mine = doctor.Monitor(every=5)
    assert Trainer(m, "cross_entropy", optim.Adam(m.parameters()), monitor=mine).monitor is mine


def test_healthy_fit_is_silent_and_gives_a_report(capsys):
    x, y = blobs(0)
    m = mlp(16, 4, 0)
    trainer = Trainer(m, "cross_entropy", optim.Adam(m.parameters(), 1e-3), quiet=True)
    trainer.fit(TensorDataset(x, y), val=TensorDataset(x[:64], y[:64]), epochs=3)
    assert "neuronet doctor" not in capsys.readouterr().err
    report = trainer.monitor.report()
    assert report.stages[0].numbers["steps"] == 3 * 13
    assert not report.errors
    assert Tensor.backward.__name__ == "backward"  # the watch is detached


class Exploding(nn.Module):
    """Finite for the first epoch, then its forward overflows (exp of a growing input)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        scale = 1.0 if self.calls <= 20 else 1e4
        return (self.fc(x) * scale).exp()


def test_non_finite_loss_stops_training_and_names_step_batch_and_module(capsys):
    x, y = blobs(1)
    nt.manual_seed(0)
    m = Exploding()
    trainer = Trainer(
        m, "cross_entropy", optim.SGD(m.parameters(), 1e-3), batch_size=32, quiet=True
    )
    trainer.fit(TensorDataset(x, y), epochs=5)
    assert trainer.stop_training is True
    reason = trainer.stop_reason
    assert "step 21" in reason and "epoch 1" in reason and "batch 8" in reason
    assert "Exp.forward produced Inf in the model itself (Exploding)" in reason
    assert "test_monitor.py:" in reason
    assert trainer.epoch <= 2  # stopped in the second epoch, not after five
    err = capsys.readouterr().err
    assert "neuronet doctor: error numerics.non_finite" in err
    assert "neuronet doctor: stopping" in err


def test_warnings_are_printed_once_per_code(capsys):
    x, y = blobs(2)
    m = mlp(16, 4, 0)
    opt = optim.SGD(m.parameters(), 0.01)
    trainer = Trainer(m, "cross_entropy", opt, monitor=doctor.Monitor(check_every=5))
    trainer.quiet = True
    trainer.monitor.verbose = True
    for g in opt.param_groups:  # a schedule gone wrong: the rate explodes every step
        g["lr"] = 0.01

    class Grow(doctor.Monitor.__mro__[1]):  # a plain Callback
        def on_train_batch_end(self, step, logs=None):
            for g in opt.param_groups:
                g["lr"] *= 1.3

    trainer.user_callbacks.append(Grow())
    trainer.fit(TensorDataset(x, y), epochs=4)
    err = capsys.readouterr().err
    assert err.count("neuronet doctor: error train.diverging") <= 1
    assert err.count("numerics.non_finite") + err.count("train.diverging") >= 1


def test_monitor_detaches_when_fit_raises():
    x, y = blobs(3)
    m = mlp(16, 4, 0)
    trainer = Trainer(
        m,
        lambda out, t: (_ for _ in ()).throw(RuntimeError("boom")),
        optim.Adam(m.parameters()),
        quiet=True,
    )
    backward = Tensor.backward
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(TensorDataset(x, y), epochs=1)
    assert Tensor.backward is backward
    assert "step" not in trainer.optimizer.__dict__
    assert trainer.monitor.watch is None


def test_monitor_does_not_change_training():
    x, y = blobs(4)
    results = []
    for monitor in (True, False):
        m = mlp(16, 4, 0)
        trainer = Trainer(
            m,
            "cross_entropy",
            optim.Adam(m.parameters(), 1e-3),
            quiet=True,
            monitor=monitor,
            seed=0,
        )
        trainer.fit(TensorDataset(x, y), epochs=2)
        results.append([p.array.copy() for p in m.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_monitor_output_goes_through_say(monkeypatch):
    said = []
    monkeypatch.setattr("neuronet.doctor.monitor.say", said.append)
    x, y = blobs(5)
    nt.manual_seed(0)
    m = Exploding()
    Trainer(m, "cross_entropy", optim.SGD(m.parameters(), 1e-3), quiet=True).fit(
        TensorDataset(x, y), epochs=3
    )
    assert any("numerics.non_finite" in s for s in said)
    assert any(s.startswith("neuronet doctor: stopping") for s in said)
