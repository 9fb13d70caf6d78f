"""The Winograd convolution's input gradient by the adjoint transforms (``winograd.gradients``,
``winograd_kernels.input_tiles_adjoint``), which 'valid' layers take instead of the
correlation of dL/dy (``winograd.adjoint_pays``).

The kernel against a NumPy reference (B dV Bᵀ added tile by tile) on a grad_x filled with NaN,
so an element it failed to write shows; the routine and the layer against PyTorch in float64
on paddings 0, 1 and 2, odd sizes, C != O, with and without the weight's gradient, in one chunk
and in chunks of one image; which path a layer takes; float32 against the im2col path; float64
gradcheck element by element.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import backend
from neuronet.ops.fast import winograd
from support.paths import unavailable

if unavailable("numba"):
    pytest.skip(unavailable("numba"), allow_module_level=True)

_BT = np.array(
    [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
     [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], dtype=float,
)  # fmt: skip


def _adjoint_reference(dV, top, left, TH, TW, x_shape):
    """grad_x[b, c] = sum over tiles of B dV Bᵀ placed where the tile read the padded input."""
    n, C, H, W = x_shape
    xp = np.zeros((n, C, 4 * TH + 2, 4 * TW + 2))
    tiles = dV.reshape(6, 6, C, n, TH, TW)
    for th in range(TH):
        for tw in range(TW):
            d = np.einsum("ar,aecn,es->ncrs", _BT, tiles[:, :, :, :, th, tw], _BT)
            xp[:, :, 4 * th : 4 * th + 6, 4 * tw : 4 * tw + 6] += d
    return xp[:, :, top : top + H, left : left + W]


@pytest.mark.parametrize(
    "x_shape, pad",
    [((2, 3, 13, 13), 0), ((1, 2, 9, 11), 1), ((2, 2, 7, 6), 2), ((1, 1, 3, 3), 0),
     ((1, 2, 1, 1), 2), ((2, 1, 2, 9), 1), ((1, 2, 12, 12), 1), ((3, 1, 17, 8), 0)],
)  # fmt: skip
def test_input_tiles_adjoint_writes_every_element(x_shape, pad):
    from neuronet.ops.fast import winograd_kernels as k

    n, C, H, W = x_shape
    TH, TW = (H + 2 * pad - 2 + 3) // 4, (W + 2 * pad - 2 + 3) // 4
    dV = np.random.default_rng(0).standard_normal((36, C, n * TH * TW))
    grad_x = np.full(x_shape, np.nan)
    k.input_tiles_adjoint(dV, pad, pad, TH, TW, grad_x)
    expected = _adjoint_reference(dV, pad, pad, TH, TW, x_shape)
    np.testing.assert_allclose(grad_x, expected, rtol=1e-12, atol=1e-12)


def _torch_grads(torch, x, w, g, pad):
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(xt, wt, padding=pad).backward(torch.from_numpy(g))
    return xt.grad.numpy(), wt.grad.numpy()


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("chunk_of_one", [False, True])
def test_gradients_match_torch_float64(pad, chunk_of_one, monkeypatch, torch):
    rng = np.random.default_rng(pad)
    x = rng.standard_normal((3, 5, 11, 9))
    w = rng.standard_normal((7, 5, 3, 3))
    out_hw = (11 + 2 * pad - 2, 9 + 2 * pad - 2)
    g = rng.standard_normal((3, 7) + out_hw)
    if chunk_of_one:
        monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
        monkeypatch.setattr(winograd, "MIN_COLUMNS", 1)
    U = winograd.transform_kernel(w)
    _, V = winograd.correlate(x, U, out_hw, keep_input=True, offset=(pad, pad))
    dx, dw = _torch_grads(torch, x, w, g, pad)
    grad_x, grad_w = winograd.gradients(g, U, V, x.shape, pad)
    np.testing.assert_allclose(grad_x, dx, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(grad_w, dw, rtol=1e-10, atol=1e-11)
    only_x, no_w = winograd.gradients(g, U, None, x.shape, pad)  # the weight frozen
    assert no_w is None
    np.testing.assert_array_equal(only_x, grad_x)
    no_x, only_w = winograd.gradients(g, U, V, x.shape, pad, input_grad=False)
    assert no_x is None
    np.testing.assert_array_equal(only_w, grad_w)


def test_which_layers_take_the_adjoint(monkeypatch):
    assert winograd.adjoint_pays((64, 32, 13, 13), (64, 64, 11, 11))  # the cnn's 32 -> 64
    assert winograd.adjoint_pays((2, 3, 5, 5), (2, 6, 3, 3))  # 4 tiles against 1
    assert not winograd.adjoint_pays((32, 128, 8, 8), (32, 128, 8, 8))  # resnet's 'same'
    assert not winograd.adjoint_pays((16, 32, 8, 8), (16, 16, 10, 10))  # padding 2
    used = []
    original = winograd.gradients
    monkeypatch.setattr(
        winograd, "gradients", lambda *a, **k: used.append(a[-1]) or original(*a, **k)
    )
    rng = np.random.default_rng(1)
    for pad, (c, o), size in ((0, (4, 8), 13), (1, (8, 8), 8), (2, (32, 16), 8)):
        x = nt.tensor(rng.standard_normal((2, c, size, size)), requires_grad=True)
        w = nt.tensor(rng.standard_normal((o, c, 3, 3)), requires_grad=True)
        F.conv2d(x, w, padding=pad).sum().backward()
    assert used == [True, False, False]  # input_grad by the adjoint, or not


def test_valid_layer_float32_equals_im2col_path():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 32, 13, 13)).astype(np.float32)
    w = (rng.standard_normal((64, 32, 3, 3)) / np.sqrt(288)).astype(np.float32)
    g = rng.standard_normal((6, 64, 11, 11)).astype(np.float32)

    def grads():
        xt, wt = nt.tensor(x, requires_grad=True), nt.tensor(w, requires_grad=True)
        F.conv2d(xt, wt).backward(nt.tensor(g))
        return xt.grad.numpy(), wt.grad.numpy()

    fast = grads()
    with backend.fast.using(numba=False):
        plain = grads()
    for name, a, b in zip(("dx", "dw"), fast, plain):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max(), err_msg=name)


def test_valid_layer_gradcheck():
    rng = np.random.default_rng(4)
    inputs = (
        nt.tensor(rng.standard_normal((2, 3, 7, 6)), requires_grad=True),
        nt.tensor(rng.standard_normal((6, 3, 3, 3)), requires_grad=True),
    )
    assert winograd.adjoint_pays((2, 3, 7, 6), (2, 6, 5, 4))
    assert nt.gradcheck(lambda a, w: F.conv2d(a, w), inputs)  # every element
