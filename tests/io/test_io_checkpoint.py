"""Training checkpoints: full state round trip, RNG and loader restore, exact resume, crash
safety (a writer killed mid-write), and the errors."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from io_fakes import FakeScheduler, FakeSGD, sealed
from safetensors import safe_open

import neuronet as nt
import neuronet.functional as F
from neuronet import io, nn
from neuronet.data import DataLoader, Subset, TransformDataset, batch_generator, load_digits
from neuronet.data.transforms import Lambda
from neuronet.io import CheckpointError, files


def _setup(seed=0):
    nt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    opt = FakeSGD(model.parameters(), lr=0.1)
    for p in model.parameters():
        p.grad = nt.ones(*p.shape)
    opt.step()
    sched = FakeScheduler(opt)
    sched.step()
    return model, opt, sched


def test_everything_round_trips(tmp_path):
    model, opt, sched = _setup(0)
    path = tmp_path / "ckpt.safetensors"
    extra = {"epoch": 3, "step": np.int64(120), "loss": np.float32(0.25), "hist": [1.5, None]}
    io.save_checkpoint(path, model, opt, sched, extra=extra, config={"hidden": (6,)})
    model2, opt2, sched2 = _setup(1)
    got = io.load_checkpoint(path, model2, opt2, sched2)
    assert got == extra and type(got["step"]) is np.int64 and type(got["loss"]) is np.float32
    for (k, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        np.testing.assert_array_equal(a.array, b.array, err_msg=k)
    assert set(opt2.state) == {0, 1, 2, 3}  # int keys come back as ints
    for i, st in opt.state.items():
        assert opt2.state[i]["step"] == st["step"]
        np.testing.assert_array_equal(opt2.state[i]["momentum_buffer"], st["momentum_buffer"])
        assert opt2.state[i]["momentum_buffer"].dtype == np.float32
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    assert sched2.state_dict() == sched.state_dict()
    meta = io.read_metadata(path)
    assert meta["config"] == {"hidden": (6,)} and meta["model_class"] == "Sequential"
    with safe_open(str(path), framework="np") as f:
        names = set(f.keys())
    assert {"model.0.weight", "optim.state.0.momentum_buffer", "rng.numpy.1"} <= names
    assert set(io.load_state_dict(path)) == set(model.state_dict())  # weights part alone
    fresh = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    io.load(fresh, path)
    np.testing.assert_array_equal(fresh[0].weight.array, model[0].weight.array)


def test_config_comes_from_the_model(tmp_path):
    model = nn.Linear(2, 2)
    model.config = {"in_features": 2, "out_features": 2}
    io.save_checkpoint(tmp_path / "c.safetensors", model)
    assert io.read_metadata(tmp_path / "c.safetensors")["config"] == model.config


def test_rng_states_are_restored(tmp_path):
    model = nn.Linear(2, 2)
    path = tmp_path / "rng.safetensors"
    nt.manual_seed(4)
    np.random.seed(4)
    random.seed(4)
    io.save_checkpoint(path, model)
    want = (nt.randn(3).tolist(), np.random.rand(3).tolist(), random.random())
    nt.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    io.load_checkpoint(path, model)
    assert (nt.randn(3).tolist(), np.random.rand(3).tolist(), random.random()) == want
    nt.manual_seed(99)
    io.load_checkpoint(path, model, restore_rng=False)
    assert nt.randn(3).tolist() != want[0]


def test_data_loader_position_is_restored(tmp_path):
    data = load_digits("test")
    loader = DataLoader(data, 50, shuffle=True, generator=nt.Generator(0))
    reference = [y.tolist() for _, y in loader]
    loader = DataLoader(data, 50, shuffle=True, generator=nt.Generator(0))
    it = iter(loader)
    head = [next(it)[1].tolist() for _ in range(3)]
    path = tmp_path / "l.safetensors"
    io.save_checkpoint(path, nn.Linear(64, 10), data_loader=loader)
    resumed = DataLoader(data, 50, shuffle=True, generator=nt.Generator(1))
    io.load_checkpoint(path, nn.Linear(64, 10), data_loader=resumed)
    assert head + [y.tolist() for _, y in resumed] == reference


# ---- exact resume of a training run ---------------------------------------------------------
def _noise(x):
    return nt.Tensor(x.array + batch_generator().normal(x.shape, std=0.05))


def _build(seed, loader_seed=None):
    nt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
    opt = FakeSGD(model.parameters(), lr=0.05)
    sched = FakeScheduler(opt)
    data = TransformDataset(Subset(load_digits("train"), np.arange(200)), Lambda(_noise))
    generator = None if loader_seed is None else nt.Generator(loader_seed)
    return model, opt, sched, DataLoader(data, batch_size=32, shuffle=True, generator=generator)


def _train(model, opt, sched, loader, epochs, path=None, stop=None):
    model.train()
    while loader.epoch < epochs:
        epoch = loader.epoch
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if stop == (epoch, loader.batch_index):
                io.save_checkpoint(path, model, opt, sched, {"epoch": epoch}, data_loader=loader)
                return
        sched.step()


@pytest.mark.parametrize("loader_seed", [None, 5], ids=["default-generator", "own-generator"])
@pytest.mark.parametrize("stop", [(1, 3), (2, 0)], ids=["mid-epoch", "epoch-end"])
def test_resume_gives_bitwise_identical_weights(tmp_path, stop, loader_seed):
    straight = _build(0, loader_seed)
    _train(*straight, epochs=4)
    path = tmp_path / "mid.safetensors"
    first = _build(0, loader_seed)
    if stop[1] == 0:  # a checkpoint between epochs: stop after the last batch of epoch 1
        stop = (1, len(first[3]))
    _train(*first, epochs=4, path=path, stop=stop)
    resumed = _build(123, None if loader_seed is None else 77)  # restored from the checkpoint
    assert io.load_checkpoint(path, *resumed[:3], data_loader=resumed[3]) == {"epoch": stop[0]}
    _train(*resumed, epochs=4)
    for (k, a), (_, b) in zip(straight[0].state_dict().items(), resumed[0].state_dict().items()):
        assert np.array_equal(a.array, b.array), k
    assert resumed[2].last_epoch == straight[2].last_epoch == 4


# ---- crash safety ---------------------------------------------------------------------------
_WRITER = textwrap.dedent(
    """
    import os, sys, time
    import neuronet as nt
    from neuronet import io, nn
    from neuronet.io import files

    path, marker = sys.argv[1], sys.argv[2]
    model = nn.Linear(1000, 2000)  # 8 MB of float32: several 1 MiB chunks

    def slow(done, total):
        open(marker, "w").close()
        time.sleep(60)

    files._write_hook = slow
    io.save_checkpoint(path, model, extra={"version": 2})
    """
)


def test_a_writer_killed_mid_write_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model = nn.Linear(1000, 2000)
    io.save_checkpoint(path, model, extra={"version": 1})
    marker = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(marker)])
    try:
        deadline = time.time() + 60
        while not marker.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert marker.exists(), "the writer never started writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size < path.stat().st_size
    assert io.load_checkpoint(path, model) == {"version": 1}


def test_a_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    model = nn.Linear(300, 1000)
    io.save_checkpoint(path, model, extra={"version": 1})

    def fail(done, total):
        raise OSError("disk full")

    monkeypatch.setattr(files, "_write_hook", fail)
    with pytest.raises(OSError, match="disk full"):
        io.save_checkpoint(path, model, extra={"version": 2})
    monkeypatch.setattr(files, "_write_hook", None)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]
    assert io.load_checkpoint(path, model) == {"version": 1}


# ---- errors ---------------------------------------------------------------------------------
def test_load_errors(tmp_path):
    model, opt, sched = _setup(0)
    weights = tmp_path / "w.safetensors"
    io.save(model, weights)
    with pytest.raises(CheckpointError, match="is a weights file written by neuronet.io.save"):
        io.load_checkpoint(weights, model)
    bare = tmp_path / "bare.safetensors"
    io.save_checkpoint(bare, model)
    with pytest.raises(CheckpointError, match="holds no optimizer state; pass optimizer=None"):
        io.load_checkpoint(bare, model, opt)
    with pytest.raises(CheckpointError, match="holds no scheduler state"):
        io.load_checkpoint(bare, model, scheduler=sched)
    with pytest.raises(CheckpointError, match="holds no data loader state"):
        io.load_checkpoint(bare, model, data_loader=DataLoader(load_digits("test")))
    full = tmp_path / "full.safetensors"
    io.save_checkpoint(full, model, opt, sched)
    other_model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    before = other_model[0].weight.array.copy()
    small_opt = FakeSGD(list(other_model.parameters())[:2])
    with pytest.raises(CheckpointError, match=r"parameter groups of sizes \[4\], this FakeSGD has"):
        io.load_checkpoint(full, other_model, small_opt)
    np.testing.assert_array_equal(other_model[0].weight.array, before)
    with pytest.raises(
        CheckpointError, match=r"\(saved from a Sequential\) does not fit this Linear"
    ):
        io.load_checkpoint(full, nn.Linear(4, 6))


def test_a_failing_optimizer_load_rolls_the_model_back(tmp_path):
    model, opt, _ = _setup(0)
    path = tmp_path / "c.safetensors"
    io.save_checkpoint(path, model, opt)
    target, target_opt, _ = _setup(7)
    before = {k: v.array.copy() for k, v in target.state_dict().items()}

    def broken(state):
        raise ValueError("optimizer refuses")

    target_opt.load_state_dict = broken
    with pytest.raises(CheckpointError, match="optimizer state does not fit.*optimizer refuses"):
        io.load_checkpoint(path, target, target_opt)
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v.array, before[k])


def test_save_errors_and_bad_metadata(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot store a object at 'extra.fn' in a checkpoint"):
        io.save_checkpoint(tmp_path / "x.safetensors", model, extra={"fn": object()})
    assert not list(tmp_path.iterdir())
    bad = tmp_path / "bad.safetensors"
    meta = {"neuronet.kind": "checkpoint", "neuronet.checkpoint": "{not json"}
    sealed(bad, {"model.weight": np.zeros((2, 2))}, meta)  # a valid checksum over bad content
    with pytest.raises(CheckpointError, match="'neuronet.checkpoint' is not valid JSON"):
        io.load_checkpoint(bad, model)
    sealed(bad, {"model.weight": np.zeros((2, 2))}, {**meta, "neuronet.format_version": "7"})
    with pytest.raises(CheckpointError, match="has format version '7'.*Upgrade neuronet"):
        io.load_checkpoint(bad, model)


# ---- with neuronet.optim (the real optimizers and schedules) --------------------------------
def _build_real(seed):
    from neuronet import optim

    model, _, _, loader = _build(seed)
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=1e-4)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    return model, opt, sched, loader


def test_real_adam_and_steplr_resume_bitwise(tmp_path):
    straight = _build_real(0)
    _train(*straight, epochs=3)
    path = tmp_path / "adam.safetensors"
    first = _build_real(0)
    _train(*first, epochs=3, path=path, stop=(1, 2))
    resumed = _build_real(9)
    io.load_checkpoint(path, *resumed[:3], data_loader=resumed[3])
    saved = io.read_metadata(path)["optimizer"]
    assert saved["param_groups"][0]["betas"] == (0.9, 0.99)
    assert saved["state"][0]["exp_avg"].dtype == np.float32
    _train(*resumed, epochs=3)
    for (k, a), (_, b) in zip(straight[0].state_dict().items(), resumed[0].state_dict().items()):
        assert np.array_equal(a.array, b.array), k
    assert resumed[2].state_dict() == straight[2].state_dict()
    assert resumed[1].param_groups[0]["lr"] == straight[1].param_groups[0]["lr"]
