"""Exact resume: a run interrupted by a real SIGINT (sent from a callback at a chosen batch) and
resumed by a new Trainer built with another seed ends bitwise where the uninterrupted run ends:
weights, optimizer state, scheduler state and history compared with ==, never allclose."""

from __future__ import annotations

import os
import random
import signal
import time

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn, optim
from neuronet.data import IterableDataset, TensorDataset, load_digits
from neuronet.train import Callback, EarlyStopping, Trainer

BATCHES = 7  # 200 samples in batches of 32: the last batch is short
EPOCHS = 4


def _data():
    x, y = load_digits("train").arrays
    return TensorDataset(x[:200], y[:200]), TensorDataset(x[200:264], y[200:264])


class _Stream(IterableDataset):
    """A data set as a stream without __len__ (its epoch ends when it does), in its order."""

    def __init__(self, data):
        self.x, self.y = data.arrays

    def __iter__(self):
        yield from zip(self.x, self.y)


class Interrupter(Callback):
    """Sends itself SIGINT ``presses`` times after the ``at``-th training batch of this fit (or
    after the first of the two validation batches of epoch ``during_val``)."""

    def __init__(self, at=None, presses=1, during_val=None):
        self.at, self.presses, self.during_val = at, presses, during_val
        self.seen = 0

    def _kill(self):
        for _ in range(self.presses):
            before = self.trainer._sigint.presses
            os.kill(os.getpid(), signal.SIGINT)
            # The kernel may hand the signal to the loader's prefetch thread; wait until the
            # main thread has run the handler, as it would long before a real user's next key.
            deadline = time.monotonic() + 10
            while self.trainer._sigint.presses == before and time.monotonic() < deadline:
                time.sleep(0.001)
            assert self.trainer._sigint.presses == before + 1

    def on_train_batch_end(self, step, logs=None):
        self.seen += 1
        if self.seen == self.at:
            self._kill()

    def on_test_batch_end(self, step, logs=None):
        if self.trainer.epoch == self.during_val and step == 0:
            self._kill()


def _build(case: dict, seed: int, callbacks=(), out_dir=None):
    nt.manual_seed(seed)
    dropout = case.get("dropout", 0.0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    schedule = case.get("schedule")
    if schedule == "plateau":
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=0.5)
    elif schedule == "per_batch":
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=EPOCHS * BATCHES)
    else:
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    return Trainer(
        model,
        "cross_entropy",
        opt,
        sched,
        metrics=["accuracy", "f1"],
        callbacks=[EarlyStopping(monitor="loss", patience=100), *callbacks],
        accumulate=case.get("accumulate", 1),
        batch_size=32,
        seed=seed,
        quiet=True,
        out_dir=out_dir,
    )


def _fit(trainer, case, **kwargs):
    train, val = _data()
    if case.get("stream"):
        train, val = _Stream(train), _Stream(val)
    val = None if case.get("no_val") else val
    return trainer.fit(
        train, val, epochs=case.get("epochs", EPOCHS), steps=case.get("steps"), **kwargs
    )


def _assert_same(a: Trainer, b: Trainer):
    for (k, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert np.array_equal(x.array, y.array), f"weight {k} differs"
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for i in sa["state"]:
        for name, value in sa["state"][i].items():
            assert np.array_equal(value, sb["state"][i][name]), f"optimizer {i}.{name} differs"
    assert a.scheduler.state_dict() == b.scheduler.state_dict()
    assert a.history.epochs == b.history.epochs  # floats compared exactly
    assert a.history.steps == b.history.steps
    assert a.lr_monitor.lrs == b.lr_monitor.lrs
    assert (a.epoch, a.global_step) == (b.epoch, b.global_step)
    assert a.user_callbacks[0].state_dict() == b.user_callbacks[0].state_dict()


CASES = {
    "plain, mid-epoch": ({}, {"at": 10}),
    "accumulate=2, mid-group": ({"accumulate": 2}, {"at": BATCHES + 3}),  # epoch 1, batch 3
    "ReduceLROnPlateau without val": ({"schedule": "plateau", "no_val": True}, {"at": 11}),
    "dropout": ({"dropout": 0.3}, {"at": 12}),
    "scheduler per batch": ({"schedule": "per_batch", "dropout": 0.2}, {"at": 13}),
    "step-capped, interrupted before the cap": ({"steps": 17}, {"at": 5}),
    "step-capped, extended by steps": ({"steps": 17}, {"first": {"steps": 10}}),
    "extended by epochs": ({}, {"first": {"epochs": 2}}),
    "Ctrl-C twice": ({"dropout": 0.2}, {"at": 10, "presses": 2}),
    "Ctrl-C during validation": ({"dropout": 0.2}, {"during_val": 1}),
    "Ctrl-C after an epoch's last batch": ({}, {"at": 2 * BATCHES}),
    "Ctrl-C in the last epoch": ({"accumulate": 2}, {"at": 3 * BATCHES + 3}),
    "stream without __len__, mid-epoch": ({"stream": True, "dropout": 0.2}, {"at": 10}),
    "stream, accumulate=2, mid-group": ({"stream": True, "accumulate": 2}, {"at": BATCHES + 3}),
    # the stream's last batch leaves half a group; its step comes once the stream has ended
    "stream, Ctrl-C after its last batch": ({"stream": True, "accumulate": 2}, {"at": BATCHES}),
    "stream, step-capped": ({"stream": True, "steps": 17}, {"at": 5}),
    "stream, extended by steps": ({"stream": True, "steps": 17}, {"first": {"steps": 10}}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, name):
    case, stop = CASES[name]
    nt.manual_seed(11)
    straight = _build(case, seed=0)
    _fit(straight, case)
    assert straight.epoch == case.get("epochs", EPOCHS) or case.get("steps")

    nt.manual_seed(11)
    if "first" in stop:
        first = _build(case, seed=0, out_dir=tmp_path)
        _fit(first, {**case, **stop["first"]})
        assert not first.interrupted
    else:
        interrupter = Interrupter(stop.get("at"), stop.get("presses", 1), stop.get("during_val"))
        first = _build(case, seed=0, callbacks=[interrupter], out_dir=tmp_path)
        _fit(first, case)
        assert first.interrupted and first.global_step < straight.global_step
        if "during_val" in stop:
            assert first.phase == "validate"

    nt.manual_seed(999)  # a fresh process: other RNG states, other init, other seed
    np.random.seed(999)
    random.seed(999)
    resumed = _build(case, seed=5)
    _fit(resumed, case, resume=tmp_path / "checkpoint.safetensors")
    assert not resumed.interrupted
    _assert_same(straight, resumed)


def test_continuing_in_memory_after_ctrl_c_equals_uninterrupted():
    """Without out_dir nothing is written; fit() again with the same data continues."""
    case = {"accumulate": 2, "dropout": 0.2}
    train, val = _data()
    nt.manual_seed(11)
    straight = _build(case, seed=0)
    straight.fit(train, val, epochs=EPOCHS)
    nt.manual_seed(11)
    first = _build(case, seed=0, callbacks=[Interrupter(at=BATCHES + 3)])  # mid-group
    first.fit(train, val, epochs=EPOCHS)
    assert first.interrupted and first.last_checkpoint is None
    first.fit(train, val, epochs=EPOCHS)
    first.user_callbacks = first.user_callbacks[:1]
    _assert_same(straight, first)


def test_interrupt_without_out_dir_writes_nothing_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    trainer = _build({}, seed=0, callbacks=[Interrupter(at=3)])
    trainer.quiet = False
    trainer.fit(_data()[0], epochs=2)
    assert list(tmp_path.iterdir()) == []  # no hidden checkpoint in the working directory
    err = capsys.readouterr().err
    assert "Interrupted after step 3 (epoch 1, batch 3/7)" in err
    assert "no checkpoint written" in err and "call fit() again" in err
