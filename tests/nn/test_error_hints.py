"""Error messages point at the likely fix, and name the module once (never "MaxPool2d:
max_pool2d: ...")."""

from __future__ import annotations

import re

import pytest

import neuronet as nt
from neuronet import nn


def test_a_batch_of_single_channel_images_suggests_unsqueeze():
    conv = nn.Sequential(nn.Conv2d(1, 6, 3))
    with pytest.raises(ValueError) as info:
        conv(nt.randn(4, 8, 8))
    message = str(info.value)
    assert "Conv2d at '0'" in message and "x.unsqueeze(1) -> (4, 1, 8, 8)" in message
    assert "in_channels=4" not in message
    with pytest.raises(ValueError, match=r"unsqueeze\(1\) -> \(4, 1, 16\)"):
        nn.Conv1d(1, 2, 3)(nt.randn(4, 16))
    with pytest.raises(ValueError, match="set in_channels=4"):  # a real channel mismatch
        nn.Conv2d(3, 6, 3)(nt.randn(2, 4, 8, 8))


def test_integer_input_to_linear_suggests_float():
    with pytest.raises(TypeError) as info:
        nn.Linear(3, 2)(nt.tensor([[1, 2, 3]]))
    message = str(info.value)
    assert "x.float()" in message and "model.to" not in message
    with pytest.raises(TypeError, match=r"x\.to\('float32'\)\) or the model \(model\.to"):
        nn.Linear(3, 2)(nt.ones(1, 3, dtype=nt.float64))


BAD_CALLS = [
    lambda: nn.MaxPool2d(2)(nt.randn(3)),
    lambda: nn.MaxPool2d(5)(nt.randn(1, 1, 2, 2)),
    lambda: nn.AvgPool2d(5)(nt.randn(1, 1, 2, 2)),
    lambda: nn.AdaptiveAvgPool2d(2)(nt.randn(3)),
    lambda: nn.AvgPool1d(2)(nt.tensor([[1, 2, 3, 4]])),
    lambda: nn.Embedding(3, 2)(nt.tensor([5])),
    lambda: nn.Embedding(3, 2)(nt.ones(2)),
    lambda: nn.CrossEntropyLoss()(nt.randn(2, 3), nt.tensor([1.0, 2.0])),
    lambda: nn.CrossEntropyLoss()(nt.randn(2, 3), nt.tensor([1, 7])),
    lambda: nn.MSELoss()(nt.randn(2, 3), nt.randn(3, 2)),
    lambda: nn.BCEWithLogitsLoss()(nt.randn(2, 3), nt.randn(3)),
    lambda: nn.Sequential(nn.Linear(3, 2), nn.MaxPool1d(4))(nt.randn(2, 3)),
    lambda: nn.BatchNorm2d(3)(nt.randn(2, 4, 5, 5)),
    lambda: nn.LSTM(3, 4)(nt.randn(2, 5)),
    lambda: nn.Conv2d(1, 2, 3)(nt.randn(4, 8, 8)),
    lambda: nn.Linear(3, 2)(nt.tensor([[1, 2, 3]])),
]


@pytest.mark.parametrize("call", BAD_CALLS)
def test_messages_carry_one_prefix(call):
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError)) as info:
        call()
    message = str(info.value)
    prefix = re.match(r"([A-Za-z0-9]+(?: at '[^']*')?): ", message)
    assert prefix, message
    rest = message[prefix.end() :]
    assert not re.match(r"[a-z_0-9.]+: ", rest), f"repeated prefix: {message}"
