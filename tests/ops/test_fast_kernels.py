"""The performance paths: each fast kernel against PyTorch and against neuronet's plain NumPy
path, on inputs that actually take the fast path (the op registry's small shapes may not).

- Winograd F(4x4, 3x3) convolution (3x3, stride 1, padding 0/1/2, >= 3 channels): forward,
  dL/dx, dL/dw and dL/db, odd sizes, with bias, through F.conv2d and through the routines; one
  image per chunk; float32 against the im2col path; float64 gradcheck.
- The numba GELU (float32: A&S erf; float64: libm erf), ReLU backward, and the numba
  sigmoid/tanh that the LSTM step uses, against float64 references, including extreme inputs.
- The LSTM and GRU step kernels against the NumPy steps, and the whole LSTM layer against torch.
- The malloc tuning is an explicit opt-in (Linux/glibc): nothing turns it on by itself, and
  it can be refused.
- The first-run notice: printed once when numba compiles, silent when the kernels load from the
  on-disk cache.

The op registry checks every op on every path besides (test_paths.py); these tests pick inputs
and edge cases that the registry's small shapes do not reach.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import backend
from neuronet.ops.fast import winograd
from support.paths import unavailable

if unavailable("numba"):
    pytest.skip(unavailable("numba"), allow_module_level=True)


def _winograd_applies(channels, pads, dtype, kernel=(3, 3), stride=(1, 1), groups=1):
    return winograd.applies(kernel, channels, np.dtype(dtype), stride, pads, (1, 1), groups)


def _conv_inputs(rng, n, c, o, h, w, dtype):
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(dtype)
    bias = rng.standard_normal(o).astype(dtype)
    return x, weight, bias


def _conv_grads(x, weight, bias, padding, g):
    xt = nt.tensor(x, requires_grad=True)
    wt = nt.tensor(weight, requires_grad=True)
    bt = nt.tensor(bias, requires_grad=True)
    y = F.conv2d(xt, wt, bt, padding=padding)
    y.backward(nt.tensor(g))
    return y.array, xt.grad.array, wt.grad.array, bt.grad.array


@pytest.mark.parametrize(
    "size, padding, channels",
    [((8, 8), 1, 9), ((7, 9), 1, 9), ((5, 4), 1, 9), ((3, 3), 1, 9), ((9, 10), 0, 9),
     ((6, 7), 2, 9), ((8, 8), 1, 3), ((13, 13), 0, 4)],
)  # fmt: skip
def test_winograd_conv_matches_torch_float64(size, padding, channels, torch):
    rng = np.random.default_rng(0)
    x, weight, bias = _conv_inputs(rng, 3, channels, 10, *size, np.float64)
    assert _winograd_applies(channels, (padding,) * 4, x.dtype)
    out_size = tuple(s + 2 * padding - 2 for s in size)
    g = rng.standard_normal((3, 10) + out_size)
    ours = _conv_grads(x, weight, bias, padding, g)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)
    bt = torch.tensor(bias, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=padding)
    yt.backward(torch.from_numpy(g))
    theirs = (yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())
    for name, a, b in zip(("y", "dx", "dw", "db"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=name)


def test_winograd_chunks_give_the_whole_batch_result(monkeypatch):
    """One image per chunk (forward, dL/dx and dL/dw) equals the one-chunk result."""
    rng = np.random.default_rng(5)
    x, weight, bias = _conv_inputs(rng, 3, 8, 6, 9, 7, np.float64)
    g = rng.standard_normal((3, 6, 9, 7))
    whole = _conv_grads(x, weight, bias, 1, g)
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(winograd, "MIN_COLUMNS", 1)
    assert winograd._images_per_chunk(3, 8, 6, 6, 8) == 1
    chunked = _conv_grads(x, weight, bias, 1, g)
    for name, a, b in zip(("y", "dx", "dw", "db"), chunked, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("padding", [0, 2])
def test_winograd_correlate_any_padding(padding, torch):
    """The routines themselves handle paddings 0..2 (conv.py routes all three to them)."""
    rng = np.random.default_rng(7)
    x, weight, _ = _conv_inputs(rng, 2, 5, 4, 7, 6, np.float64)
    out_hw = (7 + 2 * padding - 2, 6 + 2 * padding - 2)
    U = winograd.transform_kernel(weight)
    y, V = winograd.correlate(x, U, out_hw, keep_input=True, offset=(padding, padding))
    g = rng.standard_normal(y.shape)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, padding=padding)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    grad_w = winograd.gradients(g, U, V, x.shape, padding, input_grad=False)[1]
    np.testing.assert_allclose(grad_w, wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    U_rot = winograd.transform_kernel(winograd.rotated(weight))
    grad_x = winograd.correlate(g, U_rot, x.shape[2:], offset=(2 - padding, 2 - padding))
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_winograd_conv_float32_equals_im2col_path():
    """Same float32 result (to rounding) with the Winograd path and with numba switched off."""
    rng = np.random.default_rng(1)
    x, weight, bias = _conv_inputs(rng, 4, 16, 12, 11, 10, np.float32)
    g = rng.standard_normal((4, 12, 11, 10)).astype(np.float32)
    fast = _conv_grads(x, weight, bias, 1, g)
    with backend.fast.using(numba=False):
        plain = _conv_grads(x, weight, bias, 1, g)
    for name, a, b in zip(("y", "dx", "dw", "db"), fast, plain):
        assert a.dtype == np.float32, name
        scale = np.abs(b).max()
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * scale, err_msg=name)


def test_winograd_conv_gradcheck():
    rng = np.random.default_rng(2)
    x, weight, bias = _conv_inputs(rng, 2, 8, 8, 5, 6, np.float64)
    inputs = (
        nt.tensor(x, requires_grad=True),
        nt.tensor(weight, requires_grad=True),
        nt.tensor(bias, requires_grad=True),
    )
    assert nt.gradcheck(lambda a, w, b: F.conv2d(a, w, b, padding=1), inputs)  # every element


@pytest.mark.parametrize(
    "kernel, stride, groups, channels, pads",
    [((3, 3), (2, 2), 1, 16, (1,) * 4), ((5, 5), (1, 1), 1, 16, (2,) * 4),
     ((3, 3), (1, 1), 2, 16, (1,) * 4), ((3, 3), (1, 1), 1, 2, (1,) * 4),
     ((3, 3), (1, 1), 1, 16, (3,) * 4), ((3, 3), (1, 1), 1, 16, (0, 1, 0, 1))],
)  # fmt: skip
def test_winograd_only_where_it_applies(kernel, stride, groups, channels, pads):
    """3x3, stride 1, one group, >= 3 channels, the same padding 0, 1 or 2 on every side."""
    assert not _winograd_applies(channels, pads, np.float32, kernel, stride, groups)


@pytest.mark.parametrize("dtype, atol", [(np.float32, 2e-6), (np.float64, 1e-14)])
def test_gelu_kernel_matches_float64_reference(dtype, atol, torch):
    x = np.concatenate([np.linspace(-12, 12, 4001), [-1e4, 1e4, -87.5, 0.0, -0.0, 3e-8]])
    g = np.random.default_rng(3).standard_normal(x.shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.gelu(xt)
    yt.backward(torch.from_numpy(g))
    ref = yt.detach().numpy()
    ours_x = nt.tensor(x.astype(dtype), requires_grad=True)
    y = F.gelu(ours_x)
    y.backward(nt.tensor(g.astype(dtype)))
    assert y.dtype == dtype and ours_x.grad.dtype == dtype
    np.testing.assert_allclose(y.array, ref, rtol=0, atol=atol * 1e4)
    small = np.abs(x) < 20  # relative accuracy where the values are ordinary
    np.testing.assert_allclose(y.array[small], ref[small], rtol=10 * atol, atol=atol)
    np.testing.assert_allclose(ours_x.grad.array, xt.grad.numpy(), rtol=10 * atol, atol=atol)


def test_relu_backward_kernel_zeroes_nan_gradients_where_inactive():
    x = nt.tensor(np.array([-1.0, 0.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    F.relu(x).backward(nt.tensor(np.array([np.nan, 5.0, 7.0, np.inf], dtype=np.float32)))
    np.testing.assert_array_equal(x.grad.array, [0.0, 0.0, 7.0, np.inf])


def test_fastmath_sigmoid_tanh_float32_accuracy():
    from numba import njit

    from neuronet.ops.fast.fastmath import sigmoid, tanh

    @njit
    def both(x, s, t):
        for i in range(x.size):
            s[i] = sigmoid(x[i])
            t[i] = tanh(x[i])

    x = np.concatenate([np.linspace(-40, 40, 20001), np.geomspace(1e-30, 1, 200)])
    x = np.concatenate([x, -x]).astype(np.float32)
    s = np.empty_like(x)
    t = np.empty_like(x)
    both(x, s, t)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x64)), rtol=4e-7, atol=1e-37)
    np.testing.assert_allclose(t, np.tanh(x64), rtol=4e-7, atol=1e-37)
    both(np.array([np.nan, np.inf, -np.inf], np.float32), s[:3], t[:3])
    assert np.isnan(s[0]) and np.isnan(t[0])
    np.testing.assert_array_equal(s[1:3], [1.0, 0.0])
    np.testing.assert_array_equal(t[1:3], [1.0, -1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_step_kernels_match_numpy_steps(dtype):
    from neuronet.ops import lstm
    from neuronet.ops.fast import recurrent_kernels

    rng = np.random.default_rng(4)
    N, H = 3, 5
    a = rng.standard_normal((N, 4 * H)).astype(dtype)
    rec = rng.standard_normal((N, 4 * H)).astype(dtype)
    c_prev = rng.standard_normal((N, H)).astype(dtype)
    outs = []
    for step in (recurrent_kernels.lstm_forward_step, lstm.lstm_forward_step):
        gates = a.copy()
        c, tanh_c, h = (np.empty((N, H), dtype) for _ in range(3))
        step(gates, rec, c_prev, c, tanh_c, h)
        outs.append((gates, c, tanh_c, h))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for k, l in zip(*outs):
        np.testing.assert_allclose(k, l, rtol=tol, atol=tol)
    gates, _, tanh_c, _ = outs[0]
    grad_h, dh, dc = (rng.standard_normal((N, H)).astype(dtype) for _ in range(3))
    grads = []
    for step in (recurrent_kernels.lstm_backward_step, lstm.lstm_backward_step):
        dh_k, dc_k = dh.copy(), dc.copy()
        da = np.empty((N, 4 * H), dtype)
        step(gates, tanh_c, c_prev, grad_h, dh_k, dc_k, da)
        grads.append((da, dc_k, dh_k))
    for k, l in zip(*grads):
        np.testing.assert_allclose(k, l, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_step_kernels_match_numpy_steps(dtype):
    from neuronet.ops import gru
    from neuronet.ops.fast import recurrent_kernels

    rng = np.random.default_rng(5)
    N, H = 3, 5
    a = rng.standard_normal((N, 3 * H)).astype(dtype)
    rec = rng.standard_normal((N, 3 * H)).astype(dtype)
    b_hn = rng.standard_normal(H).astype(dtype)
    h_prev = rng.standard_normal((N, H)).astype(dtype)
    outs = []
    for step in (recurrent_kernels.gru_forward_step, gru.gru_forward_step):
        gates = a.copy()
        hn, h = (np.empty((N, H), dtype) for _ in range(2))
        step(gates, rec, b_hn, h_prev, hn, h)
        outs.append((gates, hn, h))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for k, l in zip(*outs):
        np.testing.assert_allclose(k, l, rtol=tol, atol=tol)
    gates, hn, _ = outs[0]
    grad_h, dh = (rng.standard_normal((N, H)).astype(dtype) for _ in range(2))
    grads = []
    for step in (recurrent_kernels.gru_backward_step, gru.gru_backward_step):
        dh_k = dh.copy()
        d_ih, d_hh = (np.empty((N, 3 * H), dtype) for _ in range(2))
        step(gates, hn, h_prev, grad_h, dh_k, d_ih, d_hh)
        grads.append((d_ih, d_hh, dh_k))
    for k, l in zip(*grads):
        np.testing.assert_allclose(k, l, rtol=tol, atol=tol)


def test_lstm_layer_float32_matches_torch(torch):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(16, 24, batch_first=True)
    ours = nt.nn.LSTM(16, 24, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(5).standard_normal((4, 30, 16)).astype(np.float32)
    g = np.random.default_rng(6).standard_normal((4, 30, 24)).astype(np.float32)
    xo = nt.tensor(x, requires_grad=True)
    out, _ = ours(xo)
    out.backward(nt.tensor(g))
    xt = torch.tensor(x, requires_grad=True)
    out_t, _ = theirs(xt)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.array, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xo.grad.array, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    theirs_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, theirs_grads[name].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=name
        )


def test_malloc_tuning_can_be_refused(monkeypatch):
    monkeypatch.setattr(backend, "_ALLOCATOR", {"done": False, "active": False})
    monkeypatch.setenv("NEURONET_MALLOC_TUNING", "0")
    assert backend.keep_freed_memory() is False
    monkeypatch.setattr(backend, "_ALLOCATOR", {"done": False, "active": False})
    monkeypatch.delenv("NEURONET_MALLOC_TUNING")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert backend.keep_freed_memory() is False  # the user's own malloc settings win


def test_malloc_tuning_is_an_explicit_opt_in():
    """Importing neuronet, building layers and running backward leave malloc alone; the call
    (made by Trainer.fit and the CLI) turns it on."""
    import platform
    import subprocess
    import sys

    code = (
        "import neuronet as nt; from neuronet import backend, nn; "
        "m = nn.Linear(2, 2); m(nt.ones((1, 2))).sum().backward(); "
        "print(backend._ALLOCATOR['done'], backend.keep_freed_memory())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.pop("NEURONET_MALLOC_TUNING", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    done, active = out.stdout.split()
    assert done == "False"
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert active == "True"


def test_first_compile_is_announced_once_and_cached_loads_are_silent(tmp_path):
    """A cold numba cache: the note appears once, however many kernels compile; a second process
    with the same cache loads them silently."""
    import subprocess
    import sys

    code = (
        "import neuronet as nt; from neuronet import backend; backend.announce_compilation(); "
        "x = nt.randn(4, 8, requires_grad=True); "
        "F = nt.functional; F.gelu(F.layer_norm(x, (8,))).sum().backward()"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stderr.count("compiling kernels (first run only)") == 1, runs[0].stderr
    assert "compiling" not in runs[1].stderr, runs[1].stderr


def _sdpa_both(q, k, v, **kw):
    """scaled_dot_product_attention forward and input grads with the kernel and without."""
    outs = []
    for use in (True, False):
        with backend.fast.using(numba=use):
            ts = [nt.tensor(a, requires_grad=True) for a in (q, k, v)]
            y = F.scaled_dot_product_attention(*ts, **kw)
            y.backward(nt.tensor(np.ones_like(y.array)))
            outs.append([y.array] + [t.grad.array for t in ts])
    return outs


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("case", ["plain", "causal", "bool_mask_empty_row", "float_mask"])
def test_attention_softmax_kernel_equals_numpy_path(dtype, tol, case):
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(dtype) for _ in range(3))
    kw = {}
    if case == "causal":
        kw["is_causal"] = True
    elif case == "bool_mask_empty_row":
        mask = rng.random((5, 5)) > 0.4
        mask[2] = False  # query 2 may attend to nothing: PyTorch's SDPA gives 0
        kw["attn_mask"] = nt.tensor(mask)
    elif case == "float_mask":
        kw["attn_mask"] = nt.tensor(rng.standard_normal((5, 5)).astype(dtype))
    fast, plain = _sdpa_both(q, k, v, **kw)
    for name, a, b in zip(("out", "dq", "dk", "dv"), fast, plain):
        assert a.dtype == dtype, name
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)
    if case == "bool_mask_empty_row":
        np.testing.assert_array_equal(fast[0][:, :, 2], 0.0)


def test_attention_kernel_nan_rows_for_plain_softmax():
    """MultiheadAttention with need_weights=True: an all-masked row is NaN, as torch's."""
    mha = nt.nn.MultiheadAttention(4, 1, batch_first=True)
    x = nt.tensor(np.random.default_rng(9).standard_normal((1, 3, 4)).astype(np.float32))
    mask = nt.tensor(np.array([[False, True, True], [True, True, True], [False, False, True]]))
    _, weights = mha(x, x, x, attn_mask=mask, need_weights=True)
    assert np.isnan(weights.array[0, 1]).all()
    assert not np.isnan(weights.array[0, [0, 2]]).any()


@pytest.mark.parametrize("k", [2, 3], ids=["2x2 (max_2x2)", "3x3 (max_blocks)"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_block_kernels_equal_numpy_path(dtype, k):
    """Odd sizes (a row and a column in no window), ties (first tap wins), NaN (wins)."""
    rng = np.random.default_rng(10)
    x = rng.integers(0, 4, (2, 3, 7, 9)).astype(dtype)  # many ties
    x[0, 0, 2, 3] = np.nan
    x[1, 2, 0, 0] = x[1, 2, 1, 1] = np.nan  # two NaN in one window: the later one wins
    g = rng.standard_normal((2, 3, 7 // k, 9 // k)).astype(dtype)
    results = []
    for use in (True, False):
        with backend.fast.using(numba=use):
            xt = nt.tensor(x, requires_grad=True)
            y, idx = F.max_pool2d(xt, k, return_indices=True)
            y.backward(nt.tensor(g))
            results.append((y.array, idx.array, xt.grad.array))
    for name, a, b in zip(("y", "indices", "grad"), *results):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.isnan(results[0][0][0, 0, 2 // k, 3 // k])
    assert results[0][1][1, 2, 0, 0] == 1 * 9 + 1  # flat index of the second NaN
