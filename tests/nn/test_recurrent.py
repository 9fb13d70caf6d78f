"""RNN, LSTM, GRU and their cells against PyTorch, plus init, repr, dropout and error messages.

Layer parity: the torch module is built under a seed and its state dict is loaded into ours
(proving names and shapes match); the same input runs in train and eval mode; outputs, final
states, the input gradient, the initial-state gradients and every parameter gradient (by name)
must agree, in float32 (rtol 1e-4, atol 1e-5) and float64 (rtol 1e-7, atol 1e-9).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuronet as nt
from neuronet import nn
from support.parity import assert_close
from support.paths import skip_without_numba

T, N, IN, H = 6, 3, 5, 4
TOL = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


def _make_pair(torch, name, dtype, seed=0, **kwargs):
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(**kwargs).to(getattr(torch, dtype))
    ours = getattr(nn, name)(**kwargs, dtype=dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _tensors(torch, arrays, grad):
    ours = [nt.Tensor(a.copy(), requires_grad=grad) for a in arrays]
    theirs = [torch.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
    return ours, theirs


def _flat(out):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n, (c_n)]."""
    output, state = out
    return [output] + (list(state) if isinstance(state, tuple) else [state])


def _backward_both(torch, ours_out, theirs_out, rng):
    cots = [rng.standard_normal(tuple(t.shape)).astype(str(t.dtype)[6:]) for t in theirs_out]
    nt.autograd.run_backward(ours_out, [nt.Tensor(c) for c in cots])
    torch.autograd.backward(theirs_out, [torch.from_numpy(c) for c in cots])


def _assert_grads(ours_mod, theirs_mod, rtol, atol):
    theirs = dict(theirs_mod.named_parameters())
    ours = dict(ours_mod.named_parameters())
    assert ours.keys() == theirs.keys()
    for name, p in ours.items():
        assert p.grad is not None, f"{name} got no gradient"
        assert p.grad.dtype == p.dtype
        assert_close(p.grad, theirs[name].grad, rtol, atol, f"grad of {name}")


# name, constructor kwargs, initial state given, batched input, input requires grad
LAYERS = []
for _name in ("RNN", "LSTM", "GRU"):
    LAYERS += [
        (_name, {}, False, True, True),
        (_name, {"num_layers": 2}, True, True, True),
        (_name, {"bidirectional": True}, True, True, True),
        (_name, {"batch_first": True}, False, True, False),
        (_name, {"bias": False}, True, True, True),
        (_name, {"bidirectional": True}, True, False, True),
        (_name, {"num_layers": 2, "bidirectional": True, "batch_first": True}, True, True, True),
        (_name, {"num_layers": 2, "bias": False, "batch_first": True}, False, False, True),
    ]
LAYERS += [
    ("RNN", {"nonlinearity": "relu"}, True, True, True),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, True, True, True),
]


def _layer_id(case):
    name, kwargs, hx, batched, _ = case
    parts = [name] + [f"{k}={v}" for k, v in kwargs.items()]
    return "-".join(parts + (["hx"] if hx else []) + ([] if batched else ["unbatched"]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", LAYERS, ids=[_layer_id(c) for c in LAYERS])
def test_layer_matches_torch(torch, case, dtype):
    name, kwargs, with_hx, batched, x_grad = case
    rtol, atol = TOL[dtype]
    ours_mod, theirs_mod = _make_pair(torch, name, dtype, input_size=IN, hidden_size=H, **kwargs)
    assert not list(ours_mod.buffers())  # recurrent layers have no buffers
    rng = np.random.default_rng(1)
    batch_first = kwargs.get("batch_first", False)
    shape = ((N, T, IN) if batch_first else (T, N, IN)) if batched else (T, IN)
    rows = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    state_shape = (rows, N, H) if batched else (rows, H)
    for mode in ("train", "eval"):
        getattr(ours_mod, mode)()
        getattr(theirs_mod, mode)()
        ours_mod.zero_grad()
        theirs_mod.zero_grad()
        x = rng.standard_normal(shape).astype(dtype)
        (ox,), (tx,) = _tensors(torch, [x], x_grad)
        n_states = 2 if name == "LSTM" else 1
        states = [rng.standard_normal(state_shape).astype(dtype) for _ in range(n_states)]
        o_states, t_states = _tensors(torch, states, True)
        if with_hx:
            o_hx = tuple(o_states) if name == "LSTM" else o_states[0]
            t_hx = tuple(t_states) if name == "LSTM" else t_states[0]
            ours_out, theirs_out = _flat(ours_mod(ox, o_hx)), _flat(theirs_mod(tx, t_hx))
        else:
            ours_out, theirs_out = _flat(ours_mod(ox)), _flat(theirs_mod(tx))
        for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
            assert o.dtype == np.dtype(dtype)
            assert_close(o, t, rtol, atol, f"{mode} output {k}")
        _backward_both(torch, ours_out, theirs_out, rng)
        if x_grad:
            assert_close(ox.grad, tx.grad, rtol, atol, f"{mode} input grad")
        if with_hx:
            for k, (o, t) in enumerate(zip(o_states, t_states)):
                assert_close(o.grad, t.grad, rtol, atol, f"{mode} grad of initial state {k}")
        _assert_grads(ours_mod, theirs_mod, rtol, atol)


CELLS = [
    ("RNNCell", {}, True, True),
    ("RNNCell", {"nonlinearity": "relu"}, True, True),
    ("RNNCell", {"bias": False}, False, False),
    ("LSTMCell", {}, True, True),
    ("LSTMCell", {}, False, True),
    ("LSTMCell", {"bias": False}, True, False),
    ("GRUCell", {}, True, True),
    ("GRUCell", {"bias": False}, False, True),
    ("GRUCell", {}, True, False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "case", CELLS, ids=[f"{c[0]}-{c[1]}-hx{c[2]}-batched{c[3]}" for c in CELLS]
)
def test_cell_matches_torch(torch, case, dtype):
    name, kwargs, with_hx, batched = case
    rtol, atol = TOL[dtype]
    ours_mod, theirs_mod = _make_pair(torch, name, dtype, input_size=IN, hidden_size=H, **kwargs)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((N, IN) if batched else (IN,)).astype(dtype)
    (ox,), (tx,) = _tensors(torch, [x], True)
    n_states = 2 if name == "LSTMCell" else 1
    states = [rng.standard_normal((N, H) if batched else (H,)).astype(dtype)] * n_states
    o_states, t_states = _tensors(torch, states, True)
    if with_hx:
        o_hx = tuple(o_states) if n_states == 2 else o_states[0]
        t_hx = tuple(t_states) if n_states == 2 else t_states[0]
        ours_out, theirs_out = ours_mod(ox, o_hx), theirs_mod(tx, t_hx)
    else:
        ours_out, theirs_out = ours_mod(ox), theirs_mod(tx)
    ours_out = list(ours_out) if n_states == 2 else [ours_out]
    theirs_out = list(theirs_out) if n_states == 2 else [theirs_out]
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert_close(o, t, rtol, atol, f"output {k}")
    _backward_both(torch, ours_out, theirs_out, rng)
    assert_close(ox.grad, tx.grad, rtol, atol, "input grad")
    if with_hx:
        for k, (o, t) in enumerate(zip(o_states, t_states)):
            assert_close(o.grad, t.grad, rtol, atol, f"grad of state {k}")
    _assert_grads(ours_mod, theirs_mod, rtol, atol)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_cell_loop_equals_layer(name):
    """Stepping the cell with the layer's weights gives the layer's output (same math)."""
    layer = getattr(nn, name)(IN, H, dtype="float64")
    cell = getattr(nn, name + "Cell")(IN, H, dtype="float64")
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = nt.Tensor(np.random.default_rng(3).standard_normal((T, N, IN)))
    output, state = layer(x)
    hx = None
    for t in range(T):
        hx = cell(nt.Tensor(x.array[t]), hx)
        h = hx[0] if name == "LSTM" else hx
        np.testing.assert_allclose(h.array, output.array[t], rtol=1e-12, atol=1e-14)
    final = state[0] if name == "LSTM" else state
    np.testing.assert_allclose(final.array[0], h.array, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_numba_and_numpy_backward_steps_agree(name):
    """The fused numba step kernels compute what the NumPy reference steps compute."""
    skip_without_numba()
    from neuronet import backend

    model = getattr(nn, name)(IN, H, num_layers=2, bidirectional=True, dtype="float64")
    x = np.random.default_rng(8).standard_normal((T, N, IN))
    results = []
    for enabled in (True, False):
        with backend.fast.using(numba=enabled):
            ox = nt.Tensor(x.copy(), requires_grad=True)
            outs = _flat(model(ox))
            fn = outs[0]._ctx.fn  # the last layer's sequence Function
            assert fn.__name__.startswith("Compiled") == enabled, fn
            nt.autograd.run_backward(outs, [nt.Tensor(np.cos(o.array)) for o in outs])
            results.append([ox.grad.array] + [p.grad.array for p in model.parameters()])
            model.zero_grad()
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# ---- dropout between layers ----------------------------------------------------------------
def _lstm_outputs(model, x):
    x = nt.Tensor(x.copy(), requires_grad=True)
    output, (h_n, c_n) = model(x)
    nt.autograd.run_backward([output], [nt.Tensor(np.ones(output.shape, np.float32))])
    grads = {k: p.grad.array.copy() for k, p in model.named_parameters()}
    model.zero_grad()
    return output.array.copy(), h_n.array.copy(), x.grad.array.copy(), grads


def test_dropout_eval_matches_torch(torch):
    ours, theirs = _make_pair(
        torch, "LSTM", "float32", input_size=IN, hidden_size=H, num_layers=3, dropout=0.5
    )
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(4).standard_normal((T, N, IN)).astype(np.float32)
    out, _ = ours(nt.Tensor(x))
    assert_close(out, theirs(torch.from_numpy(x))[0], 1e-4, 1e-5, "eval output")


def test_dropout_one_in_training_matches_torch(torch):
    """p = 1 zeroes every layer's output but the last in both frameworks: exact comparison."""
    ours, theirs = _make_pair(
        torch, "GRU", "float32", input_size=IN, hidden_size=H, num_layers=2, dropout=1.0
    )
    x = np.random.default_rng(5).standard_normal((T, N, IN)).astype(np.float32)
    (ox,), (tx,) = _tensors(torch, [x], True)
    ours_out, theirs_out = _flat(ours(ox)), _flat(theirs(tx))
    for o, t in zip(ours_out, theirs_out):
        assert_close(o, t, 1e-4, 1e-5, "train output with dropout=1")
    _backward_both(torch, ours_out, theirs_out, np.random.default_rng(6))
    assert_close(ox.grad, tx.grad, 1e-4, 1e-5, "input grad")
    _assert_grads(ours, theirs, 1e-4, 1e-5)


def test_dropout_in_training_is_seeded_and_active():
    model = nn.LSTM(IN, H, num_layers=2, dropout=0.5)
    x = np.random.default_rng(7).standard_normal((T, N, IN)).astype(np.float32)
    nt.manual_seed(123)
    first = _lstm_outputs(model, x)
    nt.manual_seed(123)
    second = _lstm_outputs(model, x)
    for a, b in zip(first[:3], second[:3]):
        np.testing.assert_array_equal(a, b)
    for k in first[3]:
        np.testing.assert_array_equal(first[3][k], second[3][k])
    nt.manual_seed(124)
    other_seed = _lstm_outputs(model, x)
    assert not np.allclose(first[0], other_seed[0])
    model.eval()
    assert not np.allclose(first[0], _lstm_outputs(model, x)[0])
    # dropout acts between the layers: layer 0's final state does not depend on the seed
    np.testing.assert_array_equal(first[1][0], other_seed[1][0])


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(IN, H, dropout=0.2)


# ---- parameters, init, repr ------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("LSTM", {"num_layers": 2, "bidirectional": True}),
        ("GRU", {"bias": False, "num_layers": 3}),
        ("RNN", {"nonlinearity": "relu", "bidirectional": True, "bias": False}),
        ("LSTMCell", {}),
        ("GRUCell", {"bias": False}),
        ("RNNCell", {"nonlinearity": "relu"}),
    ],
)
def test_state_dict_names_shapes_and_repr_match_torch(torch, name, kwargs):
    ours = getattr(nn, name)(7, 5, **kwargs)
    theirs = getattr(torch.nn, name)(7, 5, **kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in ours_sd:
        assert ours_sd[k].shape == tuple(theirs_sd[k].shape), k
    assert repr(ours) == repr(theirs)
    # and the other direction: our state dict loads strictly into torch, same outputs after
    theirs.load_state_dict({k: torch.from_numpy(v.array.copy()) for k, v in ours_sd.items()})
    x = np.random.default_rng(9).standard_normal((3, 7) if "Cell" in name else (4, 3, 7))
    x = x.astype(np.float32)
    with torch.no_grad():
        theirs_out = theirs(torch.from_numpy(x))
    ours_out = ours(nt.Tensor(x))
    first = (lambda out: out[0]) if name in ("LSTM", "GRU", "RNN", "LSTMCell") else (lambda o: o)
    assert_close(first(ours_out), first(theirs_out), 1e-5, 1e-6, "output after loading ours")


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_is_uniform_in_plus_minus_one_over_sqrt_hidden(name):
    nt.manual_seed(0)
    model = getattr(nn, name)(16, 64)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.array.ravel() for p in model.parameters()])
    assert values.dtype == np.float32
    assert np.all(np.abs(values) <= bound)
    assert values.max() > 0.95 * bound and values.min() < -0.95 * bound
    assert abs(values.mean()) < 0.05 * bound
    nt.manual_seed(0)
    again = getattr(nn, name)(16, 64)
    for a, b in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(a.array, b.array)


def test_float32_stays_float32_and_no_grad_records_nothing():
    model = nn.GRU(IN, H, num_layers=2, bidirectional=True)
    x = nt.Tensor(np.ones((T, N, IN), np.float32), requires_grad=True)
    output, h_n = model(x)
    assert output.dtype == np.float32 and h_n.dtype == np.float32
    nt.autograd.run_backward([output], [nt.Tensor(np.ones(output.shape, np.float32))])
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    with nt.no_grad():
        output, h_n = model(x)
    assert not output.requires_grad and not h_n.requires_grad


def test_functional_lstm_is_the_layer(torch):
    model = nn.LSTM(IN, H, num_layers=2)
    x = nt.randn(T, N, IN)
    out, (h, c) = model(x)
    f_out, f_h, f_c = nt.functional.lstm(x, None, model._flat_weights, True, 2, 0.0, False)
    np.testing.assert_array_equal(out.array, f_out.array)
    np.testing.assert_array_equal(c.array, f_c.array)


# ---- errors ------------------------------------------------------------------------------------
class _Model(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.encoder = layer


def test_wrong_input_size_names_the_module():
    model = _Model(nn.LSTM(64, 16, batch_first=True))
    with pytest.raises(
        ValueError,
        match=r"LSTM at 'encoder': expected input of size 64 in its last dimension \(input_size\)"
        r", got shape \(32, 50, 32\); the input should be \(batch, seq_len, input_size\)",
    ):
        model.encoder(nt.randn(32, 50, 32))


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda m: m(nt.randn(2, 3, 4, 5)), ValueError, r"GRU at 'encoder': expected a 3-D input"),
        (
            lambda m: m(nt.randn(T, N, IN), nt.randn(2, N, H)),
            ValueError,
            r"expected h_0 of shape \(1, 3, 4\) \(num_layers \* num_directions, batch, "
            r"hidden_size\), got \(2, 3, 4\)",
        ),
        (
            lambda m: m(nt.randn(T, N, IN), nt.randn(1, H)),
            ValueError,
            r"for batched 3-D input, h_0 should be 3-D \(1, 3, 4\), got shape \(1, 4\)",
        ),
        (
            lambda m: m(nt.randn(T, IN), nt.randn(1, N, H)),
            ValueError,
            r"for unbatched 2-D input, h_0 should be 2-D \(1, 4\)",
        ),
        (
            lambda m: m(nt.randn(T, N, IN, dtype="float64")),
            TypeError,
            r"input dtype float64 does not match the weights' dtype float32",
        ),
        (lambda m: m(nt.randn(0, N, IN)), ValueError, r"empty sequence"),
        (lambda m: m(np.zeros((T, N, IN))), TypeError, r"expected input to be a Tensor"),
    ],
)
def test_gru_input_errors(call, error, match):
    model = _Model(nn.GRU(IN, H))
    with pytest.raises(error, match=match):
        call(model.encoder)


def test_lstm_hx_must_be_a_pair():
    model = _Model(nn.LSTM(IN, H))
    with pytest.raises(TypeError, match=r"LSTM at 'encoder': hx must be a tuple \(h_0, c_0\)"):
        model.encoder(nt.randn(T, N, IN), nt.randn(1, N, H))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(1, 3, 4\)"):
        model.encoder(nt.randn(T, N, IN), (nt.randn(1, N, H), nt.randn(1, N, H + 1)))


@pytest.mark.parametrize(
    "build,error,match",
    [
        (lambda: nn.LSTM(IN, 0), ValueError, "LSTM: hidden_size must be greater than zero"),
        (lambda: nn.GRU(IN, H, num_layers=0), ValueError, "num_layers must be greater than zero"),
        (lambda: nn.RNN(2.5, H), TypeError, "RNN: input_size should be an int"),
        (
            lambda: nn.LSTM(IN, H, dropout=1.5),
            ValueError,
            r"dropout should be a number in \[0, 1\]",
        ),
        (lambda: nn.RNN(IN, H, nonlinearity="sigmoid"), ValueError, "unknown nonlinearity"),
        (lambda: nn.LSTM(IN, H, proj_size=2), NotImplementedError, "proj_size=2"),
        (lambda: nn.GRU(IN, H, bias="yes"), TypeError, "bias should be a bool"),
        (lambda: nn.RNNCell(IN, H, nonlinearity="gelu"), ValueError, "unknown nonlinearity"),
        (lambda: nn.GRUCell(IN, -1), ValueError, "GRUCell: hidden_size must be greater than zero"),
    ],
)
def test_constructor_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    "call,error,match",
    [
        (
            lambda m: m(nt.randn(T, N, IN)),
            ValueError,
            r"LSTMCell at 'encoder': expected a 2-D input",
        ),
        (lambda m: m(nt.randn(N, IN + 1)), ValueError, r"expected input of size 5"),
        (
            lambda m: m(nt.randn(N, IN), (nt.randn(N, H), nt.randn(N + 1, H))),
            ValueError,
            r"expected c of shape \(3, 4\) \(batch, hidden_size\) to match input of shape "
            r"\(3, 5\), got \(4, 4\)",
        ),
        (lambda m: m(nt.randn(N, IN), nt.randn(N, H)), TypeError, r"hx must be a tuple \(h, c\)"),
    ],
)
def test_cell_errors(call, error, match):
    model = _Model(nn.LSTMCell(IN, H))
    with pytest.raises(error, match=match):
        call(model.encoder)


def test_functional_errors():
    w = [nt.randn(4 * H, IN), nt.randn(4 * H, H)]
    with pytest.raises(ValueError, match=r"lstm: expected 4 weight tensors \(1 layer\(s\) x 1 "):
        nt.functional.lstm(nt.randn(T, N, IN), None, w)
    with pytest.raises(ValueError, match=r"gru: w_ih of layer 0, direction 0 has shape \(16, 5\)"):
        nt.functional.gru(nt.randn(T, N, IN), None, w, False)
    with pytest.raises(TypeError, match=r"lstm: hx must be a pair \(h_0, c_0\)"):
        nt.functional.lstm(nt.randn(T, N, IN), nt.randn(1, N, H), w, False)
    with pytest.raises(
        ValueError, match=r"lstm_cell: w_ih has shape \(16, 5\), expected \(16, 6\)"
    ):
        nt.functional.lstm_cell(nt.randn(N, IN + 1), None, *w)
