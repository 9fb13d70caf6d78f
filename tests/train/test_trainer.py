"""The training loop: quality, callback order, exact resume, accumulation, schedules, outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn, optim
from neuronet.data import TensorDataset, load_digits
from neuronet.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    Trainer,
    fit,
    plot_history,
)


def mlp(seed=0, dropout=0.0):
    nt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(dropout), nn.Linear(64, 10))


def small_digits(n=256):
    train = load_digits("train")
    x, y = train.arrays
    return TensorDataset(x[:n], y[:n])


def test_fit_reaches_095_on_digits():
    model = mlp()
    history = fit(
        model,
        load_digits("train"),
        load_digits("test"),
        epochs=15,
        lr=2e-3,
        batch_size=32,
        quiet=True,
    )
    assert history.epochs[-1]["val_accuracy"] >= 0.95, history.epochs[-1]


def test_callbacks_fire_in_order():
    events = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_end(self, step, logs=None):  # the alias of on_train_batch_end
            events.append("batch")

        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_end(self, logs=None):
            events.append("test_end")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} val_loss" if "val_loss" in logs else "no val")

        def on_train_end(self, logs=None):
            events.append("train_end")

    data = small_digits(64)
    model = mlp()
    trainer = Trainer(
        model,
        "cross_entropy",
        optim.SGD(model.parameters(), lr=0.1),
        callbacks=[Recorder()],
        batch_size=32,
        quiet=True,
    )
    trainer.fit(data, val=data, epochs=2)
    assert events == [
        "train_begin",
        "epoch_begin 0",
        "batch",
        "batch",
        "test_begin",
        "test_end",
        "epoch_end 0 val_loss",
        "epoch_begin 1",
        "batch",
        "batch",
        "test_begin",
        "test_end",
        "epoch_end 1 val_loss",
        "train_end",
    ]


def _weights(model):
    return {k: v.array.copy() for k, v in model.state_dict().items()}


def _trainer(out_dir, seed=0):
    model = mlp(seed, dropout=0.2)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    return Trainer(
        model,
        "cross_entropy",
        opt,
        sched,
        metrics=["accuracy"],
        batch_size=32,
        seed=seed,
        quiet=True,
        out_dir=out_dir,
    )


def test_resume_is_bitwise_identical(tmp_path):
    data = small_digits(200)  # 7 batches, the last one short
    straight = _trainer(tmp_path / "a")
    nt.manual_seed(11)
    straight.fit(data, epochs=4)

    first = _trainer(tmp_path / "b")
    nt.manual_seed(11)
    first.fit(data, epochs=2)
    nt.manual_seed(999)  # the resumed run must not depend on the process's RNG state
    second = _trainer(tmp_path / "b", seed=5)  # different init and seed: all restored
    second.fit(data, epochs=4, resume=tmp_path / "b" / "checkpoint.safetensors")

    a, b = _weights(straight.model), _weights(second.model)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert [e["loss"] for e in second.history.epochs] == [
        e["loss"] for e in straight.history.epochs
    ]
    assert second.optimizer.param_groups[0]["lr"] == straight.optimizer.param_groups[0]["lr"]


def test_gradient_accumulation_matches_the_large_batch():
    data = small_digits(64)
    results = []
    for batch_size, accumulate in ((32, 1), (16, 2)):
        model = mlp()
        trainer = Trainer(
            model,
            "cross_entropy",
            optim.SGD(model.parameters(), lr=0.5),
            batch_size=batch_size,
            accumulate=accumulate,
            quiet=True,
        )
        loader = nt.data.DataLoader(data, batch_size=batch_size)  # same order for both
        trainer.fit(loader, epochs=1)
        results.append(_weights(model))
    for k in results[0]:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-5, atol=1e-6)


def test_per_batch_scheduler_steps_every_optimizer_step():
    data = small_digits(96)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=6)
    trainer = Trainer(model, "cross_entropy", opt, sched, batch_size=32, quiet=True)
    trainer.fit(data, epochs=2)
    lrs = [row["lr"] for row in trainer.history.steps]
    assert len(lrs) == 6 and len(set(lrs)) == 6  # one new lr per batch


def test_grad_clip_bounds_the_update():
    data = small_digits(32)
    model = mlp()
    before = _weights(model)
    trainer = Trainer(
        model,
        "cross_entropy",
        optim.SGD(model.parameters(), lr=1.0),
        grad_clip=1e-3,
        batch_size=32,
        quiet=True,
    )
    trainer.fit(data, epochs=1)
    after = _weights(model)
    step = np.sqrt(sum(np.sum((after[k] - before[k]) ** 2) for k in before))
    assert step <= 1e-3 * 1.001


def test_outputs_history_csv_json_plot_and_callbacks(tmp_path):
    train, test = small_digits(128), small_digits(64)
    model = mlp()
    stopper = EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)  # stops early
    ckpt = ModelCheckpoint(tmp_path / "ckpt", monitor="val_accuracy")
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters()),
        metrics=["accuracy", "f1"],
        callbacks=[stopper, ckpt, CSVLogger(tmp_path / "log.csv")],
        quiet=True,
    )
    history = trainer.fit(train, val=test, epochs=10)
    assert len(history.epochs) == 2 and stopper.stopped_epoch == 1
    assert (tmp_path / "ckpt" / "best.safetensors").is_file()
    assert (tmp_path / "ckpt" / "last.safetensors").is_file()
    assert (tmp_path / "log.csv").read_text().splitlines()[0].startswith("epoch,loss")
    history.to_csv(tmp_path / "h.csv")
    history.to_json(tmp_path / "h.json")
    assert len(json.loads((tmp_path / "h.json").read_text())["steps"]) == 8
    plot_history(history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(history.history) >= {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "lr"}


def test_evaluate_and_predict_restore_training_mode():
    data = small_digits(64)
    model = mlp()
    trainer = Trainer(
        model, "cross_entropy", optim.Adam(model.parameters()), metrics=["accuracy"], quiet=True
    )
    result = trainer.evaluate(data)
    assert set(result) == {"loss", "accuracy"} and model.training
    out = trainer.predict(data)
    assert out.shape == (64, 10) and model.training


def test_bad_arguments():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="accumulate must be a positive int"):
        Trainer(model, "cross_entropy", opt, accumulate=0)
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'"):
        Trainer(model, "crossentropy", opt)
    with pytest.raises(TypeError, match="TensorDataset"):
        Trainer(model, "cross_entropy", opt, quiet=True).fit(42)
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "w.safetensors"
    nt.io.save(model, path)
    with pytest.raises(nt.io.CheckpointError, match="is a weights file written by neuronet.io"):
        Trainer(model, "cross_entropy", opt, quiet=True).fit(small_digits(32), resume=path)


class _Stream(nt.data.IterableDataset):
    def __init__(self, x, y, sized):
        self.x, self.y, self.sized = x, y, sized

    def __iter__(self):
        yield from zip(self.x, self.y)

    def __len__(self):
        if not self.sized:
            raise TypeError("no length")  # as a class without __len__ behaves for len()
        return len(self.x)


def test_iterable_datasets_train_in_their_own_order():
    x, y = small_digits(96).arrays
    # a sized stream trains, batched in its own order: the same weights as the same batches
    streamed = mlp()
    t = Trainer(streamed, "cross_entropy", optim.SGD(streamed.parameters(), lr=0.1), quiet=True)
    t.fit(_Stream(x, y, sized=True), epochs=2)
    assert t.steps_per_epoch == 3 and t.global_step == 6
    by_hand = mlp()
    opt = optim.SGD(by_hand.parameters(), lr=0.1)
    for _ in range(2):
        for i in range(0, 96, 32):
            out = by_hand(nt.tensor(x[i : i + 32]))
            loss = nt.functional.cross_entropy(out, nt.tensor(y[i : i + 32]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    for a, b in zip(streamed.parameters(), by_hand.parameters()):
        np.testing.assert_allclose(a.array, b.array, rtol=1e-6, atol=1e-7)


def _fit_stream(sized, accumulate=1, n=96, val=None, **fit):
    x, y = small_digits(256).arrays
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    sched.interval = "step"  # so that the step of a partial group shows in the rate as well
    t = Trainer(model, "cross_entropy", opt, sched, accumulate=accumulate, quiet=True)
    val = None if val is None else _Stream(x[200 : 200 + val], y[200 : 200 + val], sized)
    t.fit(_Stream(x[:n], y[:n], sized), val, **fit)
    return t


@pytest.mark.parametrize("accumulate", [1, 2, 3])
def test_a_stream_without_len_trains_as_the_same_stream_with_one(accumulate):
    # 80 samples in batches of 32: 3 batches, the last one short; with accumulate=2 the last
    # group is one batch, which only the end of the stream can tell
    sized = _fit_stream(True, accumulate, n=80, val=40, epochs=3)
    unsized = _fit_stream(False, accumulate, n=80, val=40, epochs=3)
    assert sized.steps_per_epoch == 3 and unsized.steps_per_epoch is None
    assert unsized.global_step == sized.global_step == 3 * -(-3 // accumulate)
    for a, b in zip(sized.model.parameters(), unsized.model.parameters()):
        assert np.array_equal(a.array, b.array)
    assert unsized.history.epochs == sized.history.epochs  # val_loss of an unsized val stream
    assert unsized.scheduler.state_dict() == sized.scheduler.state_dict()
    assert unsized.where({"epoch": 1, "batch": 2, "step": 5}) == "step 5 (epoch 2, batch 3)"


def test_a_stream_capped_by_steps_stops_there_and_an_empty_one_is_refused():
    t = _fit_stream(False, n=96, epochs=5, steps=4)
    assert (t.global_step, t.epoch) == (4, 1)  # 3 steps an epoch
    with pytest.raises(ValueError, match="the training data is empty"):
        _fit_stream(False, n=0)
    with pytest.raises(ValueError, match="Trainer.fit: the validation data is empty"):
        _fit_stream(False, n=64, val=0)
    t = _fit_stream(False, n=64)
    with pytest.raises(ValueError, match="Trainer.evaluate: the data is empty"):
        t.evaluate(_Stream(np.zeros((0, 64), np.float32), np.zeros(0, np.int64), False))
    x, y = small_digits(64).arrays
    assert t.predict(_Stream(x, y, False)).shape == (64, 10)


def test_make_loader_shuffles_every_map_style_input_from_the_trainers_generator():
    from neuronet.train.batches import make_loader

    g = nt.Generator(3)
    x, y = small_digits(40).arrays
    for data in (nt.tensor(x), TensorDataset(x, y)):
        loader = make_loader(data, 8, True, g)
        assert loader.generator is g and isinstance(loader.sampler, nt.data.RandomSampler)
