"""neuronet.save / neuronet.load: what PyTorch users save (state dicts, optimizer state, training
checkpoints as dicts), round-tripped exactly, without pickle, atomically, readable by PyTorch."""

from __future__ import annotations

import io

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn, optim
from neuronet.io import files
from neuronet.io.files import CheckpointError


def _trained():
    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        model(nt.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    return model, opt


def test_a_training_checkpoint_round_trips_exactly(tmp_path):
    model, opt = _trained()
    path = tmp_path / "ckpt.pt"
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "epoch": 7,
        "loss": 0.25,
        "name": "run-1",
        "history": [1.0, 0.5, (2, "x")],
        "best": None,
    }
    nt.save(checkpoint, path)
    loaded = nt.load(path)
    assert loaded["epoch"] == 7 and loaded["loss"] == 0.25 and loaded["name"] == "run-1"
    assert loaded["history"] == [1.0, 0.5, (2, "x")] and loaded["best"] is None
    for key, value in model.state_dict().items():
        assert loaded["model"][key].dtype == value.dtype
        np.testing.assert_array_equal(loaded["model"][key].array, value.array)
    state = loaded["optimizer"]["state"]
    assert sorted(state) == sorted(opt.state_dict()["state"])  # int keys stay ints
    assert loaded["optimizer"]["param_groups"] == opt.state_dict()["param_groups"]

    fresh_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    fresh_opt = optim.Adam(fresh_model.parameters(), lr=1e-3)
    fresh_model.load_state_dict(loaded["model"])
    fresh_opt.load_state_dict(loaded["optimizer"])
    x = nt.randn(5, 3)
    for m, o in ((model, opt), (fresh_model, fresh_opt)):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()
    for a, b in zip(model.parameters(), fresh_model.parameters()):
        np.testing.assert_array_equal(a.array, b.array)  # the same next step, bit for bit


def test_a_state_dict_file_is_read_by_pytorch_and_back(tmp_path, torch):
    from safetensors.torch import load_file, save_file

    model, _ = _trained()
    path = tmp_path / "weights.safetensors"
    nt.save(model.state_dict(), path)
    theirs = load_file(str(path))
    assert sorted(theirs) == sorted(model.state_dict())
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    torch_model.load_state_dict(theirs)
    save_file(torch_model.state_dict(), str(tmp_path / "from_torch.safetensors"))
    with pytest.raises(nt.io.CheckpointError, match="no neuronet checksum.*verify=False"):
        nt.load(tmp_path / "from_torch.safetensors")  # a foreign file, only when asked
    back = nt.load(tmp_path / "from_torch.safetensors", verify=False)
    model.load_state_dict(back)


def test_file_objects_map_location_and_weights_only(tmp_path):
    buffer = io.BytesIO()
    nt.save({"w": nt.arange(3)}, buffer)
    buffer.seek(0)
    loaded = nt.load(buffer, map_location="cpu", weights_only=False)
    assert loaded["w"].tolist() == [0, 1, 2]
    nt.save({"w": nt.ones(1)}, tmp_path / "a")
    assert nt.load(tmp_path / "a", map_location=lambda storage, loc: storage)["w"].tolist() == [1.0]
    with pytest.raises(nt.DeviceError, match="CPU only"):
        nt.load(tmp_path / "a", map_location="cuda:0")


def test_objects_that_need_pickle_are_refused(tmp_path):
    model, opt = _trained()
    with pytest.raises(TypeError, match=r"cannot save a Sequential.*state_dict\(\)"):
        nt.save(model, tmp_path / "m")
    with pytest.raises(TypeError, match=r"'opt' holds a Adam object.*state_dict\(\)"):
        nt.save({"opt": opt}, tmp_path / "m")
    with pytest.raises(TypeError, match="no pickle"):
        nt.save({"f": lambda: 1}, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_the_write_is_atomic_and_checked(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    nt.save({"w": nt.zeros(1000)}, path)
    before = path.read_bytes()

    def crash(done, total):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_write_hook", crash)
    with pytest.raises(KeyboardInterrupt):
        nt.save({"w": nt.ones(1000)}, path)
    monkeypatch.setattr(files, "_write_hook", None)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    data = bytearray(before)
    data[-10] ^= 0xFF  # flip a bit in the tensor bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        nt.load(path)


def test_load_reads_weights_and_training_checkpoints_too(tmp_path):
    model, opt = _trained()
    nt.io.save(model, tmp_path / "w.safetensors")
    assert sorted(nt.load(tmp_path / "w.safetensors")) == sorted(model.state_dict())
    nt.io.save_checkpoint(tmp_path / "c.safetensors", model, opt, extra={"epoch": 2})
    parts = nt.load(tmp_path / "c.safetensors")
    assert parts["extra"] == {"epoch": 2} and sorted(parts["model"]) == sorted(model.state_dict())
    assert parts["optimizer"]["param_groups"] == opt.state_dict()["param_groups"]
