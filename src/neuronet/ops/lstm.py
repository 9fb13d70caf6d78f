"""LSTM as one fused op per layer over the whole sequence: lstm and lstm_cell.

Gate order and equations are PyTorch's (docs/semantics.md, "LSTM gates"): the rows of W_ih and
W_hh are the gates i, f, g, o, with two biases b_ih and b_hh,

    [i, f, g, o] = [sig, sig, tanh, sig](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)

Keras (i, f, c, o, one bias) and ONNX (i, o, f, c) differ: reorder the weight rows when
porting. The layout of the sequence (one time-major gate buffer, the state buffers) and the
multi-layer machinery are shared with rnn.py and gru.py (``_recurrent.py``); this file holds
the LSTM's own step, forward and backward, beside its Function. With numba on
(``backend.fast.numba``) ``CompiledLSTMSequence`` (``ops/fast/recurrent.py``) runs the same steps
as fused kernels.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.ops._recurrent import (
    bias_sum,
    project,
    run_backward,
    run_cell,
    run_forward,
    run_layers,
    state_pair,
    states,
    steps,
)


def lstm_forward_step(a, rec, c_prev, c, tanh_c, h):
    """One step's element-wise forward: a + rec are the pre-activations (columns i, f, g, o),
    activated in place (sigmoid(x) computed as (1 + tanh(x/2)) / 2, which never overflows);
    then c_t = f * c_{t-1} + i * g, tanh(c_t) and h_t = o * tanh(c_t)."""
    a += rec
    H = a.shape[1] // 4
    for sig in (a[:, : 2 * H], a[:, 3 * H :]):
        sig *= 0.5
        np.tanh(sig, out=sig)
        sig *= 0.5
        sig += 0.5
    i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    np.tanh(g, out=g)
    np.multiply(f, c_prev, out=c)
    c += i * g
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)


def lstm_backward_step(a, tanh_c, c_prev, grad_h, dh, dc, da):
    """One step's element-wise backward. With dh = dL/dh_t (output grad ``grad_h`` plus the
    recurrent grad, summed in place) and dc = dL/dc_t (carried):

        dc   += dh * o * (1 - tanh(c_t)^2)
        di = dc * g,  df = dc * c_{t-1},  dg = dc * i,  do = dh * tanh(c_t)
        da   = [di, df, do] * s * (1 - s) for the sigmoid gates, dg * (1 - g^2) for g
        dL/dc_{t-1} = dc * f                                     (written into dc)

    a holds the activated gates, columns i, f, g, o; da (N, 4H) gets the same columns.
    """
    H = a.shape[1] // 4
    i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
    dh += grad_h
    dc += dh * o * (1 - tanh_c * tanh_c)
    np.multiply(dc * g, i * (1 - i), out=da[:, :H])
    np.multiply(dc * c_prev, f * (1 - f), out=da[:, H : 2 * H])
    np.multiply(dc * i, 1 - g * g, out=da[:, 2 * H : 3 * H])
    np.multiply(dh * tanh_c, o * (1 - o), out=da[:, 3 * H :])
    dc *= f


def lstm_direction(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N, step):
    """One direction forward: the input projection, then per step one (N, H) x (H, 4H) GEMM and
    ``step`` on the gates (T, N, 4H). Returns ((hs, cs, tanh_cs, gates), (h_T, c_T))."""
    H = w_hh.shape[1]
    gates = project(x2, w_ih, bias_sum(b_ih, b_hh), T, N)
    w_hh_t = np.ascontiguousarray(w_hh.T)  # (H, 4H): a plain GEMM, no transposed operand
    hs = states(T, N, H, x2.dtype, init[0], reverse)
    cs = states(T, N, H, x2.dtype, init[1], reverse)
    tanh_cs = np.empty((T, N, H), x2.dtype)
    rec = np.empty((N, 4 * H), x2.dtype)
    for t, prev, cur in steps(T, reverse):
        np.matmul(hs[prev], w_hh_t, out=rec)
        step(gates[t], rec, cs[prev], cs[cur], tanh_cs[t], hs[cur])
    last = 0 if reverse else T
    return (hs, cs, tanh_cs, gates), (hs[last], cs[last])


def lstm_direction_backward(saved, grad_seq, grad_final, w_hh, reverse, step):
    """BPTT through ``lstm_direction``: per step ``step`` and dL/dh_{t-1} = da_t @ W_hh.
    Returns (d, d, (dL/dh_0, dL/dc_0)) with d (T*N, 4H): d_ih and d_hh are the same."""
    hs, cs, tanh_cs, gates = saved
    T, N, G = gates.shape
    d = np.empty((T, N, G), gates.dtype)
    dh_next = np.array(grad_final[0], dtype=gates.dtype)
    dc = np.array(grad_final[1], dtype=gates.dtype)
    for t, prev, _cur in reversed(steps(T, reverse)):
        step(gates[t], tanh_cs[t], cs[prev], grad_seq[t], dh_next, dc, d[t])
        np.matmul(d[t], w_hh, out=dh_next)
    d = d.reshape(T * N, G)
    return d, d, (dh_next, dc)


class LSTMSequence(Function):
    """One LSTM layer over a whole sequence; W rows are the gates i, f, g, o (PyTorch's order):

        [i, f, g, o] = [sig, sig, tanh, sig](W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    dL/dc_t += dL/dh_t * o * (1 - tanh(c_t)^2);  dL/dc_{t-1} = dL/dc_t * f;
    dL/da = [dc*g, dc*c_{t-1}, dc*i, dh*tanh(c_t)] * [s(1-s), s(1-s), 1-g^2, s(1-s)];
    dL/dh_{t-1} = dL/da @ W_hh; dL/dW_ih = sum_t dL/da^T x_t, dL/dW_hh = sum_t dL/da^T h_{t-1},
    dL/db_ih = dL/db_hh = sum_t dL/da, dL/dx_t = dL/da @ W_ih.
    Saves: x, the weights, per direction the activated gates and h, c, tanh(c) of every step.
    """

    @staticmethod
    def steps():
        """The element-wise (forward, backward) steps; ``CompiledLSTMSequence``'s are numba."""
        return lstm_forward_step, lstm_backward_step

    @staticmethod
    def forward(ctx, x, h0, c0, *weights, layout):
        step = ctx.fn.steps()[0]
        return run_forward(ctx, lstm_direction, x, (h0, c0), weights, layout, step=step)

    @staticmethod
    def backward(ctx, grad_out, grad_h, grad_c):
        step = ctx.fn.steps()[1]
        return run_backward(ctx, lstm_direction_backward, grad_out, (grad_h, grad_c), step=step)


def _sequence_fn():
    return fast_recurrent.CompiledLSTMSequence if backend.fast.numba else LSTMSequence


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
    h0, c0 = (None, None) if hx is None else state_pair("lstm", hx)
    opts = (has_biases, num_layers, dropout, train, bidirectional, batch_first)
    return run_layers("lstm", _sequence_fn(), 4, input, (h0, c0), params, opts)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (gates i, f, g, o), as torch.lstm_cell: ``hx = (h, c)`` or None; returns
    ``(h', c')``."""
    h, c = (None, None) if hx is None else state_pair("lstm_cell", hx)
    return run_cell("lstm_cell", _sequence_fn(), 4, input, (h, c), w_ih, w_hh, b_ih, b_hh)


# The fast path subclasses the Function above (same contract), so it is imported after it.
from neuronet.ops.fast import recurrent as fast_recurrent  # noqa: E402

__all__ = ["lstm", "lstm_cell"]
