"""Recurrent layers as fused ops: Elman RNN (tanh/relu), LSTM and GRU over a whole sequence.

One ``Function`` runs one layer over all T time steps (both directions when bidirectional, one
after the other) with a hand-written backpropagation through time:

    forward   xw = X @ W_ih^T           one GEMM for all T steps: X is (T*N, in)
              for t: h_t = cell(xw_t, h_{t-1} @ W_hh^T)   one (N, H) x (H, G) GEMM per step
    backward  for t (reversed): d_ih[t], d_hh[t] = dL/d(pre-activations), dL/dh_{t-1}
              dL/dW_ih = d_ih^T X,  dL/dx = d_ih W_ih,  dL/dW_hh = d_hh^T [h_0 .. h_{T-1}]
              (one GEMM each over all steps), dL/db_ih = sum d_ih,  dL/db_hh = sum d_hh

Gates and states are saved by the forward, not recomputed. The time loops live in
``_rnn_cells.py``; this file lays out the data (time-major or batch-first, batched or not, which
rows of the stacked initial state a layer reads) and holds the public functions.

The public functions follow PyTorch's low-level ones (``torch.lstm``, ``torch.gru``,
``torch.rnn_tanh``, ``torch.lstm_cell``, ...): the multi-layer ``lstm(input, hx, params,
has_biases, num_layers, dropout, train, bidirectional, batch_first)`` takes ``params`` flat in
``nn.LSTM``'s order (per layer, per direction: w_ih, w_hh, b_ih, b_hh) and also accepts unbatched
2-D input and ``hx=None`` (zeros). Gate order and equations are PyTorch's (SEMANTICS #4, #5):
LSTM rows of W are i, f, g, o; GRU rows are r, z, n with the reset gate applied *after* the
recurrent matmul, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``. Keras (i, f, c, o; GRU z, r, h)
and ONNX (i, o, f, c; GRU z, r, h with reset before the matmul by default) differ: reorder the
weight rows when porting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops import _rnn_cells as cells
from neuronet.ops._rnn_checks import check_cell_args, check_sequence_args, layer_weights, shape_of
from neuronet.ops.dropout import dropout as _dropout


class _Cell(NamedTuple):
    name: str
    gates: int  # G = gates * hidden_size rows in W_ih and W_hh
    forward: Callable
    backward: Callable
    n_states: int  # 1 (h) or 2 (h, c)


_RNN = _Cell("rnn", 1, cells.rnn_forward, cells.rnn_backward, 1)
_LSTM = _Cell("lstm", 4, cells.lstm_forward, cells.lstm_backward, 2)
_GRU = _Cell("gru", 3, cells.gru_forward, cells.gru_backward, 1)


@dataclass(frozen=True)
class _Layout:
    """How one layer call sees its arrays (computed by the public functions)."""

    T: int
    N: int
    batch_first: bool  # x is (N, T, in) and the output (N, T, D*H)
    directions: tuple  # one reverse flag per direction: (False,) or (False, True)
    layer: int  # reads rows layer*D .. layer*D + D-1 of the stacked initial state
    out_shape: tuple  # shape of the returned output sequence
    state_shape: tuple  # shape of each returned final state


def _forward(ctx, cell: _Cell, x, init, weights, layout: _Layout, **kw):
    T, N, D = layout.T, layout.N, len(layout.directions)
    H, F = weights[1].shape[1], x.shape[-1]
    if layout.batch_first:  # time-major rows (t, n); x is small next to the gates
        x2 = np.ascontiguousarray(x.reshape(N, T, F).transpose(1, 0, 2)).reshape(T * N, F)
    else:
        x2 = x.reshape(T * N, F)
    init_rows = [None if s is None else s.reshape(-1, N, H)[layout.layer * D :][:D] for s in init]
    out = None
    if D > 1 or layout.batch_first:
        out = np.empty((N, T, D * H) if layout.batch_first else (T, N, D * H), x.dtype)
    runs, finals = [], [[] for _ in init]
    for d, reverse in enumerate(layout.directions):
        w_ih, w_hh, b_ih, b_hh = weights[4 * d : 4 * d + 4]
        start = tuple(None if s is None else s[d] for s in init_rows)
        saved, last = cell.forward(x2, start, w_ih, w_hh, b_ih, b_hh, reverse, T, N, **kw)
        runs.append(saved)
        for k, s in enumerate(last):
            finals[k].append(s)
        hs = saved[0]
        seq = hs[:T] if reverse else hs[1:]
        if out is None:
            out = seq  # one time-major direction: the state buffer is the output
        elif layout.batch_first:
            out[:, :, d * H : (d + 1) * H] = seq.transpose(1, 0, 2)
        else:
            out[:, :, d * H : (d + 1) * H] = seq
    ctx.save_for_backward(x2, weights, runs)
    ctx.cell, ctx.layout, ctx.kw = cell, layout, kw
    ctx.shapes = (x.shape, [None if s is None else s.shape for s in init])
    states = tuple(np.stack(f).reshape(layout.state_shape) for f in finals)
    return (out.reshape(layout.out_shape),) + states


def _weight_grads(parts, inputs2, H, need_w, need_b):
    """dL/dW = D^T @ inputs and dL/db = sum(D) per part, assembled in PyTorch's row order."""
    if parts[0][0] is None:  # one (T*N, G*H) block holding every row of W, in order
        D = parts[0][1]
        return (D.T @ inputs2 if need_w else None, D.sum(axis=0) if need_b else None)
    G = sum(len(blocks) for blocks, _ in parts)
    grad_w = np.empty((G, H, inputs2.shape[1]), inputs2.dtype) if need_w else None
    grad_b = np.empty((G, H), inputs2.dtype) if need_b else None
    for blocks, D in parts:
        blocks = list(blocks)
        if need_w:
            grad_w[blocks] = np.matmul(D.transpose(0, 2, 1), inputs2)
        if need_b:
            grad_b[blocks] = D.sum(axis=1)
    return (
        None if grad_w is None else grad_w.reshape(G * H, -1),
        None if grad_b is None else grad_b.reshape(G * H),
    )


def _backward(ctx, grad_out, grad_finals):
    x2, weights, runs = ctx.saved
    cell, layout, needs = ctx.cell, ctx.layout, ctx.needs_input_grad
    x_shape, init_shapes = ctx.shapes
    T, N, D, bf = layout.T, layout.N, len(layout.directions), layout.batch_first
    H, F, S = weights[1].shape[1], x2.shape[1], len(grad_finals)
    go = grad_out.reshape((N, T, D * H) if bf else (T, N, D * H))
    if bf:
        go = go.transpose(1, 0, 2)
    gfin = [g.reshape(D, N, H) for g in grad_finals]
    grad_x = np.zeros((T * N, F), x2.dtype) if needs[0] else None
    grad_init = [
        None if s is None or not needs[1 + k] else np.zeros(s, x2.dtype)
        for k, s in enumerate(init_shapes)
    ]
    grad_w = [None] * len(weights)
    for d, reverse in enumerate(layout.directions):
        w_ih, w_hh = weights[4 * d], weights[4 * d + 1]
        grad_seq = np.ascontiguousarray(go[:, :, d * H : (d + 1) * H])
        ih_parts, hh_parts, d_init = cell.backward(
            runs[d], grad_seq, tuple(g[d] for g in gfin), w_hh, reverse, **ctx.kw
        )
        k = 1 + S + 4 * d  # position of w_ih among the inputs (x, states..., weights...)
        grad_w[4 * d], grad_w[4 * d + 2] = _weight_grads(ih_parts, x2, H, needs[k], needs[k + 2])
        if needs[k + 1] or needs[k + 3]:
            hs = runs[d][0]
            h_prev = (hs[1:] if reverse else hs[:T]).reshape(T * N, H)
            if hh_parts is ih_parts and grad_w[4 * d + 2] is not None:
                grad_w[4 * d + 1] = _weight_grads(hh_parts, h_prev, H, needs[k + 1], False)[0]
                grad_w[4 * d + 3] = grad_w[4 * d + 2].copy() if needs[k + 3] else None
            else:
                grad_w[4 * d + 1], grad_w[4 * d + 3] = _weight_grads(
                    hh_parts, h_prev, H, needs[k + 1], needs[k + 3]
                )
        if needs[0]:
            w = w_ih.reshape(-1, H, F)
            for blocks, Dk in ih_parts:
                if blocks is None:  # (T*N, G*H) against all of W_ih's rows
                    grad_x += Dk @ w_ih
                else:
                    grad_x += np.matmul(Dk, w[list(blocks)]).sum(axis=0)
        for s, gs in enumerate(grad_init):
            if gs is not None:
                gs.reshape(-1, N, H)[layout.layer * D + d] = d_init[s]
    if grad_x is not None:
        grad_x = grad_x.reshape(T, N, F)
        if bf:
            grad_x = np.ascontiguousarray(grad_x.transpose(1, 0, 2))
        grad_x = grad_x.reshape(x_shape)
    return (grad_x, *grad_init, *grad_w)


class RNNSequence(Function):
    """One Elman RNN layer over a whole sequence (PyTorch's RNN_TANH / RNN_RELU):

        h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act = tanh or relu

    dL/da_t = dL/dh_t * act'(a_t)  (tanh: 1 - h_t^2;  relu: 1 where h_t > 0, 0 at the kink),
    dL/dh_{t-1} = dL/da_t @ W_hh, dL/dx_t = dL/da_t @ W_ih, dL/dW_ih = sum_t dL/da_t^T x_t,
    dL/dW_hh = sum_t dL/da_t^T h_{t-1}, dL/db_ih = dL/db_hh = sum_t dL/da_t.
    Saves: x, the weights, the T + 1 hidden states of each direction.
    """

    @staticmethod
    def forward(ctx, x, h0, *weights, layout, nonlinearity):
        return _forward(ctx, _RNN, x, (h0,), weights, layout, nonlinearity=nonlinearity)

    @staticmethod
    def backward(ctx, grad_out, grad_h):
        return _backward(ctx, grad_out, (grad_h,))


class LSTMSequence(Function):
    """One LSTM layer over a whole sequence; W rows are the gates i, f, g, o (PyTorch's order):

        [i, f, g, o] = [sig, sig, tanh, sig](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    dL/dc_t += dL/dh_t * o * (1 - tanh(c_t)^2);  dL/dc_{t-1} = dL/dc_t * f;
    dL/da = [dc*g, dc*c_{t-1}, dc*i, dh*tanh(c_t)] * [s(1-s), s(1-s), 1-g^2, s(1-s)];
    dL/dh_{t-1} = dL/da @ W_hh; weight grads as for RNNSequence with dL/da in place of dL/da_t.
    Saves: x, the weights, per direction the activated gates and h, c, tanh(c) of every step.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, *weights, layout):
        return _forward(ctx, _LSTM, x, (h0, c0), weights, layout)

    @staticmethod
    def backward(ctx, grad_out, grad_h, grad_c):
        return _backward(ctx, grad_out, (grad_h, grad_c))


class GRUSequence(Function):
    """One GRU layer over a whole sequence; W rows are the gates r, z, n (PyTorch's order):

        [r, z] = sig(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz])
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

    dL/da_n = dh * (1 - z) * (1 - n^2);  dL/d(W_hn h + b_hn) = dL/da_n * r;
    dL/da_r = dL/da_n * (W_hn h + b_hn) * r(1-r);  dL/da_z = dh * (h_{t-1} - n) * z(1-z);
    dL/dh_{t-1} = dh * z + [da_r, da_z, d(W_hn h + b_hn)] @ W_hh.
    Saves: x, the weights, per direction the activated gates, W_hn h + b_hn and h of every step.
    """

    @staticmethod
    def forward(ctx, x, h0, *weights, layout):
        return _forward(ctx, _GRU, x, (h0,), weights, layout)

    @staticmethod
    def backward(ctx, grad_out, grad_h):
        return _backward(ctx, grad_out, (grad_h,))


class _ConcatStates(Function):
    """y = [s_1; s_2; ...] along dim 0 (each layer's final states, in layer order);
    dL/ds_k = the rows of dL/dy that came from s_k."""

    @staticmethod
    def forward(ctx, *states):
        ctx.bounds = np.cumsum([s.shape[0] for s in states])[:-1]
        return np.concatenate(states)

    @staticmethod
    def backward(ctx, grad_out):
        return tuple(np.split(grad_out, ctx.bounds))


# ---- public functions ------------------------------------------------------------------------
def _sequence_layout(shape, batched, batch_first, D, H, layer) -> _Layout:
    directions = (False, True) if D == 2 else (False,)
    if not batched:  # (T, in): batch of one; both layouts are the same memory
        return _Layout(shape[0], 1, False, directions, layer, (shape[0], D * H), (D, H))
    N, T = (shape[0], shape[1]) if batch_first else (shape[1], shape[0])
    return _Layout(T, N, batch_first, directions, layer, shape[:2] + (D * H,), (D, N, H))


def _run_layers(op, fn, cell, input, states, params, opts, **kw):
    has_biases, num_layers, dropout, train, bidirectional, batch_first = opts
    D = 2 if bidirectional else 1
    layers, H = layer_weights(op, params, has_biases, num_layers, D, cell.gates)
    named = dict(zip(("h_0", "c_0"), states))
    w_ih = layers[0][0]
    rows = num_layers * D
    batched = check_sequence_args(op, input, named, w_ih.shape[1], H, rows, batch_first, w_ih.dtype)
    if not 0 <= dropout <= 1:
        raise ValueError(f"{op}: dropout must be a probability in [0, 1], got {dropout}")
    x, finals = input, []
    for layer, weights in enumerate(layers):
        layout = _sequence_layout(x.shape, batched, batch_first, D, H, layer)
        outs = fn.apply(x, *states, *weights, layout=layout, **kw)
        x = outs[0]
        finals.append(outs[1:])
        if dropout > 0 and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    if num_layers == 1:
        return (x, *finals[0])
    return (x, *(_ConcatStates.apply(*parts) for parts in zip(*finals)))


def rnn_tanh(
    input,
    hx,
    params,
    has_biases=True,
    num_layers=1,
    dropout=0.0,
    train=True,
    bidirectional=False,
    batch_first=False,
):
    """Multi-layer Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), as
    torch.rnn_tanh.

    Args:
        input: (seq_len, batch, input_size), or (batch, seq_len, input_size) with
            ``batch_first=True``, or unbatched (seq_len, input_size).
        hx: the initial hidden state h_0 (num_layers * num_directions, batch, hidden_size)
            (2-D when the input is unbatched); None means zeros.
        params: the weights flat in nn.RNN's order: per layer, per direction (forward,
            then reverse), ``w_ih`` (1*hidden_size, in), ``w_hh`` (1*hidden_size,
            hidden_size) and, with ``has_biases``, ``b_ih``, ``b_hh`` (1*hidden_size,).
        dropout, train: dropout probability on the outputs of every layer but the last, applied
            only when ``train`` is true.

    Returns:
        ``(output, h_n)``: output (seq_len, batch, num_directions * hidden_size) (batch first
        when ``batch_first``) holds the last layer's h_t for every t; h_n (num_layers *
        num_directions, batch, hidden_size) the final state of every layer and direction.
    """
    opts = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return _run_layers(
        "rnn_tanh", RNNSequence, _RNN, input, (hx,), params, opts, nonlinearity="tanh"
    )


def rnn_relu(
    input,
    hx,
    params,
    has_biases=True,
    num_layers=1,
    dropout=0.0,
    train=True,
    bidirectional=False,
    batch_first=False,
):
    """Multi-layer Elman RNN with relu, h_t = relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),
    as torch.rnn_relu; arguments and returns as ``rnn_tanh``."""
    opts = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return _run_layers(
        "rnn_relu", RNNSequence, _RNN, input, (hx,), params, opts, nonlinearity="relu"
    )


def lstm(
    input,
    hx,
    params,
    has_biases=True,
    num_layers=1,
    dropout=0.0,
    train=True,
    bidirectional=False,
    batch_first=False,
):
    """Multi-layer LSTM (gates i, f, g, o; equations in LSTMSequence), as torch.lstm.

    Args:
        input: (seq_len, batch, input_size), or (batch, seq_len, input_size) with
            ``batch_first=True``, or unbatched (seq_len, input_size).
        hx: the initial states (h_0, c_0), each (num_layers * num_directions, batch,
            hidden_size) (2-D when the input is unbatched); None means zeros.
        params: the weights flat in nn.LSTM's order: per layer, per direction (forward,
            then reverse), ``w_ih`` (4*hidden_size, in), ``w_hh`` (4*hidden_size,
            hidden_size) and, with ``has_biases``, ``b_ih``, ``b_hh`` (4*hidden_size,).
        dropout, train: dropout probability on the outputs of every layer but the last, applied
            only when ``train`` is true.

    Returns:
        ``(output, h_n, c_n)``: output (seq_len, batch, num_directions * hidden_size) (batch first
        when ``batch_first``) holds the last layer's h_t for every t; h_n and c_n (num_layers *
        num_directions, batch, hidden_size) the final state of every layer and direction.
    """
    h0, c0 = (None, None) if hx is None else _state_pair("lstm", hx)
    opts = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return _run_layers("lstm", LSTMSequence, _LSTM, input, (h0, c0), params, opts)


def gru(
    input,
    hx,
    params,
    has_biases=True,
    num_layers=1,
    dropout=0.0,
    train=True,
    bidirectional=False,
    batch_first=False,
):
    """Multi-layer GRU (gates r, z, n, reset after the matmul; equations in GRUSequence), as
    torch.gru.

    Args:
        input: (seq_len, batch, input_size), or (batch, seq_len, input_size) with
            ``batch_first=True``, or unbatched (seq_len, input_size).
        hx: the initial hidden state h_0 (num_layers * num_directions, batch, hidden_size)
            (2-D when the input is unbatched); None means zeros.
        params: the weights flat in nn.GRU's order: per layer, per direction (forward,
            then reverse), ``w_ih`` (3*hidden_size, in), ``w_hh`` (3*hidden_size,
            hidden_size) and, with ``has_biases``, ``b_ih``, ``b_hh`` (3*hidden_size,).
        dropout, train: dropout probability on the outputs of every layer but the last, applied
            only when ``train`` is true.

    Returns:
        ``(output, h_n)``: output (seq_len, batch, num_directions * hidden_size) (batch first
        when ``batch_first``) holds the last layer's h_t for every t; h_n (num_layers *
        num_directions, batch, hidden_size) the final state of every layer and direction.
    """
    opts = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return _run_layers("gru", GRUSequence, _GRU, input, (hx,), params, opts)


def _state_pair(op, hx):
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}: hx must be a pair (h_0, c_0) of tensors, got {type(hx).__name__}")
    return hx[0], hx[1]


def _cell(op, fn, cell, input, states, w_ih, w_hh, b_ih, b_hh, **kw):
    if not isinstance(w_hh, Tensor) or w_hh.ndim != 2:
        raise ValueError(f"{op}: w_hh must be a 2-D tensor (gates * hidden_size, hidden_size)")
    H = w_hh.shape[1]
    names = ("h_0", "c_0")[: cell.n_states]
    for name, w, shape in (
        ("w_ih", w_ih, (cell.gates * H, input.shape[-1])),
        ("w_hh", w_hh, (cell.gates * H, H)),
        ("b_ih", b_ih, (cell.gates * H,)),
        ("b_hh", b_hh, (cell.gates * H,)),
    ):
        if w is not None and shape_of(w) != shape:
            raise ValueError(f"{op}: {name} has shape {shape_of(w)}, expected {shape}")
    check_cell_args(op, input, dict(zip(names, states)), w_ih.shape[1], H, w_ih.dtype)
    N = input.shape[0] if input.ndim == 2 else 1
    shape = (N, H) if input.ndim == 2 else (H,)
    layout = _Layout(1, N, False, (False,), 0, shape, shape)
    return fn.apply(input, *states, w_ih, w_hh, b_ih, b_hh, layout=layout, **kw)[1:]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = tanh(W_ih x + b_ih + W_hh h + b_hh), as torch.rnn_tanh_cell.

    input (batch, input_size) or (input_size,); hx (batch, hidden_size) or (hidden_size,), or
    None for zeros. Returns h'.
    """
    return _cell(
        "rnn_tanh_cell",
        RNNSequence,
        _RNN,
        input,
        (hx,),
        w_ih,
        w_hh,
        b_ih,
        b_hh,
        nonlinearity="tanh",
    )[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = relu(W_ih x + b_ih + W_hh h + b_hh), as torch.rnn_relu_cell."""
    return _cell(
        "rnn_relu_cell",
        RNNSequence,
        _RNN,
        input,
        (hx,),
        w_ih,
        w_hh,
        b_ih,
        b_hh,
        nonlinearity="relu",
    )[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o), as torch.lstm_cell: ``hx = (h, c)`` or None; returns
    ``(h', c')``."""
    h, c = (None, None) if hx is None else _state_pair("lstm_cell", hx)
    return _cell("lstm_cell", LSTMSequence, _LSTM, input, (h, c), w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n, reset after the matmul), as torch.gru_cell; returns h'."""
    return _cell("gru_cell", GRUSequence, _GRU, input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


__all__ = [
    "rnn_tanh",
    "rnn_relu",
    "lstm",
    "gru",
    "rnn_tanh_cell",
    "rnn_relu_cell",
    "lstm_cell",
    "gru_cell",
]
