"""neuronet.summary: the layer table, parameter totals, memory figures, and that the dummy pass
leaves the model exactly as it was (modes, hooks, gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from neuronet.nn.summary import ModelSummary


def _mlp():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 128),
        nn.ReLU(),
        nn.Sequential(nn.Linear(128, 64), nn.GELU()),
        nn.Linear(64, 10),
    )


def test_rows_totals_and_table(capsys):
    net = _mlp()
    s = nt.summary(net, (32, 1, 28, 28))
    assert isinstance(s, ModelSummary)
    expected = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert s.total_params == s.trainable_params == expected == 109_386
    assert s.non_trainable_params == 0
    assert [(r.path, r.type_name, r.output_shape, r.params) for r in s.rows] == [
        ("", "Sequential", (32, 10), 0),
        ("0", "Flatten", (32, 784), 0),
        ("1", "Linear", (32, 128), 100_480),
        ("2", "ReLU", (32, 128), 0),
        ("3", "Sequential", (32, 64), 0),
        ("3.0", "Linear", (32, 64), 8_256),
        ("3.1", "GELU", (32, 64), 0),
        ("4", "Linear", (32, 10), 650),
    ]
    table = str(s)
    assert table == capsys.readouterr().out.rstrip("\n")
    assert "Layer (type)" in table and "Output Shape" in table and "Param #" in table
    assert "    3.0 (Linear)" in table and "(32, 64)" in table and "8,256" in table
    assert "Total params: 109,386" in table and "Trainable params: 109,386" in table
    assert repr(s) == table


def test_memory_figures():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    s = nt.summary(net, (3, 4), verbose=False)
    assert s.params_bytes == (4 * 8 + 8 + 8 * 2 + 2) * 4
    # leaf outputs only (the container's output is its last child's): 3*8 + 3*8 + 3*2 floats
    assert s.activations_bytes == (24 + 24 + 6) * 4
    assert s.input_bytes == 3 * 4 * 4
    assert s.params_mb == pytest.approx(s.params_bytes / 2**20)
    assert f"Params size (MB): {s.params_mb:.2f}" in str(s)


def test_trainable_and_shared_parameters():
    shared = nn.Linear(5, 5)
    net = nn.Sequential(shared, nn.Tanh(), shared, nn.Linear(5, 2))
    net[3].requires_grad_(False)
    s = nt.summary(net, (2, 5), verbose=False)
    assert s.total_params == 30 + 12
    assert s.trainable_params == 30 and s.non_trainable_params == 12
    assert [r.path for r in s.rows] == ["", "0", "1", "0", "3"]  # the shared layer runs twice


def test_model_is_left_as_it_was():
    net = _mlp()
    net.train()
    net[3].eval()
    modes = [m.training for m in net.modules()]
    nt.summary(net, (2, 784), verbose=False)
    assert [m.training for m in net.modules()] == modes
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    assert all("_summary_rows" not in m.__dict__ for m in net.modules())
    assert all(p.grad is None for p in net.parameters())


def test_runs_in_eval_mode_without_recording():
    seen = {}

    class Probe(nn.Module):
        def forward(self, x):
            seen["training"] = self.training
            seen["grad"] = nt.is_grad_enabled()
            return x

    nt.summary(nn.Sequential(Probe()), (1, 3), verbose=False)
    assert seen == {"training": False, "grad": False}


def test_batch_size_multiple_inputs_dtypes_and_tuple_outputs():
    s = nt.summary(_mlp(), (784,), batch_size=16, verbose=False)
    assert s.rows[0].output_shape == (16, 10)

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, a, idx):
            assert idx.dtype == np.int64 and (idx.array == 0).all()
            y = self.fc(a)
            return y, a

    s = nt.summary(Pair(), [(4, 3), (4,)], dtype=["float32", "int64"], verbose=False)
    assert s.rows[0].output_shape == [(4, 2), (4, 3)]
    assert "(4, 2), (4, 3)" in str(s)
    real = nt.randn(5, 3)
    s = nt.summary(Pair(), input_data=[real, nt.zeros(5, dtype="int64")], verbose=False)
    assert s.rows[1].output_shape == (5, 2)


def test_errors_restore_the_model():
    net = nn.Sequential(nn.Linear(4, 2))
    net.train()
    with pytest.raises(ValueError, match="Linear at '0': expected input with last dimension 4"):
        nt.summary(net, (2, 5), verbose=False)
    assert net.training and not net[0]._forward_hooks
    with pytest.raises(TypeError, match="input_size must be a shape such as"):
        nt.summary(net, "big", verbose=False)
    with pytest.raises(TypeError, match="give input_size"):
        nt.summary(net, verbose=False)
