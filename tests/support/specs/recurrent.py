"""Specs for ops/recurrent.py: the fused sequence ops (every layout) and the one-step cells.

Sizes are the small gradcheck ones (T=3, N=2, input 3, hidden 4); the two-layer bidirectional
specs check gradients element by element on T=2, N=1, input 2, hidden 2. Every initial state and
weight gets a gradient, so gradcheck covers dL/dh_0 and dL/dc_0 too. The torch side calls
torch.lstm / torch.gru / torch.rnn_tanh / torch.rnn_relu (and the *_cell functions) with the same
flat parameter list; torch needs an explicit zero state and no unbatched input, which the
wrappers add.
"""

from __future__ import annotations

import neuronet as nt
from support.op_specs import OpSpec

T, N, IN, H = 3, 2, 3, 4
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _seq_inputs(op, layers, directions, bias, hx, batch_first, batched=True, sizes=None):
    """inputs(rng, dtype) -> [x, (h_0, (c_0)), w_ih, w_hh, (b_ih, b_hh), ...]; ``sizes`` =
    (T, N, IN, H) replaces the module's sizes (a smaller case)."""
    t, n, i, h = sizes or (T, N, IN, H)
    g = GATES[op] * h

    def make(rng, dtype):
        if not batched:
            shape = (t, i)
        else:
            shape = (n, t, i) if batch_first else (t, n, i)
        out = [rng.standard_normal(shape)]
        state_shape = (layers * directions, n, h) if batched else (layers * directions, h)
        if hx:
            out += [rng.standard_normal(state_shape) for _ in range(2 if op == "lstm" else 1)]
        for layer in range(layers):
            for _ in range(directions):
                in_size = i if layer == 0 else directions * h
                out += [0.5 * rng.standard_normal((g, in_size)), 0.5 * rng.standard_normal((g, h))]
                if bias:
                    out += [0.5 * rng.standard_normal(g), 0.5 * rng.standard_normal(g)]
        return [a.astype(dtype) for a in out]

    return make


def _seq_spec(
    op,
    layers=1,
    bidirectional=False,
    bias=True,
    hx=True,
    batch_first=False,
    batched=True,
    fast=False,
):
    directions = 2 if bidirectional else 1
    n_states = (2 if op == "lstm" else 1) if hx else 0
    flags = (bias, layers, 0.0, False, bidirectional)

    def ours(x, *rest):
        states, params = rest[:n_states], list(rest[n_states:])
        state = None if not hx else (tuple(states) if op == "lstm" else states[0])
        return getattr(nt, op)(x, state, params, *flags, batch_first)

    def theirs(x, *rest):
        import torch

        states, params = list(rest[:n_states]), list(rest[n_states:])
        if not hx:
            rows = layers * directions
            shape = (rows, x.shape[0 if batch_first else 1], H) if batched else (rows, H)
            states = [torch.zeros(shape, dtype=x.dtype) for _ in range(2 if op == "lstm" else 1)]
        if not batched:
            x = x.unsqueeze(1)
            states = [s.unsqueeze(1) for s in states]
        state = tuple(states) if op == "lstm" else states[0]
        outs = getattr(torch, op)(x, state, params, *flags, batch_first and batched)
        if not batched:
            outs = tuple(o.squeeze(1) for o in outs)
        return outs

    return OpSpec(
        op,
        ours,
        theirs,
        _seq_inputs(op, layers, directions, bias, hx, batch_first, batched),
        fast_gradcheck=fast,
        gradcheck_inputs=(
            _seq_inputs(op, layers, directions, bias, hx, batch_first, batched, (2, 1, 2, 2))
            if fast
            else None
        ),
        rtol32=1e-4,
        atol32=1e-5,
    )


def _cell_spec(op, bias=True, hx=True, batched=True):
    base = op.replace("_cell", "")
    G = GATES[base] * H
    n_states = (2 if base == "lstm" else 1) if hx else 0

    def make(rng, dtype):
        out = [rng.standard_normal((N, IN) if batched else (IN,))]
        out += [rng.standard_normal((N, H) if batched else (H,)) for _ in range(n_states)]
        out += [0.5 * rng.standard_normal((G, IN)), 0.5 * rng.standard_normal((G, H))]
        if bias:
            out += [0.5 * rng.standard_normal(G), 0.5 * rng.standard_normal(G)]
        return [a.astype(dtype) for a in out]

    def ours(x, *rest):
        states, params = rest[:n_states], rest[n_states:]
        state = None if not hx else (tuple(states) if base == "lstm" else states[0])
        return getattr(nt, op)(x, state, *params)

    def theirs(x, *rest):
        import torch

        states, params = list(rest[:n_states]), rest[n_states:]
        if not hx:
            shape = (x.shape[0], H) if batched else (H,)
            states = [torch.zeros(shape, dtype=x.dtype) for _ in range(2 if base == "lstm" else 1)]
        if not batched:  # torch's *_cell functions need a batch dimension
            x, states = x.unsqueeze(0), [s.unsqueeze(0) for s in states]
        state = tuple(states) if base == "lstm" else states[0]
        out = getattr(torch, op)(x, state, *params)
        if not batched:
            out = tuple(o.squeeze(0) for o in out) if base == "lstm" else out.squeeze(0)
        return out

    return OpSpec(op, ours, theirs, make, rtol32=1e-4, atol32=1e-5)


SPECS = []
for _op in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    SPECS += [
        _seq_spec(_op),
        _seq_spec(_op, hx=False, batch_first=True),
        _seq_spec(_op, bias=False, bidirectional=True),
        _seq_spec(_op, batched=False, bidirectional=True),
        _seq_spec(_op, layers=2, bidirectional=True, batch_first=True, fast=True),
    ]
for _op in ("lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"):
    SPECS += [_cell_spec(_op), _cell_spec(_op, bias=False, hx=False, batched=False)]
