"""TensorBoardLogger (read back from its event files) and PeriodicValidation."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn, optim
from neuronet.data import TensorDataset, load_digits
from neuronet.train import PeriodicValidation, TensorBoardLogger, Trainer


def _data(n):
    x, y = load_digits("train").arrays
    return TensorDataset(x[:n], y[:n])


def _trainer(callbacks=(), dropout=0.2, seed=0):
    nt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10))
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    return Trainer(
        model,
        "cross_entropy",
        opt,
        sched,
        metrics=["accuracy"],
        callbacks=list(callbacks),
        batch_size=32,
        quiet=True,
    )


def read_events(log_dir: Path) -> list:
    """Every Event in a folder's TFRecord event files (length, crc, data, crc per record)."""
    from tensorboardX.proto import event_pb2

    events = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at + 12 <= len(data):
            (n,) = struct.unpack("<Q", data[at : at + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[at + 12 : at + 12 + n])
            events.append(event)
            at += 12 + n + 4
    return events


def _by_tag(events) -> dict:
    out = {}
    for e in events:
        for v in e.summary.value:
            kind = v.WhichOneof("value")
            value = {"simple_value": v.simple_value, "histo": v.histo, "tensor": v.tensor}.get(kind)
            out.setdefault(v.tag, []).append((e.step, kind, value))
    return out


def test_tensorboard_scalars_histograms_and_text(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX not installed (the tensorboard extra)")

    class Doctor(nt.train.Callback):  # stands in for the doctor's Monitor: a findings list
        findings = []

        def on_epoch_end(self, epoch, logs=None):
            self.findings.append(f"epoch {epoch}: gradients look healthy")

    logger = TensorBoardLogger(tmp_path / "tb")
    trainer = _trainer([Doctor(), logger])
    trainer.fit(_data(96), val=_data(64), epochs=2)
    logger.log_text("notes", "**hello**", step=7)
    logger.close()
    tags = _by_tag(read_events(tmp_path / "tb"))
    steps = trainer.history.steps
    losses = tags["train/loss"]
    assert [s for s, _, _ in losses] == [r["step"] for r in steps] == list(range(1, 7))
    assert [v for _, _, v in losses] == pytest.approx([r["loss"] for r in steps], rel=1e-6)
    assert [v for _, _, v in tags["train/lr"]] == pytest.approx([0.1] * 3 + [0.05] * 3)
    epochs = trainer.history.epochs
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert [s for s, _, _ in tags[f"epoch/{key}"]] == [3, 6]
        assert [v for _, _, v in tags[f"epoch/{key}"]] == pytest.approx([e[key] for e in epochs])
    # histograms at each epoch's last batch, weights and gradients of every parameter
    for name, p in trainer.model.named_parameters():
        (s1, k1, _), (s2, _, last) = tags[f"weights/{name}"]
        assert (s1, s2, k1) == (3, 6, "histo")
        assert last.num == p.numel() and last.sum == pytest.approx(float(p.array.sum()), rel=1e-4)
        assert [s for s, _, _ in tags[f"grads/{name}"]] == [3, 6]
    texts = [v for _, _, v in tags["doctor/findings/text_summary"]]
    decoded = [t.string_val[0].decode() for t in texts]
    assert decoded == ["- epoch 0: gradients look healthy", "- epoch 1: gradients look healthy"]
    assert tags["notes/text_summary"][0][0] == 7


def test_tensorboard_gradient_histogram_is_the_steps_gradient(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX not installed (the tensorboard extra)")
    seen = {}

    class Spy(nt.train.Callback):  # reads the gradient the optimizer used at step 2
        def on_train_batch_begin(self, step, logs=None):
            if step == 1:
                w = self.trainer.model[0].weight
                w.register_hook(lambda g: seen.setdefault("g", g.array.copy()))

    logger = TensorBoardLogger(tmp_path / "tb", histogram_every=2)
    _trainer([Spy(), logger], dropout=0.0).fit(_data(96), epochs=1)
    logger.close()
    tags = _by_tag(read_events(tmp_path / "tb"))
    step, _, histo = tags["grads/0.weight"][0]
    assert step == 2 and [s for s, _, _ in tags["grads/0.weight"]] == [2]
    assert histo.sum == pytest.approx(float(seen["g"].sum()), rel=1e-4, abs=1e-6)
    assert histo.sum_squares == pytest.approx(float((seen["g"] ** 2).sum()), rel=1e-4)


def test_tensorboard_logger_errors(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX not installed (the tensorboard extra)")
    with pytest.raises(ValueError, match="histogram_every must be a positive int or None"):
        TensorBoardLogger(tmp_path, histogram_every=0)


def test_periodic_validation_adds_points_and_changes_no_weight():
    plain = _trainer()
    plain.fit(_data(160), val=_data(64), epochs=2)
    checked = _trainer([PeriodicValidation(_data(64), every=2, last_step=10)])
    checked.fit(_data(160), val=_data(64), epochs=2)
    for a, b in zip(plain.model.parameters(), checked.model.parameters()):
        np.testing.assert_array_equal(a.array, b.array)  # bit for bit
    rows = {r["step"]: r for r in checked.history.steps}
    assert sorted(s for s, r in rows.items() if "val_loss" in r) == [2, 4, 6, 8]
    assert all("val_accuracy" in rows[s] for s in (2, 4, 6, 8))
    with pytest.raises(ValueError, match="every must be a positive int"):
        PeriodicValidation(_data(8), every=0)
