"""The Elman RNN as one fused op per layer over the whole sequence: rnn_tanh, rnn_relu and their
one-step cells.

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),    act = tanh or relu

as PyTorch's RNN_TANH / RNN_RELU (two biases, like the LSTM and GRU). The sequence layout and
the multi-layer machinery are shared with lstm.py and gru.py (``_recurrent.py``): the
pre-activations of all steps in one time-major buffer (T, N, H).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.ops._recurrent import (
    bias_sum,
    project,
    run_backward,
    run_cell,
    run_forward,
    run_layers,
    states,
    steps,
)


def rnn_forward_step(a, rec, h, nonlinearity):
    """h_t = act(a + rec): a = x_t W_ih^T + b_ih + b_hh, rec = h_{t-1} W_hh^T."""
    np.add(a, rec, out=h)
    if nonlinearity == "tanh":
        np.tanh(h, out=h)
    else:
        np.maximum(h, 0, out=h)


def rnn_backward_step(h, grad_h, dh, da, nonlinearity):
    """da = (dL/dh_t) * act'(a_t) with dL/dh_t = grad_h + dh (the carried recurrent grad), and
    act' = 1 - h_t^2 (tanh) or [h_t > 0] (relu; 0 at the kink)."""
    np.add(grad_h, dh, out=da)
    if nonlinearity == "tanh":
        da *= 1 - h * h
    else:
        np.multiply(da, h > 0, out=da)


def rnn_direction(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N, nonlinearity):
    """One direction forward: the input projection, then per step one GEMM and the step.
    Returns ((hs,), (h_T,))."""
    H = w_hh.shape[1]
    gates = project(x2, w_ih, bias_sum(b_ih, b_hh), T, N)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    hs = states(T, N, H, x2.dtype, init[0], reverse)
    rec = np.empty((N, H), x2.dtype)
    for t, prev, cur in steps(T, reverse):
        np.matmul(hs[prev], w_hh_t, out=rec)
        rnn_forward_step(gates[t], rec, hs[cur], nonlinearity)
    return (hs,), (hs[0 if reverse else T],)


def rnn_direction_backward(saved, grad_seq, grad_final, w_hh, reverse, nonlinearity):
    """BPTT through ``rnn_direction``: dL/dh_{t-1} = da_t @ W_hh.
    Returns (d, d, (dL/dh_0,)) with d (T*N, H): d_ih and d_hh are the same."""
    (hs,) = saved
    T, N, H = grad_seq.shape
    d = np.empty((T, N, H), hs.dtype)
    dh = np.array(grad_final[0], dtype=hs.dtype)
    for t, _prev, cur in reversed(steps(T, reverse)):
        rnn_backward_step(hs[cur], grad_seq[t], dh, d[t], nonlinearity)
        np.matmul(d[t], w_hh, out=dh)
    d = d.reshape(T * N, H)
    return d, d, (dh,)


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
        ctx.nonlinearity = nonlinearity
        return run_forward(ctx, rnn_direction, x, (h0,), weights, layout, nonlinearity=nonlinearity)

    @staticmethod
    def backward(ctx, grad_out, grad_h):
        kw = {"nonlinearity": ctx.nonlinearity}
        return run_backward(ctx, rnn_direction_backward, grad_out, (grad_h,), **kw)


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
    return run_layers("rnn_tanh", RNNSequence, 1, input, (hx,), params, opts, nonlinearity="tanh")


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
    return run_layers("rnn_relu", RNNSequence, 1, input, (hx,), params, opts, nonlinearity="relu")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = tanh(W_ih x + b_ih + W_hh h + b_hh), as torch.rnn_tanh_cell.

    input (batch, input_size) or (input_size,); hx (batch, hidden_size) or (hidden_size,), or
    None for zeros. Returns h'.
    """
    args = (input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return run_cell("rnn_tanh_cell", RNNSequence, 1, *args, nonlinearity="tanh")[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step h' = relu(W_ih x + b_ih + W_hh h + b_hh), as torch.rnn_relu_cell."""
    args = (input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return run_cell("rnn_relu_cell", RNNSequence, 1, *args, nonlinearity="relu")[0]


__all__ = ["rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell"]
