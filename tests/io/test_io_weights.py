"""neuronet.io.save / load / load_state_dict: round trips, PyTorch interop, bad files."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from safetensors import safe_open

import neuronet as nt
from neuronet import io, nn
from neuronet.io import CheckpointError


def _model(seed=0):
    nt.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k].array, sb[k].array, err_msg=k)


def test_round_trip_keeps_values_dtypes_and_buffers(tmp_path, rng):
    model = _model(0)
    model.train()
    model(nt.tensor(rng.standard_normal((4, 5)).astype(np.float32)))  # move BN running stats
    path = tmp_path / "m.safetensors"
    io.save(model, path, metadata={"note": "hello", "hparams": {"lr": 0.1}})
    fresh = _model(1)
    assert io.load(fresh, path) == ([], [])
    _same_state(model, fresh)
    assert fresh.state_dict()["1.num_batches_tracked"].dtype == np.int64
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    assert meta["note"] == "hello" and json.loads(meta["hparams"]) == {"lr": 0.1}
    assert meta["format"] == "pt" and meta["neuronet.kind"] == "weights"
    assert meta["neuronet.model_class"] == "Sequential"
    state = io.load_state_dict(path)
    assert set(state) == set(model.state_dict()) and isinstance(state["0.weight"], nt.Tensor)
    double = _model(0).double()
    io.save(double.state_dict(), tmp_path / "d.safetensors")
    assert io.load_state_dict(tmp_path / "d.safetensors")["0.weight"].dtype == np.float64


def test_strict_false_and_state_dict_input(tmp_path):
    io.save({"weight": np.ones((2, 3), np.float32)}, tmp_path / "w.safetensors")
    layer = nn.Linear(3, 2)
    missing, unexpected = io.load(layer, tmp_path / "w.safetensors", strict=False)
    assert missing == ["bias"] and unexpected == []
    np.testing.assert_array_equal(layer.weight.array, np.ones((2, 3)))


def _torch_twin(torch):
    return torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    )


def test_pytorch_opens_our_file(tmp_path, torch, rng):
    from safetensors.torch import load_file

    model = _model(0).eval()
    path = tmp_path / "ours.safetensors"
    io.save(model, path)
    theirs = _torch_twin(torch).eval()
    theirs.load_state_dict(load_file(str(path)))  # strict: same names and shapes
    x = rng.standard_normal((4, 5)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(nt.tensor(x)).array, want, rtol=1e-6, atol=1e-6)


def test_we_open_a_pytorch_file(tmp_path, torch, rng):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    theirs = _torch_twin(torch).eval()
    path = tmp_path / "theirs.safetensors"
    save_file(theirs.state_dict(), str(path))
    model = _model(5).eval()
    with pytest.raises(CheckpointError, match="has no neuronet checksum.*verify=False"):
        io.load(model, path)  # a foreign file is only read when the caller says so
    io.load(model, path, verify=False)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(nt.tensor(x)).array, want, rtol=1e-6, atol=1e-6)


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at .*nope.safetensors"):
        io.load(_model(), tmp_path / "nope.safetensors")
    path = tmp_path / "m.safetensors"
    io.save(_model(), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) - 7])
    with pytest.raises(
        CheckpointError, match=r"cut.safetensors' is not a valid safetensors .*trunc"
    ):
        io.load(_model(), cut)
    cut.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match="it has only 5 bytes"):
        io.load(_model(), cut)
    zipped = tmp_path / "model.pt"
    zipped.write_bytes(b"PK\x03\x04" + bytes(64))
    with pytest.raises(CheckpointError, match="zip archive: a PyTorch .pt/.pth file") as err:
        io.load(_model(), zipped)
    assert "neuronet.io.load_torch(model, path)" in str(err.value)  # the safe way to read it
    text = tmp_path / "cfg.safetensors"
    text.write_text('{"a": 1}' * 4)
    with pytest.raises(CheckpointError, match="looks like a JSON file"):
        io.load_state_dict(text)


class _Exploit:
    """Unpickling this would create a marker file (it never must)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_unpickles(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(_Exploit(str(marker)), protocol=4))
    with pytest.raises(CheckpointError, match="looks like a Python pickle"):
        io.load(_model(), evil)
    assert not marker.exists()


def test_corrupt_data_is_caught_by_the_checksum(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(_model(), path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # flip one bit inside the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError, match="is corrupt: the checksum of its header and tensor data"
    ):
        io.load(_model(), path)


def test_a_different_model_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "m.safetensors"
    io.save(_model(), path)
    other = nn.Sequential(nn.Linear(5, 9), nn.BatchNorm1d(9), nn.ReLU(), nn.Linear(9, 3))
    before = {k: v.array.copy() for k, v in other.state_dict().items()}
    expected = r"(?s)m.safetensors' \(saved from a Sequential\) does not fit this Sequential"
    expected += r".*0.weight: checkpoint has shape \(8, 5\), this model has \(9, 5\)"
    with pytest.raises(CheckpointError, match=expected):
        io.load(other, path)
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v.array, before[k])
    with pytest.raises(CheckpointError, match=r"Unexpected key\(s\): 1.bias"):
        io.load(nn.Sequential(nn.Linear(5, 8)), path)


def test_save_errors(tmp_path):
    with pytest.raises(ValueError, match="metadata key 'format' is reserved"):
        io.save(_model(), tmp_path / "a.safetensors", metadata={"format": "x"})
    with pytest.raises(FileNotFoundError, match="the directory .*missing' does not exist"):
        io.save(_model(), tmp_path / "missing" / "a.safetensors")
    with pytest.raises(TypeError, match="expected a Module or a state dict"):
        io.save([1, 2], tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="cannot save 'w': expected a Tensor or NumPy array"):
        io.save({"w": [1.0]}, tmp_path / "a.safetensors")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind
