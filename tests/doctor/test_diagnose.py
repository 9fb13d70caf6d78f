"""diagnose: never touches the user's model, optimizer or RNG; accepts every data and loss form;
reports each stage with its numbers; the LR suggestion is stable across seeds."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import doctor, nn, optim
from neuronet.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    TensorDataset,
)

sys.path.insert(0, str(Path(__file__).parent))

from faults import blobs, digits, mlp, regression  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _state(model, optimizer):
    weights = {k: v.array.copy() for k, v in model.state_dict().items()}
    grads = {
        n: None if p.grad is None else p.grad.array.copy() for n, p in model.named_parameters()
    }
    opt = optimizer.state_dict()
    return weights, grads, opt, model.training


def test_diagnose_changes_nothing_it_is_given():
    x, y = blobs(0)
    nt.manual_seed(3)
    model = nn.Sequential(
        nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 4)
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    F.cross_entropy(model(nt.tensor(x[:32])), nt.tensor(y[:32])).backward()
    opt.step()  # optimizer state exists, and .grad is set
    model.eval()
    nt.manual_seed(123)
    rng_before = nt.get_rng_state()
    before = _state(model, opt)
    report = doctor.diagnose(model, (x, y), "cross_entropy", opt, val=(x[:50], y[:50]))
    after = _state(model, opt)
    assert nt.get_rng_state() == rng_before
    for k in before[0]:
        np.testing.assert_array_equal(before[0][k], after[0][k], err_msg=k)
    for k in before[1]:
        np.testing.assert_array_equal(before[1][k], after[1][k], err_msg=k)
    assert json.dumps(_jsonable(before[2])) == json.dumps(_jsonable(after[2]))
    assert after[3] is False  # still in eval mode
    assert [s.name for s in report.stages] == [
        "data",
        "wiring",
        "init",
        "overfit",
        "lr_find",
        "grad_flow",
        "run",
    ]


def _jsonable(state):
    def conv(v):
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v

    return conv(state)


class _Stream(IterableDataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __iter__(self):
        yield from zip(self.x, self.y)


class _WholeBatches(Dataset):
    """A map-style dataset whose items are batches of 40 (for ``batch_size=None``)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x) // 40

    def __getitem__(self, i):
        return self.x[40 * i : 40 * (i + 1)], self.y[40 * i : 40 * (i + 1)]


_FORMS = ["pair", "tensors", "dataset", "loader", "batch_sampler", "iterable", "loader_iterable"]


def _data_form(form, x, y):
    return {
        "pair": lambda: (x, y),
        "tensors": lambda: (nt.tensor(x), nt.tensor(y)),
        "dataset": lambda: TensorDataset(x, y),
        "loader": lambda: DataLoader(TensorDataset(x, y), batch_size=32),
        "batch_sampler": lambda: DataLoader(
            TensorDataset(x, y), batch_sampler=BatchSampler(RandomSampler(x), 24, False)
        ),
        "iterable": lambda: _Stream(x, y),
        "loader_iterable": lambda: DataLoader(_Stream(x, y), batch_size=32),
        "whole_batches": lambda: DataLoader(_WholeBatches(x, y), batch_size=None),
    }[form]()


@pytest.mark.parametrize("form", [*_FORMS, "whole_batches"])
def test_data_forms_give_the_same_examination(form):
    x, y = blobs(1, n=200)
    data = _data_form(form, x, y)
    model = mlp(16, 4, 0)
    state = nt.get_rng_state()
    report = doctor.diagnose(model, data, "cross_entropy", optim.Adam(model.parameters(), 1e-3))
    assert nt.get_rng_state() == state
    data_stage = report.stages[0]
    assert data_stage.numbers["rows"] == 200
    assert data_stage.numbers["classes_present"] == 4
    assert not report.errors
    streamed = form in ("iterable", "loader_iterable", "whole_batches")
    assert ("read from a stream" in data_stage.lines[0]) == streamed


@pytest.mark.parametrize("form", _FORMS)
def test_every_data_form_shows_rows_with_nan(form):
    x, y = blobs(2, n=200)
    x[[7, 150]] = np.nan
    report = doctor.diagnose(mlp(16, 4, 0), _data_form(form, x, y), "cross_entropy", None)
    f = report.findings[0]
    assert f.code == "data.non_finite"
    assert f.evidence["rows"][:2] == [7, 150]


@pytest.mark.parametrize(
    "loss",
    [
        "cross_entropy",
        nn.CrossEntropyLoss(),
        F.cross_entropy,
        lambda out, t: F.cross_entropy(out, t),
    ],
)
def test_loss_forms(loss):
    x, y = blobs(2, n=200)
    model = mlp(16, 4, 0)
    report = doctor.diagnose(model, (x, y), loss, optim.Adam(model.parameters(), 1e-3))
    wiring = report.stages[1]
    assert wiring.numbers["task"] == "classification"
    assert wiring.numbers["num_classes"] == 4
    assert not report.errors


def test_stage_numbers_are_reported():
    x, y = digits(0)
    model = mlp(64, 10, 0)
    report = doctor.diagnose(model, (x, y), "cross_entropy", optim.Adam(model.parameters(), 1e-3))
    stages = {s.name: s for s in report.stages}
    assert abs(stages["init"].numbers["expected_loss"] - np.log(10)) < 1e-9
    assert abs(stages["init"].numbers["loss_at_init"] - np.log(10)) < 0.5
    assert stages["overfit"].numbers["success"] is True
    assert stages["overfit"].numbers["heldout_accuracy"] > 0.5
    assert 1e-4 < stages["lr_find"].numbers["suggestion"] < 1e-1
    assert stages["run"].numbers["last"] < stages["run"].numbers["first"]
    assert report.meta["lr_suggestion"] == stages["lr_find"].numbers["suggestion"]
    text = str(report)
    for title in (
        "1. Data",
        "2. Shapes",
        "3. Initialisation",
        "4. Overfit",
        "5. Learning-rate",
        "6. Gradient flow",
        "7. Short training run",
        "ln 10 = 2.303",
    ):
        assert title in text


def test_bad_arguments_are_clear_errors():
    model = mlp(16, 4, 0)
    x, y = blobs(0, n=50)
    with pytest.raises(TypeError, match="nn.Module"):
        doctor.diagnose(lambda v: v, (x, y), "cross_entropy")
    with pytest.raises(ValueError, match="budget must be 'quick' or 'full'"):
        doctor.diagnose(model, (x, y), "cross_entropy", budget="fast")
    with pytest.raises(ValueError, match="unknown loss"):
        doctor.diagnose(model, (x, y), "hinge")
    with pytest.raises(ValueError, match="inputs have 50 rows but targets have 10"):
        doctor.diagnose(model, (x, y[:10]), "cross_entropy")
    with pytest.raises(TypeError, match="Dataset, a DataLoader or a pair"):
        doctor.diagnose(model, 42, "cross_entropy")
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        doctor.diagnose(model, (x, y), "cross_entropy", batch_size=0)
    with pytest.raises(TypeError, match="seed must be an int, got 'a'"):
        doctor.diagnose(model, (x, y), "cross_entropy", seed="a")
    with pytest.raises(TypeError, match="doctor.watch: model must be an nn.Module, got int"):
        doctor.watch(42)
    with pytest.raises(TypeError, match="doctor.watch: optimizer must be a neuronet.optim"):
        doctor.watch(model, "adam")


def test_report_write_refuses_a_file_and_writes_nothing(tmp_path):
    x, y = blobs(0, n=50)
    report = doctor.diagnose(mlp(16, 4, 0), (x, y), "cross_entropy")
    target = tmp_path / "report.md"
    target.write_text("mine")
    with pytest.raises(NotADirectoryError, match="is a file; give a folder"):
        report.write(target)
    assert target.read_text() == "mine" and sorted(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    "make_opt",
    [lambda p: optim.Adam(p, lr=1e-3), lambda p: optim.SGD(p, lr=0.01, momentum=0.9)],
    ids=["adam", "sgd-momentum"],
)
def test_lr_suggestion_is_stable_within_3x_across_5_seeds(make_opt):
    x, y = digits(0)
    suggestions = []
    for seed in range(5):
        model = mlp(64, 10, 0, hidden=(64,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = doctor.diagnose(
                model, (x, y), "cross_entropy", make_opt(model.parameters()), seed=seed
            )
        suggestions.append(report.meta["lr_suggestion"])
    assert all(s is not None for s in suggestions)
    assert max(suggestions) / min(suggestions) < 3.0, suggestions


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = mlp(16, 4, 0)

    def forward(self, v):
        return self.body(v), v.sum()


@pytest.mark.parametrize(
    "case", ["tuple-output", "one-hot", "binary", "frozen", "float-ce-targets"]
)
def test_other_setups_run_every_stage_and_find_what_is_there(case):
    x, y = blobs(3, n=200)
    model, loss, target, expect = mlp(16, 4, 0), "cross_entropy", y, []
    if case == "tuple-output":
        model, loss = TupleOut(), (lambda out, t: F.cross_entropy(out[0], t))
    elif case == "one-hot":
        target = np.eye(4, dtype=np.float32)[y]
    elif case == "binary":
        model, loss, target = mlp(16, 1, 0), "bce_with_logits", (y > 1).astype(np.float32)[:, None]
    elif case == "frozen":
        model.requires_grad_(False)
        expect = ["opt.params_not_updated"]
    else:
        target, expect = y.astype(np.float32), ["loss.mismatch"]
    report = doctor.diagnose(model, (x, target), loss, optim.Adam(model.parameters(), 1e-3))
    assert [s.skipped for s in report.stages if s.skipped and "failed" in s.skipped] == []
    assert report.codes("warning") == expect


def test_class_indices_stored_as_floats_under_mse_are_a_mismatch_not_a_broadcast():
    """The usual slip: labels 0..C-1 as float32, a C-output classifier and MSE. The shapes
    broadcast too, but the cause is the loss: loss.mismatch comes first and names the fix."""
    x, y = blobs(5, n=200)
    model = mlp(16, 4, 0)
    report = doctor.diagnose(
        model, (x, y.astype(np.float32)), "mse", optim.Adam(model.parameters())
    )
    assert report.codes("warning")[0] == "loss.mismatch"
    assert "cross_entropy" in report.findings[0].prescription + report.findings[0].message


def test_sequence_logits_with_classes_last_get_the_flattening_fix():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, (64, 8))
    nt.manual_seed(0)
    model = nn.Sequential(nn.Embedding(7, 8), nn.Linear(8, 7))  # (N, T) -> (N, T, 7)
    data = (ids, (ids + 1) % 7)  # a next token the model can learn
    report = doctor.diagnose(model, data, "cross_entropy", optim.Adam(model.parameters(), 1e-2))
    f = report.findings[0]
    assert f.code == "loss.mismatch" and f.severity == "error"
    assert "holds its 7 classes on the last axis" in f.prescription
    assert "out.reshape(-1, out.shape[-1]), y.reshape(-1)" in f.prescription
    # and the fix it gives is one the doctor then finds nothing wrong with
    fixed = doctor.diagnose(
        model,
        data,
        lambda out, y: F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1)),
        optim.Adam(model.parameters(), 1e-2),
    )
    assert not fixed.codes("error")


def test_minibatch_noise_on_noisy_labels_is_not_oscillation():
    # the label depends on a feature the model never sees: the loss stays high and each
    # minibatch's loss swings by ~13% of the starting loss, with the weights settled
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    hidden = rng.standard_normal(300).astype(np.float32)
    y = (x[:, 0] + hidden > 0).astype(np.int64)
    nt.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    report = doctor.diagnose(model, (x, y), "cross_entropy", optim.Adam(model.parameters(), 1e-2))
    assert "train.oscillating" not in report.codes()


def test_a_rate_at_the_stability_limit_oscillates_on_the_fixed_batch():
    x, y = regression(0)
    nt.manual_seed(0)
    model = nn.Linear(8, 1)
    report = doctor.diagnose(model, (x, y[:, None]), "mse", optim.SGD(model.parameters(), 0.6))
    assert report.codes("warning")[:2] == ["lr.too_high", "train.oscillating"]
    f = next(f for f in report.findings if f.code == "train.oscillating")
    assert "the training loss on a fixed batch swings by" in f.message
