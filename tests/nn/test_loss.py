"""Loss modules: parity with torch (value, input grads) for every option, weight/pos_weight as
buffers with torch's state_dict keys, the legacy size_average/reduce pair, repr, and errors that
name the module."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from support.module_parity import assert_module_parity, assert_state_dict_loads_into_torch


def _regression(rng, shape=(4, 3)):
    x = rng.standard_normal(shape)
    return [
        x.astype(np.float32),
        (x + rng.choice([-1, 1], shape) * (0.3 + rng.random(shape) * 2)).astype(np.float32),
    ]


def _probs(rng, shape=(4, 3)):
    return [
        (0.05 + 0.9 * rng.random(shape)).astype(np.float32),
        rng.random(shape).astype(np.float32),
    ]


def _logits(rng, shape=(4, 3)):
    return [
        (rng.standard_normal(shape) * 2).astype(np.float32),
        rng.random(shape).astype(np.float32),
    ]


def _classes(rng, shape=(6, 4), ignore=True):
    x = (rng.standard_normal(shape) * 2).astype(np.float32)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    if ignore:
        t.flat[1] = -100
    return [x, t.astype(np.int64)]


def _log_probs(rng, shape=(6, 4)):
    x, t = _classes(rng, shape)
    x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return [x.astype(np.float32), t]


def _kl(rng, shape=(4, 3)):
    return [
        np.log(0.05 + 0.9 * rng.random(shape)).astype(np.float32),
        (0.05 + 0.9 * rng.random(shape)).astype(np.float32),
    ]


def _class_probs(rng, shape=(5, 3)):
    x = (rng.standard_normal(shape) * 2).astype(np.float32)
    e = np.exp(rng.standard_normal(shape))
    return [x, (e / e.sum(axis=1, keepdims=True)).astype(np.float32)]


def _kl_log_target(rng, shape=(4, 3)):
    x, t = _kl(rng, shape)
    return [x, np.log(t)]


W4 = np.array([0.5, 2.0, 1.0, 1.5], dtype=np.float32)
W3 = np.array([1.5, 0.5, 2.0], dtype=np.float32)

# (class name, kwargs (arrays become tensors), input maker)
CASES = [
    ("MSELoss", {}, _regression),
    ("MSELoss", {"reduction": "sum"}, _regression),
    ("L1Loss", {}, _regression),
    ("L1Loss", {"reduction": "none"}, _regression),
    ("HuberLoss", {"delta": 0.5}, _regression),
    ("HuberLoss", {"reduction": "sum"}, _regression),
    ("SmoothL1Loss", {"beta": 0.5}, _regression),
    ("SmoothL1Loss", {"beta": 0.0}, _regression),
    ("BCELoss", {}, _probs),
    ("BCELoss", {"weight": W3, "reduction": "none"}, _probs),
    ("BCEWithLogitsLoss", {}, _logits),
    ("BCEWithLogitsLoss", {"pos_weight": W3, "weight": W3, "reduction": "sum"}, _logits),
    ("CrossEntropyLoss", {}, _classes),
    ("CrossEntropyLoss", {"weight": W4, "label_smoothing": 0.2, "ignore_index": -100}, _classes),
    ("CrossEntropyLoss", {"reduction": "none", "label_smoothing": 0.1}, _classes),
    ("CrossEntropyLoss", {"weight": W4}, lambda rng: _classes(rng, (2, 4, 3, 2))),
    ("CrossEntropyLoss", {"weight": W3, "label_smoothing": 0.1}, _class_probs),
    ("NLLLoss", {}, _log_probs),
    ("NLLLoss", {"weight": W4, "reduction": "sum"}, _log_probs),
    ("KLDivLoss", {"reduction": "batchmean"}, _kl),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, _kl_log_target),
]

WEIGHTED = [c for c in CASES if any(isinstance(v, np.ndarray) for v in c[1].values())]


def _build(lib, name, kwargs, torch=None):
    args = {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray):
            v = torch.from_numpy(v.copy()) if torch is not None else nt.tensor(v)
        args[k] = v
    return getattr(lib, name)(**args)


@pytest.mark.parametrize(
    "name, kwargs, make", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_loss_module_parity(torch, rng, name, kwargs, make):
    ours = _build(nn, name, kwargs)
    theirs = _build(torch.nn, name, kwargs, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_module_parity(ours, theirs, make(rng), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, kwargs, make", CASES[::3], ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES[::3])]
)
def test_loss_module_parity_float64(torch, rng, name, kwargs, make):
    ours = _build(nn, name, kwargs)
    theirs = _build(torch.nn, name, kwargs, torch)
    inputs = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in make(rng)]
    assert_module_parity(ours, theirs, inputs, rtol=1e-10, atol=1e-12, double=True)


def test_weights_are_buffers_with_torch_names(torch, rng):
    ce = nn.CrossEntropyLoss(weight=nt.tensor(W4))
    assert list(ce.state_dict()) == ["weight"] and dict(ce.named_buffers())["weight"] is ce.weight
    assert list(ce.parameters()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=W3)  # arrays are accepted too
    assert list(bce.state_dict()) == ["pos_weight"]
    assert isinstance(bce.pos_weight, nt.Tensor)
    assert nn.CrossEntropyLoss().state_dict() == {}
    ce.double()
    assert ce.weight.dtype == np.float64
    theirs = torch.nn.CrossEntropyLoss(weight=torch.ones(4, dtype=torch.float64))
    ours = nn.CrossEntropyLoss(weight=nt.tensor(W4.astype(np.float64)))
    x, t = _classes(rng)
    assert_state_dict_loads_into_torch(ours, theirs, [x.astype(np.float64), t])


@pytest.mark.filterwarnings("ignore:size_average and reduce args:UserWarning")
def test_legacy_size_average_and_reduce(torch, rng):
    x, t = _regression(rng)
    for size_average, reduce in [
        (None, None),
        (False, None),
        (None, False),
        (True, True),
        (False, True),
    ]:
        with (
            pytest.warns(DeprecationWarning) if (size_average, reduce) != (None, None) else _null()
        ):
            ours = nn.MSELoss(size_average=size_average, reduce=reduce)
        theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert ours.reduction == theirs.reduction
        np.testing.assert_allclose(
            ours(nt.tensor(x), nt.tensor(t)).array,
            theirs(torch.from_numpy(x), torch.from_numpy(t)).numpy(),
            rtol=1e-6,
        )


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_repr():
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=0)) == (
        "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)"
    )
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(nn.KLDivLoss(reduction="batchmean", log_target=True)) == (
        "KLDivLoss(reduction='batchmean', log_target=True)"
    )


def test_errors_name_the_module():
    model = nn.Module()
    model.criterion = nn.CrossEntropyLoss()
    with pytest.raises(
        IndexError,
        match=r"CrossEntropyLoss at 'criterion': "
        r"target 7 is out of bounds for C = 3 classes",
    ):
        model.criterion(nt.randn(2, 3), nt.tensor([0, 7]))
    with pytest.raises(
        ValueError,
        match=r"MSELoss: input shape \(4, 1\) and target "
        r"shape \(4,\) differ",
    ):
        nn.MSELoss()(nt.randn(4, 1), nt.randn(4))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.L1Loss(reduction="avg")(nt.randn(2), nt.randn(2))


def test_classifier_trains_with_cross_entropy(rng):
    # a linear softmax classifier separates three Gaussian blobs
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]], dtype=np.float32)
    labels = rng.integers(0, 3, 150)
    x = nt.tensor((centers[labels] + 0.5 * rng.standard_normal((150, 2))).astype(np.float32))
    y = nt.tensor(labels)
    model = nn.Linear(2, 3)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    first = None
    for _ in range(100):
        model.zero_grad()
        loss = criterion(model(x), y)
        first = loss.item() if first is None else first
        loss.backward()
        with nt.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.5)
    accuracy = (model(x).array.argmax(axis=1) == labels).mean()
    assert loss.item() < first / 3 and accuracy > 0.95


@pytest.mark.parametrize(
    "name, kwargs, make",
    WEIGHTED,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(WEIGHTED)],
)
def test_weighted_loss_state_dict_loads_into_torch(torch, rng, name, kwargs, make):
    ours = _build(nn, name, kwargs)
    theirs = _build(
        torch.nn,
        name,
        {k: (v * 0 if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()},
        torch,
    )
    assert_state_dict_loads_into_torch(ours, theirs, make(rng))
