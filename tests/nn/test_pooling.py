"""Pooling layers and ops: PyTorch parity (ties, NaN, ceil_mode, padding), shapes, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuronet as nt
from support.module_parity import assert_module_parity
from support.parity import assert_close

nn = nt.nn
F = nt.functional

# (class name, constructor args, constructor kwargs, input shape)
LAYERS = [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("MaxPool2d", (3, 2, 1), {"ceil_mode": True}, (2, 3, 9, 10)),
    ("MaxPool2d", ((3, 2), (2, 1), (1, 1), (2, 1)), {}, (1, 2, 9, 7)),
    ("MaxPool2d", (2,), {"return_indices": True}, (3, 7, 7)),
    ("MaxPool1d", (3, 2, 1), {"return_indices": True}, (2, 3, 11)),
    ("MaxPool1d", (2,), {"ceil_mode": True}, (3, 9)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AvgPool2d", (3, 2, 1), {"count_include_pad": False, "ceil_mode": True}, (2, 3, 9, 10)),
    ("AvgPool2d", (3, 1, 1), {"divisor_override": 5}, (3, 6, 6)),
    ("AvgPool1d", (3, 2, 1), {}, (2, 3, 11)),
    ("AvgPool1d", (4,), {"ceil_mode": True, "count_include_pad": False}, (3, 10)),
    ("AdaptiveAvgPool2d", ((3, 5),), {}, (2, 3, 8, 11)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 7, 7)),
    ("AdaptiveAvgPool2d", ((None, 4),), {}, (3, 5, 9)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 5),), {"return_indices": True}, (2, 3, 8, 11)),
    ("AdaptiveMaxPool2d", (2,), {}, (3, 7, 5)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 10)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=lambda v: str(v))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_parity(torch, rng, name, args, kwargs, shape, dtype):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    x = rng.standard_normal(shape).astype(dtype)
    assert repr(ours) == repr(theirs)
    tight = dtype == np.float64
    assert_module_parity(
        ours, theirs, [x], rtol=1e-12 if tight else 1e-5, atol=1e-12 if tight else 1e-6
    )


def _tie_data(rng, shape, dtype=np.float64):
    """Small integers: most windows hold several equal maxima."""
    return rng.integers(0, 3, size=shape).astype(dtype)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 1, "padding": 1},
        {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True},
        {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "ceil_mode": True},
    ],
)
def test_max_pool_ties_send_gradient_to_first_maximum(torch, rng, kwargs):
    x = _tie_data(rng, (2, 3, 9, 8))
    ours_x = nt.Tensor(x.copy(), requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(ours_x, return_indices=True, **kwargs)
    ty, tidx = torch.nn.functional.max_pool2d(theirs_x, return_indices=True, **kwargs)
    np.testing.assert_array_equal(idx.array, tidx.numpy())
    g = rng.standard_normal(ty.shape)
    y.backward(nt.Tensor(g))
    ty.backward(torch.from_numpy(g))
    assert_close(ours_x.grad, theirs_x.grad, 0, 1e-12, "grad on ties")


def test_adaptive_max_pool_ties_match_torch(torch, rng):
    x = _tie_data(rng, (2, 2, 7, 9))
    ours_x = nt.Tensor(x.copy(), requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    y, idx = F.adaptive_max_pool2d(ours_x, (3, 4), return_indices=True)
    ty, tidx = torch.nn.functional.adaptive_max_pool2d(theirs_x, (3, 4), return_indices=True)
    np.testing.assert_array_equal(idx.array, tidx.numpy())
    g = rng.standard_normal(ty.shape)
    y.backward(nt.Tensor(g))
    ty.backward(torch.from_numpy(g))
    assert_close(ours_x.grad, theirs_x.grad, 0, 1e-12, "adaptive grad on ties")


def test_kernel_of_more_than_256_taps_matches_torch(torch, rng):
    x = rng.standard_normal((1, 2, 19, 18))
    ours_x = nt.Tensor(x.copy(), requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(ours_x, (17, 16), 2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(theirs_x, (17, 16), 2, return_indices=True)
    np.testing.assert_array_equal(idx.array, tidx.numpy())
    y.backward(nt.Tensor(np.ones(y.shape)))
    ty.backward(torch.ones_like(ty))
    assert_close(ours_x.grad, theirs_x.grad, 0, 1e-12, "grad with a 272-tap kernel")


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2), (3, 1)])
def test_max_pool_inf_gradient_stays_on_the_winner(torch, rng, kernel, stride):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    ours_x = nt.Tensor(x.copy(), requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(ours_x, kernel, stride)
    ty = torch.nn.functional.max_pool2d(theirs_x, kernel, stride)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    g[0, 1, 0, 0] = np.inf
    y.backward(nt.Tensor(g))
    ty.backward(torch.from_numpy(g))
    ours_g = ours_x.grad.array
    theirs_g = theirs_x.grad.numpy()
    np.testing.assert_array_equal(ours_g == 0, theirs_g == 0)  # zeros exactly where torch's are
    np.testing.assert_allclose(ours_g, theirs_g, rtol=1e-6)  # inf in the same place


def test_max_pool_nan_wins_like_torch(torch):
    x = np.array([[[[1.0, np.nan, 5.0, 2.0], [3.0, np.nan, np.nan, 7.0]]]], dtype=np.float32)
    y, idx = F.max_pool2d(nt.Tensor(x), 2, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.array, tidx.numpy())
    assert np.isnan(y.array).all() and np.isnan(ty.numpy()).all()


@pytest.mark.parametrize(
    "size,k,s,p,ceil", list(itertools.product((5, 6, 7), (2, 3), (1, 2, 3), (0, 1), (False, True)))
)
def test_pool_output_sizes_match_torch(torch, size, k, s, p, ceil):
    x = np.zeros((1, 1, size, size + 1), dtype=np.float32)
    tx = torch.from_numpy(x)
    ours = F.max_pool2d(nt.Tensor(x), k, s, p, ceil_mode=ceil)
    theirs = torch.nn.functional.max_pool2d(tx, k, s, p, ceil_mode=ceil)
    assert ours.shape == tuple(theirs.shape)
    for include in (True, False):
        ours = F.avg_pool2d(nt.Tensor(x + 1), k, s, p, ceil, include)
        theirs = torch.nn.functional.avg_pool2d(tx + 1, k, s, p, ceil, include)
        assert_close(ours, theirs, 1e-6, 1e-7, f"avg_pool2d count_include_pad={include}")


@pytest.mark.parametrize("in_size,out_size", [(7, 3), (10, 4), (5, 5), (4, 7), (9, 2), (13, 6)])
def test_adaptive_pools_with_non_divisible_sizes(torch, rng, in_size, out_size):
    x = rng.standard_normal((2, 3, in_size, in_size + 2))
    for op in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        ours_x = nt.Tensor(x.copy(), requires_grad=True)
        theirs_x = torch.tensor(x, requires_grad=True)
        y = getattr(F, op)(ours_x, (out_size, out_size + 1))
        ty = getattr(torch.nn.functional, op)(theirs_x, (out_size, out_size + 1))
        g = rng.standard_normal(ty.shape)
        y.backward(nt.Tensor(g))
        ty.backward(torch.from_numpy(g))
        assert_close(y, ty, 1e-12, 1e-12, op)
        assert_close(ours_x.grad, theirs_x.grad, 1e-12, 1e-12, f"{op} grad")


def test_float32_stays_float32(rng):
    x = nt.Tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=True)
    for op in (
        lambda t: F.max_pool2d(t, 2),
        lambda t: F.avg_pool2d(t, 3, 1, 1, count_include_pad=False),
        lambda t: F.adaptive_avg_pool2d(t, 4),
        lambda t: F.adaptive_max_pool2d(t, 4),
    ):
        x.grad = None
        y = op(x)
        y.backward(nt.Tensor(np.ones(y.shape, dtype=np.float32)))
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_indices_are_int64_and_carry_no_gradient(rng):
    x = nt.Tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.dtype == np.int64 and not idx.requires_grad and y.requires_grad


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda x: F.max_pool2d(x, 3, padding=2), r"max_pool2d: padding should be at most half"),
        (lambda x: F.avg_pool2d(x, 2, padding=2), r"avg_pool2d: padding should be at most half"),
        (lambda x: F.max_pool2d(x, 7), r"max_pool2d: input of shape \(2, 4, 5, 5\) is too small"),
        (lambda x: F.max_pool2d(x, 0), r"kernel_size must be positive"),
        (lambda x: F.avg_pool2d(x, 2, stride=0), r"stride must be positive"),
        (lambda x: F.max_pool1d(x, 2), r"max_pool1d: expected a 2-d or 3-d input"),
        (lambda x: F.adaptive_avg_pool2d(x, (2, 0)), r"output_size must be positive"),
        (lambda x: F.adaptive_max_pool2d(x, (2, 2, 2)), r"output_size must have 2 entries"),
        (lambda x: F.avg_pool2d(x, 2, divisor_override=0), r"divisor_override must be a non-zero"),
        (lambda x: F.max_pool2d(x, (2, 2, 2)), r"kernel_size must be an int or a tuple of 2"),
    ],
)
def test_op_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(nt.zeros((2, 4, 5, 5)))


def test_layer_errors_name_the_layer():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.MaxPool2d(2), nn.MaxPool2d(2))
    with pytest.raises(ValueError, match=r"MaxPool2d at '3': input of shape"):
        model(nt.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: expected"):
        nn.AdaptiveAvgPool2d(1)(nt.zeros((4, 4)))
    with pytest.raises(TypeError, match=r"AvgPool1d: input must be floating point"):
        nn.AvgPool1d(2)(nt.tensor([[1, 2, 3, 4]]))
