"""What the Trainer writes, and when: never after a non-finite loss, only through callbacks,
and what it refuses to resume from."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuronet as nt
from neuronet import io, nn, optim
from neuronet.data import DataLoader, TensorDataset, load_digits
from neuronet.io import CheckpointError, files
from neuronet.train import Callback, ModelCheckpoint, TerminateOnNaN, Trainer


def _sealed(path, tensors: dict, metadata: dict) -> None:
    """A file with a valid checksum over whatever content it is given."""
    meta = {"neuronet.format_version": str(files.FORMAT_VERSION), **metadata}
    meta[files.CRC_KEY] = files.checksum(tensors, meta)
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))


def _model(seed=0):
    nt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def _loader(n=200, nan_at=None):
    """n digits in a fixed order (batches of 32), optionally with NaN in one sample."""
    x, y = load_digits("train").arrays
    x = x[:n].copy()
    if nan_at is not None:
        x[nan_at, 5] = np.nan
    return DataLoader(TensorDataset(x, y[:n]), batch_size=32)


class Poison(Callback):
    """Puts a NaN into the first weight after optimizer step ``at`` (the next loss is NaN)."""

    def __init__(self, at: int):
        self.at = at

    def on_train_batch_end(self, step, logs=None):
        if step == self.at:
            self.trainer.model[0].weight.array[0, 0] = np.nan


def _finite_file(path) -> bool:
    return all(np.isfinite(t.array).all() for t in io.load_state_dict(path).values())


@pytest.mark.parametrize("stopper", ["TerminateOnNaN", "doctor's Monitor", None], ids=str)
def test_a_non_finite_loss_never_overwrites_a_finite_checkpoint(tmp_path, capsys, stopper):
    model = _model()
    weights = ModelCheckpoint(tmp_path / "weights", monitor="loss")
    # NaN from optimizer step 10 on: epoch 2, batch 3 (1-based), 7 batches per epoch
    callbacks = [Poison(at=9), weights] + (
        [TerminateOnNaN()] if stopper == "TerminateOnNaN" else []
    )
    trainer = Trainer(
        model,
        "cross_entropy",
        optim.SGD(model.parameters(), lr=0.1),
        callbacks=callbacks,
        out_dir=tmp_path / "run",
        monitor=stopper == "doctor's Monitor",
    )
    trainer.fit(_loader(), epochs=4)
    at = trainer.nonfinite
    assert (at["epoch"], at["batch"], at["step"]) == (1, 2, 10) and math.isnan(at["loss"])
    assert trainer.epoch == (4 if stopper is None else 1)  # without a stopper it runs on
    state = tmp_path / "run" / "checkpoint.safetensors"
    assert io.read_metadata(state)["extra"]["trainer"]["epoch"] == 1  # after epoch 1, not later
    for path in (state, weights.last_path, weights.best_path):
        assert _finite_file(path), path
    assert weights.best_epoch == 0
    err = capsys.readouterr().err
    assert "the loss became nan at step 10 (epoch 2, batch 3/7)" in err
    assert "checkpoint.safetensors keeps the last finite state" in err
    model = _model(4)
    resumed = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), quiet=True)
    resumed.fit(_loader(), epochs=1, resume=state)  # the finite state resumes
    assert resumed.epoch == 1 and resumed.nonfinite is None


def test_terminate_on_nan_names_the_step_and_batch(tmp_path):
    model = _model()
    stopper = TerminateOnNaN()
    trainer = Trainer(
        model,
        "cross_entropy",
        optim.SGD(model.parameters(), lr=0.1),
        callbacks=[stopper],
        quiet=True,
    )
    trainer.fit(_loader(nan_at=32 * 3 + 1), epochs=2)
    assert stopper.bad_step == 4 and trainer.global_step == 4
    assert trainer.stop_reason == (
        "TerminateOnNaN: the loss became nan at step 4 (epoch 1, batch 4/7)"
    )
    assert trainer.history.epochs == []  # the stopped epoch is unfinished, not a fake row


def test_model_checkpoint_writes_the_training_state_at_every_checkpoint(tmp_path):
    model = _model()
    ckpt = ModelCheckpoint(tmp_path, monitor=None, save_last=False)
    trainer = Trainer(
        model, "cross_entropy", optim.Adam(model.parameters()), callbacks=[ckpt], quiet=True
    )
    x, y = load_digits("train").arrays
    trainer.fit(TensorDataset(x[:64], y[:64]), epochs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors"]
    assert io.read_metadata(ckpt.state_path)["extra"]["trainer"]["epoch"] == 2


class StopAfter(Callback):
    def __init__(self, batches: int):
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, step, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            self.trainer.stop_training = True


def _run_checkpoint(tmp_path) -> Path:
    """A checkpoint written inside an accumulation group (3 batches, accumulate=2)."""
    model = _model()
    trainer = Trainer(
        model,
        "cross_entropy",
        optim.Adam(model.parameters()),
        metrics=["accuracy"],
        callbacks=[StopAfter(3)],
        accumulate=2,
        quiet=True,
        out_dir=tmp_path,
    )
    x, y = load_digits("train").arrays
    trainer.fit(TensorDataset(x[:128], y[:128]), epochs=1)
    assert trainer.global_step == 1 and trainer.phase == "train"
    return tmp_path / "checkpoint.safetensors"


def _fresh_trainer(**kwargs):
    model = _model(1)
    return Trainer(
        model,
        "cross_entropy",
        optim.Adam(model.parameters()),
        metrics=kwargs.pop("metrics", ["accuracy"]),
        quiet=True,
        **kwargs,
    )


def test_resume_refuses_what_does_not_fit(tmp_path):
    path = _run_checkpoint(tmp_path)
    x, y = load_digits("train").arrays
    data = TensorDataset(x[:128], y[:128])
    with pytest.raises(CheckpointError, match="accumulate=2 in the middle of an accumulation"):
        _fresh_trainer(accumulate=1).fit(data, epochs=1, resume=path)
    with pytest.raises(CheckpointError, match=r"with 1 metric\(s\), this Trainer has \[\]"):
        _fresh_trainer(metrics=[], accumulate=2).fit(data, epochs=1, resume=path)
    with pytest.raises(CheckpointError, match="dataset_length=128 but this loader has"):
        _fresh_trainer(accumulate=2).fit(TensorDataset(x[:64], y[:64]), epochs=1, resume=path)
    weights = tmp_path / "w.safetensors"
    io.save(_model(), weights)
    with pytest.raises(CheckpointError, match="is a weights file written by neuronet.io.save"):
        _fresh_trainer().fit(data, epochs=1, resume=weights)
    bare = tmp_path / "bare.safetensors"
    io.save_checkpoint(bare, _model())
    with pytest.raises(CheckpointError, match="without training-loop state"):
        _fresh_trainer().fit(data, epochs=1, resume=bare)


def _mutate(draw, node):
    if isinstance(node, (dict, list)) and node and draw(st.integers(0, 4)):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        node[key] = _mutate(draw, node[key])
        return node
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 2**65),
        st.floats(),
        st.text(max_size=5),
        st.lists(st.integers(-2, 3), max_size=3),
        st.just({"__tensor__": "model.0.weight"}),
        st.just({}),
    )
    return draw(leaf)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_malformed_loop_state_is_a_checkpoint_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("state")
    tensors, metadata = files.read_safetensors(_run_checkpoint(folder))
    document = json.loads(metadata["neuronet.checkpoint"])
    document["extra"] = _mutate(data.draw, document["extra"])
    metadata["neuronet.checkpoint"] = json.dumps(document)
    path = folder / "bad.safetensors"
    _sealed(path, tensors, {k: v for k, v in metadata.items() if k != files.CRC_KEY})
    trainer = _fresh_trainer(accumulate=2)
    before = {k: v.array.copy() for k, v in trainer.model.state_dict().items()}
    x, y = load_digits("train").arrays
    try:
        trainer.fit(TensorDataset(x[:128], y[:128]), epochs=1, resume=path)
    except CheckpointError:
        for k, v in trainer.model.state_dict().items():  # nothing was loaded
            assert np.array_equal(v.array, before[k]), k
