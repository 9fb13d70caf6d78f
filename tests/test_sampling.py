"""Random sampling (neuronet/sampling.py): torch's call forms, shapes and dtypes, the
distributions' statistics, reproducibility under a seed, in-place fills and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt

FORMS = {  # name -> (call on a library, with its tensor constructor)
    "multinomial 1-D": lambda L, T: L.multinomial(T([0.2, 0.3, 0.5]), 2),
    "multinomial 2-D replacement": lambda L, T: L.multinomial(
        T([[0.2, 0.8], [1.0, 3.0], [5.0, 0.0]]), 7, replacement=True
    ),
    "Tensor.multinomial": lambda L, T: T([1.0, 2.0, 3.0, 4.0]).multinomial(3),
    "bernoulli": lambda L, T: L.bernoulli(T([[0.1, 0.9, 0.5]])),
    "bernoulli float64": lambda L, T: L.bernoulli(T([0.3, 0.7], dtype=L.float64)),
    "bernoulli p": lambda L, T: L.bernoulli(T([0.0, 0.0]), p=0.5),
    "normal tensors": lambda L, T: L.normal(T([[0.0], [1.0]]), T([1.0, 2.0, 3.0])),
    "normal tensor mean": lambda L, T: L.normal(T([0.0, 5.0], dtype=L.float64)),
    "normal tensor std": lambda L, T: L.normal(2.0, T([1.0, 0.5])),
    "normal size": lambda L, T: L.normal(0.0, 1.0, (2, 3)),
    "poisson": lambda L, T: L.poisson(T([1.0, 4.0, 0.0])),
    "uniform_": lambda L, T: L.zeros(2, 5).uniform_(-2, 3),
    "normal_": lambda L, T: L.zeros(4).normal_(1.0, 0.1),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_call_forms_shapes_and_dtypes_as_torch(name, torch):
    ours = FORMS[name](nt, nt.tensor)
    theirs = FORMS[name](torch, torch.tensor)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.requires_grad == theirs.requires_grad


def test_multinomial_frequencies_and_draws_without_replacement():
    g = nt.Generator().manual_seed(1)
    weights = np.array([1.0, 0.0, 3.0, 6.0])
    draws = nt.multinomial(nt.tensor(np.tile(weights, (400, 1))), 50, True, generator=g).numpy()
    freq = np.bincount(draws.ravel(), minlength=4) / draws.size
    np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.01)  # 20,000 draws
    rows = nt.multinomial(nt.tensor(np.tile(weights, (300, 1))), 3, generator=g).numpy()
    assert all(len(set(r)) == 3 and 1 not in r for r in rows)  # distinct, never weight 0
    first = np.bincount(rows[:, 0], minlength=4) / len(rows)  # the first draw is proportional
    np.testing.assert_allclose(first, weights / weights.sum(), atol=0.08)


def test_bernoulli_normal_poisson_and_fills_have_their_moments():
    g = nt.Generator().manual_seed(2)
    n = 200_000
    p = nt.bernoulli(nt.full((n,), 0.3), generator=g).numpy()
    assert set(np.unique(p)) == {0.0, 1.0} and abs(p.mean() - 0.3) < 0.005
    z = nt.normal(nt.full((n,), 2.0), nt.full((n,), 0.5), generator=g).numpy()
    assert abs(z.mean() - 2.0) < 0.01 and abs(z.std() - 0.5) < 0.01
    k = nt.poisson(nt.full((n,), 3.0), generator=g).numpy()
    assert abs(k.mean() - 3.0) < 0.02 and abs(k.var() - 3.0) < 0.05
    u = nt.empty(n).uniform_(-1.0, 3.0, generator=g).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.02
    w = nt.empty(n, dtype=nt.float64).normal_(0.0, 0.02, generator=g)
    assert w.dtype == nt.float64 and abs(w.numpy().std() - 0.02) < 0.0005


def test_the_same_seed_gives_the_same_draws():
    def draw():
        nt.manual_seed(7)
        return [
            nt.multinomial(nt.tensor([0.5, 0.5, 1.0]), 2).numpy(),
            nt.bernoulli(nt.full((5,), 0.5)).numpy(),
            nt.normal(0.0, 1.0, (3,)).numpy(),
            nt.zeros(3).uniform_().numpy(),
        ]

    for a, b in zip(draw(), draw()):
        np.testing.assert_array_equal(a, b)
    g1, g2 = nt.Generator().manual_seed(3), nt.Generator().manual_seed(3)
    a = nt.normal(nt.zeros(4), 1.0, generator=g1).numpy()
    np.testing.assert_array_equal(a, nt.normal(nt.zeros(4), 1.0, generator=g2).numpy())


def test_draws_from_parameters_that_need_a_gradient_give_zero_as_torchs(torch):
    for lib in (nt, torch):
        m = lib.zeros(3, requires_grad=True)
        s = lib.ones(3, requires_grad=True)
        p = lib.full((3,), 0.5, requires_grad=True)
        (lib.normal(m, s) + lib.bernoulli(p) + lib.poisson(p)).sum().backward()
        for t in (m, s, p):
            assert t.grad is not None and not t.grad.numpy().any()


def test_in_place_fills_follow_the_leaf_rule_and_bump_the_version():
    w = nt.nn.Parameter(nt.zeros(3))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad.*uniform_"):
        w.uniform_()
    with nt.no_grad():
        assert w.normal_(0.0, 1.0) is w
    assert np.all(w.detach().numpy() != 0)
    y = nt.ones(3, requires_grad=True) * 2
    out = (y * y).sum()
    y.uniform_()  # y was saved for backward: backward now refuses, as torch
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nt.multinomial(nt.tensor([0.5, -0.1]), 1), ValueError, "finite and non-negative"),
        (lambda: nt.multinomial(nt.tensor([[1.0, 1.0], [0.0, 0.0]]), 1), ValueError, "row 1"),
        (lambda: nt.multinomial(nt.tensor([1.0, 0.0, 1.0]), 3), ValueError, "has 2 non-zero"),
        (lambda: nt.multinomial(nt.tensor([1.0]), 0), ValueError, "must be positive"),
        (lambda: nt.multinomial(nt.zeros(2, 2, 2), 1), ValueError, r"\(C,\) or \(N, C\)"),
        (lambda: nt.multinomial([0.5, 0.5], 1), TypeError, "input must be a Tensor"),
        (lambda: nt.bernoulli(nt.tensor([1.5])), ValueError, r"lie in \[0, 1\]"),
        (lambda: nt.normal(0.0, 1.0), ValueError, "give size"),
        (lambda: nt.normal(nt.zeros(2), -1.0), ValueError, "std must be non-negative"),
        (lambda: nt.normal(nt.zeros(2), 1.0, (2,)), ValueError, "give size only when"),
        (lambda: nt.poisson(nt.tensor([-1.0])), ValueError, "non-negative"),
        (lambda: nt.zeros(2).uniform_(3, 1), ValueError, "from <= to"),
        (lambda: nt.zeros(2).normal_(0, -1), ValueError, "std must be non-negative"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
