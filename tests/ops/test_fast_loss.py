"""The compiled binary cross-entropy on logits (ops/fast/loss.py) on inputs the op registry's
small specs do not reach: a whole batch with far tails, every reduction, ``weight`` and
``pos_weight``, non-finite logits, against PyTorch in float64 and against the NumPy reference;
and ``fastmath.softplus``, the float32 element function it uses, against float64.

The registry runs the small specs on this path too (test_paths.py, test_gradcheck.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt
from neuronet import backend
from neuronet.ops.fast import loss as fast_loss
from support.paths import unavailable

if unavailable("numba"):
    pytest.skip(unavailable("numba"), allow_module_level=True)


def _logits(rng, shape, dtype):
    """Normal logits with a wide spread, and the tails where exp(-|x|) underflows or log1p's
    argument is tiny."""
    x = rng.standard_normal(shape) * 8
    tails = [-200.0, -88.0, -87.0, -30.0, -1e-30, 0.0, 1e-30, 17.0, 30.0, 87.0, 88.0, 200.0]
    x.flat[: len(tails)] = tails
    return x.astype(dtype)


def _ours(x, t, g, **kw):
    """(loss, dL/dx, dL/dt) of neuronet's BCE with logits on the current path."""
    xt = nt.tensor(x, requires_grad=True)
    tt = nt.tensor(t, requires_grad=True)
    loss = nt.binary_cross_entropy_with_logits(xt, tt, **kw)
    loss.backward(nt.tensor(g))
    return loss.detach().numpy(), xt.grad.numpy(), tt.grad.numpy()


def test_softplus_float32_accuracy():
    from numba import njit

    from neuronet.ops.fast.fastmath import softplus

    @njit
    def apply(x, y):
        for i in range(x.size):
            y[i] = softplus(x[i])

    x = np.concatenate([np.linspace(-100, 100, 40001), np.geomspace(1e-30, 1, 200)])
    x = np.concatenate([x, -x]).astype(np.float32)
    y = np.empty_like(x)
    apply(x, y)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y, np.logaddexp(0.0, x64), rtol=4e-7, atol=1e-37)
    apply(np.array([np.nan, np.inf, -np.inf], np.float32), y[:3])
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:3], [np.inf, 0.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 3e-5), (np.float64, 1e-12)])
def test_bce_with_logits_matches_torch(reduction, weights, dtype, rtol, torch):
    rng = np.random.default_rng(7)
    x = _logits(rng, (64, 37), dtype)
    t = rng.random((64, 37)).astype(dtype)
    kw = {"reduction": reduction}
    if weights in ("weight", "both"):
        kw["weight"] = (rng.random((64, 1)) + 0.5).astype(dtype)
    if weights in ("pos_weight", "both"):
        kw["pos_weight"] = (rng.random(37) * 3 + 0.2).astype(dtype)
    g = rng.standard_normal(() if reduction != "none" else x.shape).astype(dtype)
    loss, gx, gt = _ours(x, t, g, **kw)

    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    tt = torch.tensor(t.astype(np.float64), requires_grad=True)
    kwt = {k: torch.tensor(v.astype(np.float64)) if k != "reduction" else v for k, v in kw.items()}
    ref = torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, **kwt)
    ref.backward(torch.tensor(g.astype(np.float64)))
    assert loss.dtype == gx.dtype == gt.dtype == dtype
    # elementwise losses cancel where x is large and t near 1: compare to the loss's scale
    scale = max(1.0, float(np.abs(ref.detach().numpy()).max()))
    np.testing.assert_allclose(loss, ref.detach().numpy(), rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(gt, tt.grad.numpy(), rtol=rtol, atol=rtol * 200)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_equals_reference_path(dtype):
    rng = np.random.default_rng(3)
    x = _logits(rng, (128, 50), dtype)
    t = (rng.random((128, 50)) > 0.5).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    kw = {"reduction": "none", "pos_weight": np.full(50, 2.5, dtype)}
    fast = _ours(x, t, g, **kw)
    with backend.fast.using(numba=False):
        ref = _ours(x, t, g, **kw)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    for a, b in zip(fast, ref):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())


def test_non_finite_logits_give_the_reference_pattern(torch):
    x = np.array([np.nan, np.inf, -np.inf, np.inf, -np.inf, 0.0], np.float32)
    t = np.array([0.5, 0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    g = np.ones_like(x)
    fast = _ours(x, t, g, reduction="none")
    with backend.fast.using(numba=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns on inf * 0
        ref = _ours(x, t, g, reduction="none")
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x), torch.tensor(t), reduction="none"
    )
    np.testing.assert_array_equal(fast[0], ref[0])
    np.testing.assert_array_equal(np.isnan(fast[0]), np.isnan(theirs.numpy()))
    np.testing.assert_array_equal(fast[1], ref[1])


def test_takes_the_compiled_path_when_numba_is_on(monkeypatch):
    calls = []
    original = fast_loss.CompiledBinaryCrossEntropyWithLogits.forward

    def spy(ctx, *args, **kwargs):
        calls.append(args[0].dtype)
        return original(ctx, *args, **kwargs)

    monkeypatch.setattr(fast_loss.CompiledBinaryCrossEntropyWithLogits, "forward", spy)
    for dtype in (np.float32, np.float64):
        x = nt.tensor(np.linspace(-3, 3, 12, dtype=dtype))
        loss = nt.binary_cross_entropy_with_logits(x, nt.tensor(np.full(12, 0.25, dtype)))
        assert loss.dtype == dtype
    assert calls == [np.float32, np.float64]
    with backend.fast.using(numba=False):
        nt.binary_cross_entropy_with_logits(x.float(), x.float().sigmoid())
    assert len(calls) == 2


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_zero_dimensional_logits_keep_their_shape(reduction, torch):
    x = nt.tensor(np.float32(-1.5), requires_grad=True)
    t = nt.tensor(np.float32(0.25), requires_grad=True)
    loss = nt.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    loss.backward()
    assert loss.shape == x.grad.shape == t.grad.shape == ()
    xt = torch.tensor(-1.5, requires_grad=True)
    tt = torch.tensor(0.25, requires_grad=True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, reduction=reduction)
    theirs.backward()
    np.testing.assert_allclose(loss.item(), theirs.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.item(), xt.grad.item(), rtol=1e-6)
    np.testing.assert_allclose(t.grad.item(), tt.grad.item(), rtol=1e-6)
