"""The machinery the three recurrent ops share (``rnn.py``, ``lstm.py``, ``gru.py``).

One ``Function`` call runs one layer over all T time steps, both directions when
bidirectional (one after the other). Every cell uses the same layout:

- the gates of all steps in one time-major buffer (T, N, G*H), columns in PyTorch's gate order
  (the rows of W_ih and W_hh): RNN G = 1, LSTM i, f, g, o, GRU r, z, n;
- the input projection for all steps first, one GEMM: gates = x W_ih^T + bias (``project``);
  then per step one recurrent GEMM h_{t-1} W_hh^T (N, G*H) and the cell's element-wise step;
- hidden (and cell) states in (T + 1, N, H) buffers in time order: the forward direction reads
  h_{t-1} from slot t and writes h_t to slot t + 1 (slot 0 is h_0); the reverse direction runs
  t = T-1 .. 0, reads slot t + 1 and writes slot t (slot T is h_0). Either way the outputs are
  one contiguous view (slots 1..T, or 0..T-1) and the previous states the other.

A cell provides, per direction, ``forward(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N,
**kw) -> (saved, finals)`` with saved[0] the state buffer hs, and ``backward(saved, grad_seq,
grad_finals, w_hh, reverse, **kw) -> (d_ih, d_hh, grad_init)``: the gradients of the
pre-activations stacked over time, (T*N, G*H) in W's row order,

    d_ih = dL/d(W_ih x_t + b_ih)      -> dL/dW_ih = d_ihᵀ X,        dL/db_ih = sum d_ih,
                                         dL/dx = d_ih W_ih
    d_hh = dL/d(W_hh h_{t-1} + b_hh)  -> dL/dW_hh = d_hhᵀ H_prev,   dL/db_hh = sum d_hh

(one GEMM each over all steps; d_hh is d_ih itself for RNN and LSTM). This file turns those
into the layer's gradients and lays out the data (time-major or batch-first, batched or not,
which rows of the stacked initial state a layer reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._rnn_checks import check_cell_args, check_sequence_args, layer_weights, shape_of
from neuronet.ops.dropout import dropout as _dropout


@dataclass(frozen=True)
class Layout:
    """How one layer call sees its arrays (computed by the public functions)."""

    T: int
    N: int
    batch_first: bool  # x is (N, T, in) and the output (N, T, D*H)
    directions: tuple  # one reverse flag per direction: (False,) or (False, True)
    layer: int  # reads rows layer*D .. layer*D + D-1 of the stacked initial state
    out_shape: tuple  # shape of the returned output sequence
    state_shape: tuple  # shape of each returned final state


# ---- pieces the cells use ----------------------------------------------------------------------
def steps(T: int, reverse: bool) -> list:
    """(t, slot of h_{t-1}, slot of h_t) in processing order."""
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def states(T: int, N: int, H: int, dtype, init, reverse: bool) -> np.ndarray:
    """A (T + 1, N, H) state buffer with the initial state (zeros for None) in its first slot."""
    buf = np.empty((T + 1, N, H), dtype)
    buf[T if reverse else 0] = 0 if init is None else init
    return buf


def bias_sum(b_ih, b_hh):
    """b_ih + b_hh, either of which may be None."""
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def project(x2: np.ndarray, w_ih: np.ndarray, bias, T: int, N: int) -> np.ndarray:
    """The input side of every step at once: gates (T, N, G*H) = x W_ih^T + bias (x2 (T*N, F))."""
    G = w_ih.shape[0]
    gates = np.empty((T, N, G), x2.dtype)
    if bias is None:
        np.matmul(x2, np.ascontiguousarray(w_ih.T), out=gates.reshape(T * N, G))
        return gates
    # [x, 1] @ [W_ih^T; b]: the bias rides in the GEMM, not in a pass over all gates
    F = x2.shape[1]
    x1 = np.empty((T * N, F + 1), x2.dtype)
    x1[:, :F] = x2
    x1[:, F] = 1
    w1 = np.empty((F + 1, G), x2.dtype)
    w1[:F] = w_ih.T
    w1[F] = bias
    np.matmul(x1, w1, out=gates.reshape(T * N, G))
    return gates


# ---- one layer, both directions ------------------------------------------------------------------
def run_forward(ctx, cell_forward, x, init, weights, layout: Layout, **kw):
    """Run ``cell_forward`` per direction; returns (output sequence, final states...)."""
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
        saved, last = cell_forward(x2, start, w_ih, w_hh, b_ih, b_hh, reverse, T, N, **kw)
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
    ctx.layout = layout
    ctx.shapes = (x.shape, [None if s is None else s.shape for s in init])
    out_states = tuple(np.stack(f).reshape(layout.state_shape) for f in finals)
    return (out.reshape(layout.out_shape),) + out_states


def run_backward(ctx, cell_backward, grad_out, grad_finals, **kw):
    """BPTT per direction through ``cell_backward``; returns one gradient per forward input."""
    x2, weights, runs = ctx.saved
    layout, needs = ctx.layout, ctx.needs_input_grad
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
        d_ih, d_hh, d_init = cell_backward(
            runs[d], grad_seq, tuple(g[d] for g in gfin), w_hh, reverse, **kw
        )
        k = 1 + S + 4 * d  # position of w_ih among the inputs (x, states..., weights...)
        if needs[k]:
            grad_w[4 * d] = d_ih.T @ x2
        if needs[k + 2]:
            grad_w[4 * d + 2] = d_ih.sum(axis=0)
        if needs[k + 1]:
            hs = runs[d][0]
            h_prev = (hs[1:] if reverse else hs[:T]).reshape(T * N, H)
            grad_w[4 * d + 1] = d_hh.T @ h_prev
        if needs[k + 3]:
            same = d_hh is d_ih and grad_w[4 * d + 2] is not None
            grad_w[4 * d + 3] = grad_w[4 * d + 2].copy() if same else d_hh.sum(axis=0)
        if needs[0]:
            grad_x += d_ih @ w_ih
        for s, gs in enumerate(grad_init):
            if gs is not None:
                gs.reshape(-1, N, H)[layout.layer * D + d] = d_init[s]
    if grad_x is not None:
        grad_x = grad_x.reshape(T, N, F)
        if bf:
            grad_x = np.ascontiguousarray(grad_x.transpose(1, 0, 2))
        grad_x = grad_x.reshape(x_shape)
    return (grad_x, *grad_init, *grad_w)


class ConcatStates(Function):
    """y = [s_1; s_2; ...] along dim 0 (each layer's final states, in layer order);
    dL/ds_k = the rows of dL/dy that came from s_k."""

    @staticmethod
    def forward(ctx, *states):
        ctx.bounds = np.cumsum([s.shape[0] for s in states])[:-1]
        return np.concatenate(states)

    @staticmethod
    def backward(ctx, grad_out):
        return tuple(np.split(grad_out, ctx.bounds))


# ---- what the public functions share -------------------------------------------------------------
def sequence_layout(shape, batched, batch_first, D, H, layer) -> Layout:
    directions = (False, True) if D == 2 else (False,)
    if not batched:  # (T, in): batch of one; both layouts are the same memory
        return Layout(shape[0], 1, False, directions, layer, (shape[0], D * H), (D, H))
    N, T = (shape[0], shape[1]) if batch_first else (shape[1], shape[0])
    return Layout(T, N, batch_first, directions, layer, shape[:2] + (D * H,), (D, N, H))


def run_layers(op, fn, gates, input, states, params, opts, **kw):
    """The multi-layer sequence op: ``fn`` (a sequence Function) per layer, dropout between."""
    has_biases, num_layers, dropout, train, bidirectional, batch_first = opts
    D = 2 if bidirectional else 1
    layers, H = layer_weights(op, params, has_biases, num_layers, D, gates)
    named = dict(zip(("h_0", "c_0"), states))
    w_ih = layers[0][0]
    rows = num_layers * D
    batched = check_sequence_args(op, input, named, w_ih.shape[1], H, rows, batch_first, w_ih.dtype)
    if not 0 <= dropout <= 1:
        raise ValueError(f"{op}: dropout must be a probability in [0, 1], got {dropout}")
    x, finals = input, []
    for layer, weights in enumerate(layers):
        layout = sequence_layout(x.shape, batched, batch_first, D, H, layer)
        outs = fn.apply(x, *states, *weights, layout=layout, **kw)
        x = outs[0]
        finals.append(outs[1:])
        if dropout > 0 and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    if num_layers == 1:
        return (x, *finals[0])
    return (x, *(ConcatStates.apply(*parts) for parts in zip(*finals)))


def run_cell(op, fn, gates, input, states, w_ih, w_hh, b_ih, b_hh, **kw):
    """One time step: the sequence Function on a sequence of length 1; returns the new states."""
    if not isinstance(w_hh, Tensor) or w_hh.ndim != 2:
        raise ValueError(f"{op}: w_hh must be a 2-D tensor (gates * hidden_size, hidden_size)")
    H = w_hh.shape[1]
    names = ("h_0", "c_0")[: len(states)]
    for name, w, shape in (
        ("w_ih", w_ih, (gates * H, input.shape[-1])),
        ("w_hh", w_hh, (gates * H, H)),
        ("b_ih", b_ih, (gates * H,)),
        ("b_hh", b_hh, (gates * H,)),
    ):
        if w is not None and shape_of(w) != shape:
            raise ValueError(f"{op}: {name} has shape {shape_of(w)}, expected {shape}")
    check_cell_args(op, input, dict(zip(names, states)), w_ih.shape[1], H, w_ih.dtype)
    N = input.shape[0] if input.ndim == 2 else 1
    shape = (N, H) if input.ndim == 2 else (H,)
    layout = Layout(1, N, False, (False,), 0, shape, shape)
    return fn.apply(input, *states, w_ih, w_hh, b_ih, b_hh, layout=layout, **kw)[1:]


def state_pair(op, hx):
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{op}: hx must be a pair (h_0, c_0) of tensors, got {type(hx).__name__}")
    return hx[0], hx[1]
