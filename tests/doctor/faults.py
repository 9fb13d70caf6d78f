"""Planted faults and healthy controls for the training doctor.

Each ``Case`` builds, for a seed, one small setup with one planted fault (or none), runs the
doctor on it (``diagnose`` or a ``watch`` over a hand-written loop) and returns the ``Report``.
The seed changes the data, the model's initialisation and the doctor's sampling.
``tests/doctor/test_faults.py`` asserts the ranking targets; ``benchmarks/doctor_faults.py``
prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import neuronet as nt
import neuronet.functional as F
from neuronet import doctor, nn, optim
from neuronet.data import TensorDataset, load_digits


@dataclass
class Case:
    name: str
    expected: str | None  # the planted code (None: a healthy control)
    run: object  # run(seed) -> Report
    kind: str = "diagnose"


# ---- data and models ------------------------------------------------------------------------
def blobs(seed, n=400, d=16, c=4, sep=2.5, counts=None):
    """Gaussian clusters, standardised: an easy, learnable classification set."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d)) * sep / np.sqrt(d) * 2
    if counts is None:
        y = rng.integers(0, c, n)
    else:
        y = np.concatenate([np.full(k, i) for i, k in enumerate(counts)])
        rng.shuffle(y)
    x = centers[y] + rng.standard_normal((len(y), d))
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y.astype(np.int64)


def regression(seed, n=400, d=8):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = rng.standard_normal(d)
    y = np.tanh(x @ w / np.sqrt(d)) * 2 + 0.1 * rng.standard_normal(n)
    y = (y - y.mean()) / y.std()
    return x, y.astype(np.float32)


def mlp(d, c, seed, hidden=(32,), act=nn.ReLU, last=None):
    nt.manual_seed(seed)
    layers = []
    size = d
    for h in hidden:
        layers += [nn.Linear(size, h), act()]
        size = h
    layers.append(nn.Linear(size, c))
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def digits(seed, flatten=True, normalize=True):
    train = load_digits("train", flatten=flatten, normalize=normalize)
    x, y = train.arrays
    return np.array(x), np.array(y)


def run_diagnose(model, data, loss, optimizer, seed, val=None, batch_size=32):
    return doctor.diagnose(
        model, data, loss, optimizer, val=val, batch_size=batch_size, seed=seed, budget="quick"
    )


# ---- diagnose faults ------------------------------------------------------------------------
def _non_finite(seed):
    x, y = blobs(seed)
    x[np.random.default_rng(seed).choice(len(x), 5, replace=False), 3] = np.nan
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _unscaled(seed):
    x, y = digits(seed, normalize=False)
    x = x * 16.0  # raw 0..255 pixels
    m = mlp(64, 10, seed, hidden=(64,))
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _single_class(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return run_diagnose(
        m, (x, np.zeros_like(y)), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed
    )


def _label_range(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y + 1), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _imbalance(seed):
    x, y = blobs(seed, counts=(600, 15, 15, 15), sep=4.0)
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _overlap(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return run_diagnose(
        m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed, val=(x[:100], y[:100])
    )


def _no_signal(seed):
    x, y = digits(seed)
    y = np.random.default_rng(seed).permutation(y)
    m = mlp(64, 10, seed, hidden=(64,))
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _shape(seed):
    x, y = blobs(seed)
    m = mlp(12, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _broadcast(seed):
    x, y = regression(seed)
    m = mlp(8, 1, seed)
    return run_diagnose(
        m, (x, y), lambda out, t: ((out - t) ** 2).mean(), optim.Adam(m.parameters(), 1e-3), seed
    )


def _double_softmax(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, last=nn.Softmax(dim=1))
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _mismatch(seed):
    x, y = blobs(seed)
    m = mlp(16, 1, seed)
    return run_diagnose(m, (x, y), "mse", optim.Adam(m.parameters(), 1e-3), seed)


def _bad_init(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    with nt.no_grad():
        m[-1].weight.array *= 30.0
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _vanishing(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(16,) * 7, act=nn.Sigmoid)
    return run_diagnose(m, (x, y), "cross_entropy", optim.SGD(m.parameters(), 0.05), seed)


def _exploding(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(64,) * 6)
    for layer in m:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, 3.0 * np.sqrt(2.0 / layer.in_features))
    return run_diagnose(m, (x, y), "cross_entropy", optim.SGD(m.parameters(), 0.01), seed)


class LogHead(nn.Module):
    def __init__(self, d, c):
        super().__init__()
        self.body = nn.Linear(d, 32)
        self.head = nn.Linear(32, c)

    def forward(self, x):
        h = F.relu(self.body(x)).log()  # log(0) = -inf for every inactive unit
        return self.head(h)


def _numerics(seed):
    x, y = blobs(seed)
    nt.manual_seed(seed)
    m = LogHead(16, 4)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _dead(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(32, 32))
    with nt.no_grad():
        m[0].bias.array[...] = -20.0
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _saturated(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(32, 32), act=nn.Tanh)
    nn.init.normal_(m[0].weight, 0.0, 4.0)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _lr_high(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1.0), seed)


def _lr_low(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-6), seed)


class BatchMean(nn.Module):
    """A model that averages the batch by mistake: every sample gets the same output."""

    def __init__(self, d, c):
        super().__init__()
        self.fc1 = nn.Linear(d, 32)
        self.fc2 = nn.Linear(32, c)

    def forward(self, x):
        h = F.relu(self.fc1(x)).mean(0, keepdim=True)  # the planted bug: mean over samples
        return self.fc2(h).expand(x.shape[0], -1)


def _cannot_overfit(seed):
    x, y = blobs(seed)
    nt.manual_seed(seed)
    m = BatchMean(16, 4)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _overfitting(seed):
    x, y = digits(seed)
    rng = np.random.default_rng(seed)
    pick = np.concatenate([rng.choice(np.flatnonzero(y == c), 6, replace=False) for c in range(10)])
    xt, yt = x[pick], y[pick].copy()
    noisy = rng.random(60) < 0.4
    yt[noisy] = rng.integers(0, 10, noisy.sum())
    test = load_digits("test")
    m = mlp(64, 10, seed, hidden=(128,))
    return run_diagnose(
        m,
        (xt, yt),
        "cross_entropy",
        optim.Adam(m.parameters(), 1e-2),
        seed,
        val=test,
        batch_size=16,
    )


def _not_in_optimizer(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(32, 32))
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m[-1].parameters(), 1e-3), seed)


def _unscaled_targets(seed):
    x, y = regression(seed)
    m = mlp(8, 1, seed)
    return run_diagnose(
        m, (x, (y * 1000 + 5000)[:, None]), "mse", optim.Adam(m.parameters(), 1e-3), seed
    )


# ---- watch faults: the user's own loop ------------------------------------------------------
def train_loop(
    model,
    opt,
    x,
    y,
    seed,
    steps=120,
    batch=32,
    zero_grad=True,
    evaluate=None,
    lr_growth=None,
    loss_fn=F.cross_entropy,
    val=None,
):
    """A plain training loop under ``doctor.watch``; the keyword arguments plant the faults."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(x)) for _ in range(steps * batch // len(x) + 2)])
    with doctor.watch(model, opt) as w:
        for step in range(steps):
            idx = order[step * batch : (step + 1) * batch]
            loss = loss_fn(model(nt.tensor(x[idx])), nt.tensor(y[idx]))
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            opt.step()
            if lr_growth:
                for g in opt.param_groups:
                    g["lr"] *= lr_growth
            if evaluate is not None and step % 20 == 19:
                evaluate(model, w)
            if val is not None and step % 10 == 9:
                model.eval()
                with nt.no_grad():
                    w.record(
                        val_loss=float(loss_fn(model(nt.tensor(val[0])), nt.tensor(val[1])).item())
                    )
                model.train()
    return w.report()


def _w_zero_grad(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return train_loop(m, optim.SGD(m.parameters(), 0.05, momentum=0.9), x, y, seed, zero_grad=False)


def _w_eval_mode(seed):
    x, y = blobs(seed)
    nt.manual_seed(seed)
    m = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4))

    def evaluate(model, w):  # forgets model.eval()
        with nt.no_grad():
            model(nt.tensor(x[:64]))

    return train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, seed, evaluate=evaluate)


def _w_batch_of_one(seed):
    x, y = digits(seed, flatten=False)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), 65, replace=False)
    x, y = x[pick], y[pick]
    nt.manual_seed(seed)
    m = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 64, 10),
    )
    opt = optim.Adam(m.parameters(), 1e-3)
    with doctor.watch(m, opt) as w:
        for _ in range(4):  # epochs over 65 samples in batches of 32: the last batch has 1
            for start in range(0, 65, 32):
                loss = F.cross_entropy(
                    m(nt.tensor(x[start : start + 32])), nt.tensor(y[start : start + 32])
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
    return w.report()


def _w_schedule(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return train_loop(m, optim.SGD(m.parameters(), 0.01), x, y, seed, steps=150, lr_growth=1.08)


def _w_diverging(seed):
    """A hand-written update with the sign flipped: gradient ascent."""
    x, y = digits(seed)
    m = mlp(64, 10, seed, hidden=(64,))
    rng = np.random.default_rng(seed)
    with doctor.watch(m) as w:
        for _ in range(120):
            idx = rng.choice(len(x), 32, replace=False)
            loss = F.cross_entropy(m(nt.tensor(x[idx])), nt.tensor(y[idx]))
            m.zero_grad()
            loss.backward()
            with nt.no_grad():
                for p in m.parameters():
                    p.array += 0.01 * p.grad.array  # the planted bug: + instead of -
    return w.report()


def _w_oscillating(seed):
    """Linear regression with SGD at 0.6: near the stability limit 2 / lambda_max."""
    x, y = regression(seed)
    nt.manual_seed(seed)
    m = nn.Linear(8, 1)
    return train_loop(
        m, optim.SGD(m.parameters(), 0.6), x, y[:, None], seed, steps=200, loss_fn=F.mse_loss
    )


def _w_stuck(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return train_loop(m, optim.SGD(m.parameters(), 1e-5), x, y, seed)


def _w_overfitting(seed):
    x, y = digits(seed)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x), 64, replace=False)
    xt, yt = x[pick], y[pick].copy()
    noisy = rng.random(64) < 0.4
    yt[noisy] = rng.integers(0, 10, noisy.sum())
    tx, ty = load_digits("test").arrays
    m = mlp(64, 10, seed, hidden=(256,))
    return train_loop(
        m,
        optim.Adam(m.parameters(), 1e-2),
        xt,
        yt,
        seed,
        steps=150,
        batch=16,
        val=(np.array(tx), np.array(ty)),
    )


def _w_not_in_optimizer(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed, hidden=(32, 32))
    return train_loop(
        m, optim.Adam(list(m[2].parameters()) + list(m[4].parameters()), 1e-3), x, y, seed
    )


def _w_numerics(seed):
    x, y = blobs(seed)
    nt.manual_seed(seed)
    m = LogHead(16, 4)
    return train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, seed, steps=5)


# ---- healthy controls -----------------------------------------------------------------------
def _c_mlp(seed):
    x, y = digits(seed)
    tx, ty = load_digits("test").arrays
    m = mlp(64, 10, seed, hidden=(32,))
    return run_diagnose(
        m,
        (x, y),
        "cross_entropy",
        optim.Adam(m.parameters(), 1e-3),
        seed,
        val=(np.array(tx), np.array(ty)),
    )


def _c_deep_bn(seed):
    x, y = digits(seed)
    nt.manual_seed(seed)
    layers = []
    size = 64
    for _ in range(5):
        lin = nn.Linear(size, 32)
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        layers += [lin, nn.BatchNorm1d(32), nn.ReLU()]
        size = 32
    layers.append(nn.Linear(32, 10))
    m = nn.Sequential(*layers)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _c_cnn(seed):
    x, y = digits(seed, flatten=False)
    nt.manual_seed(seed)
    m = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 16, 10),
    )
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _c_regression(seed):
    x, y = regression(seed)
    m = mlp(8, 1, seed, hidden=(32,))
    return run_diagnose(
        m, TensorDataset(x, y[:, None]), nn.MSELoss(), optim.Adam(m.parameters(), 1e-3), seed
    )


def _c_imbalanced(seed):
    x, y = blobs(seed, n=0, counts=(400, 40, 20, 20), sep=4.0)
    m = mlp(16, 4, seed)
    return run_diagnose(m, (x, y), "cross_entropy", optim.Adam(m.parameters(), 1e-3), seed)


def _c_watch(seed):
    x, y = blobs(seed)
    m = mlp(16, 4, seed)
    return train_loop(m, optim.Adam(m.parameters(), 1e-3), x, y, seed)


FAULTS = [
    Case("NaN in 5 input rows", "data.non_finite", _non_finite),
    Case("raw 0..255 pixels", "data.unscaled_inputs", _unscaled),
    Case("every label is 0", "data.single_class", _single_class),
    Case("labels 1..C (off by one)", "data.label_out_of_range", _label_range),
    Case("classes 600/15/15/15", "data.class_imbalance", _imbalance),
    Case("val rows copied from train", "data.split_overlap", _overlap),
    Case("labels shuffled", "data.no_signal", _no_signal),
    Case("first layer expects 12 features, data has 16", "shape.mismatch", _shape),
    Case("(N, 1) output vs (N,) target in a custom MSE", "loss.broadcast", _broadcast),
    Case("Softmax layer before cross_entropy", "loss.double_softmax", _double_softmax),
    Case("MSE on class indices", "loss.mismatch", _mismatch),
    Case("last layer initialised 30x too large", "init.bad_initial_loss", _bad_init),
    Case("7 sigmoid layers, SGD", "grad.vanishing", _vanishing),
    Case("6 ReLU layers initialised 3x He", "grad.exploding", _exploding),
    Case("log(relu(x)) in forward", "numerics.non_finite", _numerics),
    Case("first-layer bias -20 (all ReLUs dead)", "act.dead_relu", _dead),
    Case("tanh layer with N(0, 4) weights", "act.saturated", _saturated),
    Case("Adam lr 1.0", "lr.too_high", _lr_high),
    Case("Adam lr 1e-6", "lr.too_low", _lr_low),
    Case("forward averages the batch", "train.cannot_overfit", _cannot_overfit),
    Case("60 samples, 40% noisy labels, wide MLP", "train.overfitting", _overfitting),
    Case("optimizer holds only the last layer", "opt.params_not_updated", _not_in_optimizer),
    Case("regression targets around 5000", "data.unscaled_targets", _unscaled_targets),
    Case("loop never calls zero_grad", "opt.missing_zero_grad", _w_zero_grad, "watch"),
    Case("evaluates without model.eval()", "train.eval_in_train_mode", _w_eval_mode, "watch"),
    Case(
        "65 samples in batches of 32 into BatchNorm", "norm.batch_of_one", _w_batch_of_one, "watch"
    ),
    Case("learning rate x1.08 every step", "lr.too_high", _w_schedule, "watch"),
    Case("hand-written update adds the gradient", "train.diverging", _w_diverging, "watch"),
    Case("linear regression, SGD lr 0.6", "train.oscillating", _w_oscillating, "watch"),
    Case("SGD lr 1e-5", "train.stuck", _w_stuck, "watch"),
    Case("64 noisy samples, validation recorded", "train.overfitting", _w_overfitting, "watch"),
    Case(
        "optimizer misses the first layer", "opt.params_not_updated", _w_not_in_optimizer, "watch"
    ),
    Case("log(relu(x)) in a watched loop", "numerics.non_finite", _w_numerics, "watch"),
]

CONTROLS = [
    Case("MLP on digits (+ validation)", None, _c_mlp),
    Case("deep ReLU net, He init + BatchNorm", None, _c_deep_bn),
    Case("small CNN on digit images", None, _c_cnn),
    Case("regression MLP", None, _c_regression),
    # a healthy control's `expected` is the one warning it should get (None: no warning at all)
    Case("imbalanced but separable classes", "data.class_imbalance", _c_imbalanced),
    Case("correct loop under watch", None, _c_watch, "watch"),
]
