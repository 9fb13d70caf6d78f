"""Losses beyond the registry: error messages, stability, dtypes, empty and ignored batches,
identities between losses."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import neuronet as nt

ELEMENTWISE = [
    nt.mse_loss,
    nt.l1_loss,
    nt.huber_loss,
    nt.smooth_l1_loss,
    nt.binary_cross_entropy_with_logits,
    nt.kl_div,
]


# ---- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ELEMENTWISE + [nt.binary_cross_entropy], ids=lambda f: f.__name__)
def test_shape_mismatch_raises_with_both_shapes_and_the_fix(fn):
    x = nt.rand(4, 1)
    with pytest.raises(ValueError) as info:
        fn(x, nt.rand(4))
    msg = str(info.value)
    assert fn.__name__ in msg and "(4, 1)" in msg and "(4,)" in msg
    assert "never broadcast" in msg and "reshape" in msg


def test_cross_entropy_target_errors():
    x = nt.randn(3, 5)
    with pytest.raises(
        IndexError,
        match=r"cross_entropy: target 5 is out of bounds for C = 5 "
        r"classes \(valid class indices are 0..4",
    ):
        nt.cross_entropy(x, nt.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        nt.cross_entropy(x, nt.tensor([0, -1, 1]))
    with pytest.raises(
        TypeError,
        match=r"class-index targets must be integers, got dtype float32 "
        r"with shape \(3,\); use target.long\(\) .* one-hot probabilities",
    ):
        nt.cross_entropy(x, nt.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(
        ValueError,
        match=r"input of shape \(3, 5\) .* needs a target of shape "
        r"\(3,\), got \(4,\)",
    ):
        nt.cross_entropy(x, nt.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"weight must have shape \(5,\), got \(4,\)"):
        nt.cross_entropy(x, nt.tensor([0, 1, 2]), weight=nt.ones(4))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        nt.cross_entropy(x, nt.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index=0 is not supported with probability"):
        nt.cross_entropy(x, nt.softmax(nt.randn(3, 5), dim=1), ignore_index=0)
    with pytest.raises(ValueError, match="must have a class dimension"):
        nt.cross_entropy(nt.tensor(1.0), nt.tensor(0))
    with pytest.raises(IndexError, match="nll_loss: target 9 is out of bounds for C = 5"):
        nt.nll_loss(x, nt.tensor([9, 0, 0]))


def test_bce_value_checks():
    p = nt.tensor([0.2, 0.7])
    with pytest.raises(
        ValueError,
        match=r"input contains the value 1.2, outside \[0, 1\]; it "
        r"expects probabilities: apply sigmoid first",
    ):
        nt.binary_cross_entropy(nt.tensor([1.2, 0.5]), nt.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: input contains NaN"):
        nt.binary_cross_entropy(nt.tensor([np.nan, 0.5]), nt.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: target contains NaN"):
        nt.binary_cross_entropy(p, nt.tensor([np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"target contains the value 2, outside \[0, 1\]"):
        nt.binary_cross_entropy(p, nt.tensor([2.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target contains NaN"):
        nt.binary_cross_entropy_with_logits(p, nt.tensor([np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) cannot be broadcast"):
        nt.binary_cross_entropy_with_logits(p, p, pos_weight=nt.ones(3))


def test_option_errors():
    x = nt.randn(3)
    with pytest.raises(ValueError, match="mse_loss: 'avg' is not a valid value for reduction"):
        nt.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="non-positive values for delta"):
        nt.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="negative values for beta"):
        nt.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match=r"weight requires grad.*pass weight.detach\(\)"):
        nt.cross_entropy(nt.randn(2, 3), nt.tensor([0, 1]), weight=nt.ones(3, requires_grad=True))
    with pytest.raises(TypeError, match="input must be floating point, got dtype int64"):
        nt.mse_loss(nt.tensor([1, 2]), nt.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        nt.mse_loss(x, x, weight=nt.ones(1))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        nt.kl_div(nt.randn(2, 2), nt.rand(2, 2))


# ---- stability --------------------------------------------------------------------------------
def test_huge_logits_give_finite_losses_and_gradients_silently():
    x = nt.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ce = nt.cross_entropy(x, nt.tensor([1, 1]), label_smoothing=0.1)
        bce = nt.binary_cross_entropy_with_logits(x, nt.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]))
        (ce + bce).backward()
    assert np.isfinite(ce.item()) and np.isfinite(bce.item())
    assert ce.item() > 1e3  # the first sample is confidently wrong: loss ~ 2e4 / 2
    assert np.isfinite(x.grad.array).all()
    np.testing.assert_allclose(nt.cross_entropy(x, nt.tensor([0, 1])).item(), 0.0, atol=1e-6)


def test_bce_clamps_log_at_minus_100_like_torch():
    x = nt.tensor([0.0, 1.0, 0.5], requires_grad=True)
    loss = nt.binary_cross_entropy(x, nt.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.array, [100.0, 100.0, np.log(2)], rtol=1e-6)
    loss.backward(nt.ones(3))
    assert np.isfinite(x.grad.array).all()


# ---- dtypes -----------------------------------------------------------------------------------
def test_float32_stays_float32_with_float64_or_int_targets():
    x = nt.randn(4, 3, requires_grad=True)
    t64 = nt.randn(4, 3, dtype="float64", requires_grad=True)
    loss = nt.mse_loss(x, t64)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and t64.grad.dtype == np.float64
    assert nt.l1_loss(x, nt.tensor(np.ones((4, 3), dtype=np.int64))).dtype == np.float32
    assert nt.cross_entropy(
        x, nt.tensor([0, 1, 2, 0]), weight=nt.ones(3, dtype="float64")
    ).dtype == (np.float32)
    assert nt.binary_cross_entropy_with_logits(x, nt.rand(4, 3), pos_weight=np.ones(3)).dtype == (
        np.float32
    )


# ---- empty and fully ignored batches ----------------------------------------------------------
def test_all_ignored_and_empty_batches_follow_torch():
    x = nt.randn(2, 3)
    assert np.isnan(nt.cross_entropy(x, nt.tensor([-100, -100])).item())
    assert nt.cross_entropy(x, nt.tensor([-100, -100]), reduction="sum").item() == 0.0
    assert np.isnan(nt.mse_loss(nt.zeros(0), nt.zeros(0)).item())
    assert nt.mse_loss(nt.zeros(0), nt.zeros(0), reduction="sum").item() == 0.0
    empty = nt.zeros(0, 3, requires_grad=True)
    loss = nt.cross_entropy(empty, nt.tensor(np.zeros(0, dtype=np.int64)), reduction="sum")
    loss.backward()
    assert empty.grad.shape == (0, 3)


# ---- identities ---------------------------------------------------------------------------------
def test_identities_between_losses(rng):
    x = nt.tensor(rng.standard_normal((5, 4)))
    t = nt.tensor(rng.integers(0, 4, 5))
    np.testing.assert_allclose(
        nt.nll_loss(nt.log_softmax(x, dim=1), t).item(), nt.cross_entropy(x, t).item(), rtol=1e-12
    )
    onehot = nt.tensor(np.eye(4)[t.array])
    np.testing.assert_allclose(
        nt.cross_entropy(x, onehot, label_smoothing=0.2).item(),
        nt.cross_entropy(x, t, label_smoothing=0.2).item(),
        rtol=1e-12,
    )
    y = nt.tensor(rng.standard_normal((5, 4)))
    np.testing.assert_allclose(
        nt.smooth_l1_loss(x, y, beta=0.5).item(), nt.huber_loss(x, y, delta=0.5).item() / 0.5
    )
    np.testing.assert_allclose(nt.smooth_l1_loss(x, y, beta=0.0).item(), nt.l1_loss(x, y).item())
    probs = nt.sigmoid(x)
    target = nt.tensor(rng.random((5, 4)))
    np.testing.assert_allclose(
        nt.binary_cross_entropy(probs, target).item(),
        nt.binary_cross_entropy_with_logits(x, target).item(),
        rtol=1e-10,
    )


def test_unbatched_cross_entropy_gives_a_scalar():
    x = nt.randn(4, requires_grad=True)
    loss = nt.cross_entropy(x, nt.tensor(2), reduction="none")
    assert loss.shape == ()
    loss.backward()
    assert x.grad.shape == (4,)


def test_legacy_reduction_arguments_warn_and_map():
    x = nt.randn(3)
    y = nt.randn(3)
    with pytest.warns(DeprecationWarning, match="size_average and reduce are deprecated"):
        out = nt.mse_loss(x, y, reduce=False)
    assert out.shape == (3,)
    with pytest.warns(DeprecationWarning):
        total = nt.l1_loss(x, y, size_average=False)
    np.testing.assert_allclose(total.item(), np.abs(x.array - y.array).sum(), rtol=1e-6)
