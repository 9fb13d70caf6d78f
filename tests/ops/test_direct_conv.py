"""The direct convolution (``ops/fast/direct.py``): stride-1 convolutions with few output
channels, four output channels and up to five taps of a kernel row per pass.

Each case is checked to take the direct path (a spy on ``DirectConvolution.forward``), then
compared with PyTorch in float64: output, dL/dx, dL/dw and dL/db. The shapes cover kernel rows
split every way the kernel splits them (5, 3 and 1 taps: widths 1 to 8), output channel
counts that are not a multiple of 4 (the last block repeats a channel and must not write it),
asymmetric and large padding, conv1d, and inputs with inf. Then float64 gradcheck element by
element, float32 against the im2col path, and the rule that picks the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import backend
from neuronet.ops.fast import direct
from support.paths import unavailable

if unavailable("numba"):
    pytest.skip(unavailable("numba"), allow_module_level=True)


@pytest.fixture
def calls(monkeypatch):
    """A list that gets one entry per DirectConvolution.forward call."""
    seen = []
    original = direct.DirectConvolution.forward

    def spy(ctx, x, weight, *args, **kwargs):
        seen.append(weight.shape)
        return original(ctx, x, weight, *args, **kwargs)

    monkeypatch.setattr(direct.DirectConvolution, "forward", staticmethod(spy))
    return seen


def _both(rng, x_shape, w_shape, padding, dtype=np.float64, bias=True, torch=None):
    """(neuronet's, torch's) (y, dx, dw, db) for conv(x, w, b, padding) and the same dL/dy."""
    conv = {3: "conv1d", 4: "conv2d"}[len(x_shape)]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    results = []
    for lib, fn in ((nt, getattr(F, conv)), (torch, getattr(torch.nn.functional, conv))):
        tensors = [None if a is None else lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        with warnings.catch_warnings():  # torch warns about 'same' with even kernels
            warnings.simplefilter("ignore", UserWarning)
            y = fn(*tensors, padding=padding)
        if not results:
            g = rng.standard_normal(tuple(y.shape)).astype(dtype)
        y.backward(lib.tensor(g))
        arrays = [y.detach().numpy()] + [None if t is None else t.grad.numpy() for t in tensors]
        results.append(arrays)
    return results


@pytest.mark.parametrize(
    "x_shape, w_shape, padding",
    [((2, 1, 28, 28), (6, 1, 5, 5), 2),  # LeNet's first layer
     ((3, 6, 14, 14), (16, 6, 5, 5), 2),  # LeNet's second
     ((2, 3, 9, 11), (5, 3, 3, 7), (1, 3)),  # kernel row 7 = 5 + 1 + 1, 5 output channels
     ((2, 2, 8, 9), (7, 2, 4, 6), (2, 3)),  # 6 = 5 + 1, 7 output channels
     ((1, 2, 6, 8), (1, 2, 2, 4), 1),  # 4 = 3 + 1, a single output channel
     ((2, 4, 7, 7), (9, 4, 7, 8), 4),  # 8 = 5 + 3; padding wider than the kernel's reach
     ((2, 2, 5, 12), (3, 2, 1, 2), 0),  # 2 = 1 + 1
     ((2, 2, 5, 4), (3, 2, 2, 2), 3),  # padding past the kernel's extent on every side
     ((1, 5, 6, 6), (2, 5, 1, 1), 0),  # pointwise
     ((2, 3, 10, 10), (6, 3, 4, 3), "same"),  # even kernel height: padding 1 above, 2 below
     ((2, 3, 20), (5, 3, 5), 2),  # conv1d
     ((2, 1, 16, 30), (32, 1, 3, 3), 1)],  # 32 output channels on a wide map
)  # fmt: skip
def test_direct_conv_matches_torch_float64(x_shape, w_shape, padding, calls, torch):
    rng = np.random.default_rng(0)
    ours, theirs = _both(rng, x_shape, w_shape, padding, torch=torch)
    assert len(calls) == 1, "the case must take the direct path"
    for name, a, b in zip(("y", "dx", "dw", "db"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


def test_direct_conv_without_bias_matches_torch(calls, torch):
    rng = np.random.default_rng(1)
    ours, theirs = _both(rng, (2, 3, 9, 9), (5, 3, 5, 5), 2, bias=False, torch=torch)
    assert calls and ours[3] is None
    for name, a, b in zip(("y", "dx", "dw"), ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


def test_direct_conv_inf_input_gives_torchs_inf_and_nan(calls, torch):
    """No tap reads a zero in place of a missing one (0 * inf would be NaN where torch has inf):
    an inf pixel gives inf and NaN exactly where PyTorch gives them."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 2, 9, 9))
    x[0, 1, 4, 4] = np.inf
    w = np.abs(rng.standard_normal((3, 2, 3, 7)))  # positive: inf stays +inf, no inf - inf
    w[0, 0] = -w[0, 0]
    ours = F.conv2d(nt.tensor(x), nt.tensor(w), padding=(1, 3)).numpy()
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=(1, 3)).numpy()
    assert calls
    assert np.isinf(theirs).sum() == 3 * 21  # the 3 x 7 pixels that read it, in 3 channels
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(theirs))
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    finite = np.isfinite(theirs)
    np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-12, atol=1e-12)


def test_direct_conv_gradcheck(calls):
    """Element by element, float64, with 6 output channels (a partial last block of four)."""
    rng = np.random.default_rng(3)
    inputs = (
        nt.tensor(rng.standard_normal((2, 2, 5, 6)), requires_grad=True),
        nt.tensor(rng.standard_normal((6, 2, 3, 4)), requires_grad=True),
        nt.tensor(rng.standard_normal(6), requires_grad=True),
    )
    assert nt.gradcheck(lambda a, w, b: F.conv2d(a, w, b, padding=(1, 2)), inputs)
    assert calls


def test_direct_conv_float32_equals_im2col_path(calls):
    """LeNet's 6 -> 16 layer in float32: the same result (to rounding) as with numba off."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 6, 14, 14)).astype(np.float32)
    w = (rng.standard_normal((16, 6, 5, 5)) / np.sqrt(150)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    g = rng.standard_normal((8, 16, 14, 14)).astype(np.float32)

    def grads():
        tensors = [nt.tensor(a, requires_grad=True) for a in (x, w, b)]
        F.conv2d(*tensors, padding=2).backward(nt.tensor(g))
        return [t.grad.numpy() for t in tensors]

    fast = grads()
    assert calls
    with backend.fast.using(numba=False):
        plain = grads()
    for name, a, p in zip(("dx", "dw", "db"), fast, plain):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, p, rtol=0, atol=2e-6 * np.abs(p).max(), err_msg=name)


@pytest.mark.parametrize(
    "w_shape, width, pads, stride, groups, expected",
    [((16, 6, 5, 5), 14, (2,) * 4, (1, 1), 1, True),  # LeNet
     ((16, 64, 5, 5), 8, (2,) * 4, (1, 1), 1, True),  # many inputs, few outputs
     ((32, 16, 5, 5), 14, (2,) * 4, (1, 1), 1, True),  # 32 outputs, 18 / 14 wide: +29%
     ((32, 6, 5, 5), 7, (2,) * 4, (1, 1), 1, False),  # 32 outputs, 11 / 7 wide: +57%
     ((48, 3, 5, 5), 32, (2,) * 4, (1, 1), 1, False),  # more than 32 outputs
     ((16, 8, 1, 1), 28, (0,) * 4, (1, 1), 1, True),  # pointwise, few inputs
     ((16, 16, 1, 1), 28, (0,) * 4, (1, 1), 1, False),  # pointwise: the GEMM needs no copy
     ((16, 6, 5, 5), 14, (2,) * 4, (2, 2), 1, False),  # stride 2
     ((16, 6, 5, 5), 14, (2,) * 4, (1, 1), 2, False)],  # groups
)  # fmt: skip
def test_direct_path_rule(w_shape, width, pads, stride, groups, expected):
    applies = direct.applies(w_shape, np.dtype(np.float32), stride, pads, (1, 1), groups, width)
    assert applies is expected


_FOOTPRINT = """
import numpy as np, neuronet as nt, neuronet.functional as F
from neuronet.ops.fast import direct_kernels as k
names = ("taps", "taps_pair", "input_grad", "input_grad_pair", "weight_grad", "weight_grad_threes")
for c, o, kh, kw in ((4, 8, 3, 2), (6, 6, 5, 5)):
    x = nt.tensor(np.ones((2, c, 6, 7), np.float32), requires_grad=True)
    w = nt.tensor(np.ones((o, c, kh, kw), np.float32), requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    print(" ".join(n for n in names if getattr(k, n).signatures))
"""


def test_a_layer_compiles_only_the_kernels_it_needs(tmp_path):
    """A first run compiles the two-row passes and each group size of the weight gradient only
    for layers that use them (1 s and 0.5 s of a first run each), checked on an empty numba
    cache in a fresh process: 4 -> 8 channels with a 3x2 kernel needs neither; then 6 -> 6
    channels with 5x5 needs the two-row passes (6 = 4 + 2, both ways) and the groups of five."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, "-c", _FOOTPRINT], env=env, capture_output=True, text=True, check=True
    )
    first, second = run.stdout.splitlines()
    assert first.split() == ["taps", "input_grad", "weight_grad_threes"]
    assert second.split() == [
        "taps", "taps_pair", "input_grad", "input_grad_pair", "weight_grad", "weight_grad_threes"
    ]  # fmt: skip
