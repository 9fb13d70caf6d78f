"""SyncBatchNorm outside a group of ranks is BatchNorm (the 2-rank equivalence with one process
of twice the batch is checked in ranks/features.py), and convert_sync_batchnorm keeps the
model's parameters and statistics."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from neuronet.distributed import SyncBatchNorm


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_single_process_equals_batchnorm(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    plain = nn.BatchNorm1d(3).double() if len(shape) < 4 else nn.BatchNorm2d(3).double()
    plain.weight.array[...] = rng.standard_normal(3)
    sync = SyncBatchNorm(3, dtype="float64")
    sync.load_state_dict(plain.state_dict())
    a = nt.tensor(x, requires_grad=True)
    b = nt.tensor(x, requires_grad=True)
    cotangent = nt.tensor(rng.standard_normal(shape))
    (plain(a) * cotangent).sum().backward()
    (sync(b) * cotangent).sum().backward()
    np.testing.assert_allclose(b.grad.array, a.grad.array, rtol=1e-12)
    np.testing.assert_allclose(sync.weight.grad.array, plain.weight.grad.array, rtol=1e-12)
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(sync, key).array, getattr(plain, key).array)
    sync.eval()
    plain.eval()
    np.testing.assert_allclose(sync(nt.tensor(x)).array, plain(nt.tensor(x)).array, rtol=1e-12)


def test_convert_shares_parameters_and_buffers():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Sequential(nn.BatchNorm1d(2)))
    bn = model[1]
    bn.running_mean.array[...] = 0.5
    model.eval()
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    assert isinstance(model[1], SyncBatchNorm) and isinstance(model[2][0], SyncBatchNorm)
    assert model[1].weight is bn.weight and model[1].running_mean is bn.running_mean
    assert not model[1].training
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "2.0.weight", "2.0.bias", "2.0.running_mean",
        "2.0.running_var", "2.0.num_batches_tracked",
    ]  # fmt: skip
    single = SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3))
    assert isinstance(single, SyncBatchNorm)


def test_wrong_channels_name_the_layer():
    model = nn.Sequential(SyncBatchNorm(4))
    with pytest.raises(ValueError, match=r"SyncBatchNorm at '0': expected an input \(N, C, \*\)"):
        model(nt.randn(2, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        model(nt.randn(1, 4))
