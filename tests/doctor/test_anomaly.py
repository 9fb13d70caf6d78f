"""Anomaly mode: the first NaN/Inf, forward or backward, named by op, module path, shapes, the
user's line and kind."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import nn
from neuronet.autograd import AnomalyError, detect_anomaly
from neuronet.autograd.anomaly import CALLS
from neuronet.autograd.engine import ANOMALY
from neuronet.autograd.function import Function

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0), x / 0 on purpose

HERE = "test_anomaly.py"


class Attention(nn.Module):
    """A block whose forward takes the log of a softmax's complement: -inf when it saturates."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, x):
        return (1.0 - F.softmax(self.proj(x) * 1e4, dim=1)).log()


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attention()

    def forward(self, x):
        return self.attn(x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), Block())

    def forward(self, x):
        return self.encoder(x)


def test_forward_nan_names_op_module_path_shapes_line_and_kind():
    nt.manual_seed(0)
    model = Encoder()
    x = nt.randn(3, 4)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            model(x)  # the line the error must name
    err = info.value
    assert isinstance(err, RuntimeError)
    assert err.op == "Log"
    assert err.phase == "forward"
    assert err.module == "encoder.2.attn"
    assert err.module_type == "Attention"
    assert err.kind == "inf"
    assert err.shapes == {"inputs": [(3, 4)], "output": (3, 4)}
    assert err.inputs_finite is True
    assert err.where.startswith(HERE + ":")
    line = int(err.where.split(":")[1])
    assert "log()" in open(__file__).read().splitlines()[line - 1]
    for part in ("Log.forward produced Inf", "'encoder.2.attn'", "Attention", err.where):
        assert part in str(err)


def test_backward_nan_names_the_module_recorded_at_forward_time():
    class SqrtHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return F.relu(self.fc(x)).sqrt()  # sqrt'(0) = inf

    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), SqrtHead())
    with nt.no_grad():
        model[1].fc.weight.array[...] = 0.0
        model[1].fc.bias.array[...] = 0.0
    x = nt.randn(5, 2)
    with detect_anomaly():
        loss = model(x).sum()  # forward is finite: sqrt(0) = 0
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    err = info.value
    assert (err.op, err.phase, err.kind) == ("Sqrt", "backward", "inf")
    assert err.module == "1"
    assert err.module_type == "SqrtHead"
    assert err.shapes["grad"] == (5, 2)
    assert err.shapes["input_index"] == 0
    assert err.inputs_finite is True
    assert err.where.startswith(HERE + ":")
    assert "Sqrt.backward produced Inf" in str(err)


def test_nan_from_the_data_is_reported_as_such():
    model = nn.Sequential(nn.Linear(3, 2))
    x = nt.tensor(np.array([[1.0, np.nan, 0.0]], dtype=np.float32))
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        model(x)
    assert info.value.op.startswith("Linear")
    assert info.value.module == "0"
    assert info.value.kind == "nan"
    assert info.value.inputs_finite is False
    assert "already held NaN/Inf" in str(info.value)


def test_ops_outside_any_module_name_the_users_line():
    x = nt.tensor([1.0, 0.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x / 0.0
    err = info.value
    assert err.module is None and err.module_type is None
    assert err.op == "Div" and err.kind == "nan"
    assert err.where.startswith(HERE + ":")
    assert "outside any module" in str(err)


def test_large_finite_values_whose_sum_overflows_are_not_reported():
    x = nt.tensor(np.full(1000, 3e37, dtype=np.float32), requires_grad=True)
    with detect_anomaly():
        y = x * 1.0  # finite, although np.sum(y) overflows to inf
    assert np.isfinite(y.array).all()


def test_user_defined_function_backward_is_checked():
    class NaNGrad(Function):
        """y = x;  dL/dx = NaN (a broken backward)."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad_out):
            return (grad_out * np.nan,)

    x = nt.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = NaNGrad.apply(x).sum()
        with pytest.raises(AnomalyError, match="NaNGrad.backward produced NaN"):
            y.backward()


def test_mode_is_restored_and_the_call_stack_is_empty_after_errors():
    model = Encoder()
    assert ANOMALY.enabled is False
    with detect_anomaly():
        assert nt.autograd.is_anomaly_enabled()
        with pytest.raises(AnomalyError):
            model(nt.randn(2, 4))
    assert ANOMALY.enabled is False
    assert CALLS.frames == []
    assert not nt.autograd.is_anomaly_enabled()


def test_check_nan_false_keeps_tracking_but_does_not_raise():
    model = Encoder()
    with detect_anomaly(check_nan=False):
        out = model(nt.randn(2, 4))
        assert not nt.autograd.is_anomaly_check_nan_enabled()
    assert not np.isfinite(out.array).all()


def test_decorator_and_set_detect_anomaly():
    @detect_anomaly()
    def step():
        return nt.tensor([0.0], requires_grad=True).log()

    with pytest.raises(AnomalyError):
        step()
    assert not nt.autograd.is_anomaly_enabled()
    with nt.autograd.set_detect_anomaly(True):
        assert nt.autograd.is_anomaly_enabled()
    assert not nt.autograd.is_anomaly_enabled()


def test_anomaly_mode_gives_the_same_numbers():
    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x, y = nt.randn(6, 4), nt.tensor([0, 1, 2, 0, 1, 2])
    F.cross_entropy(model(x), y).backward()
    plain = [p.grad.array.copy() for p in model.parameters()]
    model.zero_grad()
    with detect_anomaly():
        F.cross_entropy(model(x), y).backward()
    for a, p in zip(plain, model.parameters()):
        np.testing.assert_array_equal(a, p.grad.array)
