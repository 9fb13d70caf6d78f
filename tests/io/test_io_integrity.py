"""Integrity of checkpoint files: the checksum covers the header, unchecked files are refused
unless asked for, a writer killed with SIGKILL at any moment leaves the previous checkpoint
loadable, and no malformed file makes a loader raise anything but CheckpointError."""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_fakes import sealed

import neuronet as nt
from neuronet import io, nn, optim
from neuronet.data import DataLoader, TensorDataset
from neuronet.io import CheckpointError, files


def _setup(seed=0):
    nt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    opt = optim.Adam(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    data = TensorDataset(np.arange(40, dtype=np.float32).reshape(10, 4), np.arange(10) % 2)
    loader = DataLoader(data, batch_size=3, shuffle=True, generator=nt.Generator(seed))
    return model, opt, sched, loader


def _checkpoint(path):
    model, opt, sched, loader = _setup()
    for p in model.parameters():
        p.grad = nt.ones(*p.shape)
    opt.step()
    sched.step()
    it = iter(loader)
    next(it)
    io.save_checkpoint(path, model, opt, sched, extra={"step": 1200}, data_loader=loader)
    return path


def _header(path) -> tuple[int, bytes]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return n, data


def _edit_header(path, old: bytes, new: bytes) -> None:
    """Replace text inside the JSON header, keeping its length (the file stays well-formed)."""
    assert len(old) == len(new)
    n, data = _header(path)
    header = data[8 : 8 + n]
    assert header.count(old) == 1, (old, header[:300])
    path.write_bytes(data[:8] + header.replace(old, new) + data[8 + n :])


# ---- the checksum covers the header ---------------------------------------------------------
@pytest.mark.parametrize(
    "old, new, what",
    [
        (rb"\"lr\": 0.1,", rb"\"lr\": 0.9,", "learning rate"),
        (rb"\"step\": 1200", rb"\"step\": 9200", "step"),
        (rb"\"batch\": 1,", rb"\"batch\": 2,", "loader position"),
        (b'"neuronet.model_class":"Sequential"', b'"neuronet.model_class":"Sequentiol"', "class"),
        (b'"model.0.weight":{"dtype":"F32"', b'"model.0.weight":{"dtype":"I32"', "a dtype"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_an_edited_header_is_refused(tmp_path, old, new, what):
    path = _checkpoint(tmp_path / "c.safetensors")
    model, opt, sched, loader = _setup(1)
    io.load_checkpoint(path, model, opt, sched, data_loader=loader)  # the intact file loads
    _edit_header(path, old, new)
    model, opt, sched, loader = _setup(1)
    before = model[0].weight.array.copy()
    with pytest.raises(CheckpointError, match="checksum of its header and tensor data"):
        io.load_checkpoint(path, model, opt, sched, data_loader=loader)
    np.testing.assert_array_equal(model[0].weight.array, before)
    assert opt.param_groups[0]["lr"] == 0.1


def test_a_file_without_a_checksum_is_refused_unless_asked(tmp_path):
    path = _checkpoint(tmp_path / "c.safetensors")
    tensors, metadata = files.read_safetensors(path)
    del metadata[files.CRC_KEY]
    stripped = tmp_path / "stripped.safetensors"
    stripped.write_bytes(safetensors.numpy.save(tensors, metadata=metadata))
    model, opt, sched, loader = _setup(1)
    for load in (
        lambda p: io.load_checkpoint(p, model, opt, sched, data_loader=loader),
        lambda p: io.load(model, p),
        io.load_state_dict,
        io.read_metadata,
    ):
        with pytest.raises(CheckpointError, match="has no neuronet checksum.*verify=False"):
            load(stripped)
    extra = io.load_checkpoint(stripped, model, opt, sched, data_loader=loader, verify=False)
    assert extra == {"step": 1200}
    assert set(io.load_state_dict(stripped, verify=False)) == set(model.state_dict())


def test_format_1_files_are_still_read(tmp_path):
    model = nn.Linear(3, 2)
    tensors = {"weight": model.weight.array, "bias": model.bias.array}
    meta = {"neuronet.kind": "weights", "neuronet.format_version": "1"}
    meta["neuronet.crc32"] = files._checksum_v1(tensors)
    path = tmp_path / "old.safetensors"
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    fresh = nn.Linear(3, 2)
    io.load(fresh, path)
    np.testing.assert_array_equal(fresh.weight.array, model.weight.array)
    data = bytearray(path.read_bytes())
    data[-2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum of its tensor data does not match"):
        io.load(fresh, path)


# ---- SIGKILL at random moments of a write -----------------------------------------------------
_FORK_SERVER = textwrap.dedent(
    """
    import os, sys
    import neuronet as nt
    from neuronet import io, nn

    path = sys.argv[1]
    model = nn.Linear(512, 1024)  # 2 MB of float32 per write
    for line in sys.stdin:  # "VERSION": fork a writer that saves VERSION, VERSION+1, ... forever
        start = int(line)
        pid = os.fork()
        if pid == 0:
            version = start
            while True:
                io.save_checkpoint(path, model, extra={"version": version})
                version += 1
        print(pid, flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
    """
)


def test_kill_9_at_random_moments_always_leaves_a_loadable_checkpoint(tmp_path):
    kills = 100
    path = tmp_path / "ckpt.safetensors"
    model = nn.Linear(512, 1024)
    io.save_checkpoint(path, model, extra={"version": 0})
    server = subprocess.Popen(
        [sys.executable, "-c", _FORK_SERVER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    rng = random.Random(0)
    last = 0
    inside_write = 0
    try:
        for _ in range(kills):
            server.stdin.write(f"{last + 1}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.uniform(0.0, 0.08))
            os.kill(pid, signal.SIGKILL)
            assert server.stdout.readline().strip() == "reaped"
            leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            inside_write += bool(leftovers)
            for p in leftovers:
                p.unlink()
            version = io.load_checkpoint(path, model)["version"]  # never raises
            assert version >= last  # never an older file, never a mix
            last = version
    finally:
        server.kill()
        server.wait()
    print(f"{kills} kills, {inside_write} inside a write, {last} checkpoints completed")
    assert inside_write >= kills // 10  # the kills did land inside writes
    assert last > 0  # and between them some writes completed


# ---- fuzzing the loaders ----------------------------------------------------------------------
def _raw(header: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + body


_DTYPES = ["F32", "F64", "F16", "BF16", "I64", "I32", "U8", "I8", "BOOL", "F8_E4M3", "X9", ""]
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
)
_json = st.recursive(
    _json_leaf,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def _headers(draw):
    """A safetensors header with random dtypes, shapes, offsets and metadata."""
    header = {}
    if draw(st.booleans()):
        meta = draw(st.dictionaries(st.text(max_size=12), st.text(max_size=12) | _json, max_size=3))
        if draw(st.booleans()):
            meta["neuronet.kind"] = draw(st.sampled_from(["checkpoint", "weights", "x"]))
        header["__metadata__"] = meta
    for i in range(draw(st.integers(0, 3))):
        shape = draw(
            st.lists(
                st.one_of(st.integers(0, 4), st.integers(2**30, 2**64 - 1), st.integers(-3, -1)),
                max_size=3,
            )
        )
        a = draw(st.integers(-2, 64))
        b = draw(st.one_of(st.integers(-2, 64), st.integers(2**40, 2**64)))
        header[f"t{i}"] = {
            "dtype": draw(st.sampled_from(_DTYPES)),
            "shape": shape,
            "data_offsets": [a, b],
        }
    return header


@st.composite
def _bad_files(draw, valid: bytes):
    kind = draw(st.sampled_from(["truncate", "flip", "header", "raw", "duplicate", "utf8"]))
    if kind == "truncate":
        return valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "flip":
        data = bytearray(valid)
        at = draw(st.integers(0, len(data) - 1))
        data[at] ^= 1 << draw(st.integers(0, 7))
        return bytes(data)
    if kind == "header":
        header = json.dumps(draw(_headers())).encode()
        return _raw(header, draw(st.binary(max_size=64)))
    if kind == "duplicate":
        one = b'"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
        return _raw(b"{" + one + b", " + one + b"}", b"\0" * 4)
    if kind == "utf8":
        return _raw(b'{"__metadata__": {"k": "\xff\xfe"}}')
    size = draw(st.one_of(st.integers(0, 2**20), st.integers(2**40, 2**64 - 1)))
    return struct.pack("<Q", size) + draw(st.binary(max_size=64))


def _loaders(model, opt, sched, loader):
    for verify in (True, False):
        yield lambda p, v=verify: io.load(model, p, verify=v)
        yield lambda p, v=verify: io.load_state_dict(p, verify=v)
        yield lambda p, v=verify: io.load_checkpoint(
            p, model, opt, sched, data_loader=loader, verify=v
        )


def _only_checkpoint_errors(path, data, targets):
    path.write_bytes(data)
    tracemalloc.start()
    try:
        for load in _loaders(*targets):
            start = time.perf_counter()
            try:
                load(path)
            except CheckpointError:
                pass
            assert time.perf_counter() - start < 5.0  # no hang
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak  # no huge allocation


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_files_raise_only_checkpoint_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    valid = _checkpoint(folder / "valid.safetensors").read_bytes()
    bad = data.draw(_bad_files(valid))
    _only_checkpoint_errors(folder / "bad.safetensors", bad, _setup(1))


def _mutate(draw, node):
    """Replace one random subtree of a JSON document with random JSON."""
    if isinstance(node, (dict, list)) and node and draw(st.integers(0, 3)):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        node[key] = _mutate(draw, node[key])
        return node
    return draw(
        _json
        | st.sampled_from(
            [
                {"__tensor__": "model.0.weight"},
                {"__scalar__": 1, "dtype": "V8"},
                {"__pairs__": [[[1], 2]]},
            ]
        )
    )


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_well_sealed_but_malformed_checkpoints_raise_only_checkpoint_error(tmp_path_factory, data):
    """The checksum is valid, the content is not: every layer below the CRC must cope."""
    folder = tmp_path_factory.mktemp("sealed")
    tensors, metadata = files.read_safetensors(_checkpoint(folder / "valid.safetensors"))
    document = json.loads(metadata["neuronet.checkpoint"])
    document = _mutate(data.draw, document)
    metadata["neuronet.checkpoint"] = json.dumps(document)
    path = folder / "bad.safetensors"
    sealed(path, tensors, {k: v for k, v in metadata.items() if k != files.CRC_KEY})
    targets = _setup(1)
    before = {k: v.array.copy() for k, v in targets[0].state_dict().items()}
    _only_checkpoint_errors(path, path.read_bytes(), targets)
    for k, v in targets[0].state_dict().items():
        assert v.array.shape == before[k].shape
