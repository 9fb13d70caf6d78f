"""GRU as one fused op per layer over the whole sequence: gru and gru_cell.

Gate order and equations are PyTorch's (docs/semantics.md, "GRU gates"): the rows of W_ih and
W_hh are the gates r, z, n, with two biases, and the reset gate is applied *after* the recurrent
matmul,

    [r, z] = sig(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz])
    n   = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}

Keras (z, r, h) and ONNX (z, r, h, reset before the matmul by default) differ: reorder the
weight rows when porting. The sequence layout and the multi-layer machinery are shared with
rnn.py and lstm.py (``_recurrent.py``): the gates of all steps in one time-major buffer
(T, N, 3H), columns r, z, n. With numba on (``backend.fast.numba``) ``CompiledGRUSequence``
(``ops/fast/recurrent.py``) runs the same steps as fused kernels.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.ops._recurrent import (
    project,
    run_backward,
    run_cell,
    run_forward,
    run_layers,
    states,
    steps,
)


def gru_forward_step(a, rec, b_hn, h_prev, hn, h):
    """One step's element-wise forward. a (N, 3H): the input side x_t W_ih^T + b_ih (+ b_hr,
    b_hz), columns r, z, n, activated in place; rec = h_{t-1} W_hh^T (N, 3H):

        r, z = sig(a_r + rec_r), sig(a_z + rec_z)       (sig(v) as (1 + tanh(v/2)) / 2)
        hn   = rec_n + b_hn                              (kept for backward)
        n    = tanh(a_n + r * hn)
        h_t  = n + z * (h_{t-1} - n)                     (= (1 - z) * n + z * h_{t-1})
    """
    H = a.shape[1] // 3
    rz = a[:, : 2 * H]
    rz += rec[:, : 2 * H]
    rz *= 0.5
    np.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
    np.add(rec[:, 2 * H :], b_hn, out=hn)
    n += r * hn
    np.tanh(n, out=n)
    np.subtract(h_prev, n, out=h)
    h *= z
    h += n


def gru_backward_step(a, hn, h_prev, grad_h, dh, d_ih, d_hh):
    """One step's element-wise backward. With dh = dL/dh_t (``grad_h`` added in place):

        da_n = dh * (1 - z) * (1 - n^2)              (the n pre-activation, input side)
        dhn  = da_n * r                              (W_hn h_{t-1} + b_hn, hidden side)
        da_r = da_n * hn * r * (1 - r)
        da_z = dh * (h_{t-1} - n) * z * (1 - z)
        d_ih = [da_r, da_z, da_n],  d_hh = [da_r, da_z, dhn]
        dh   = dh * z                                (the direct path to h_{t-1}, in place)

    a holds the activated gates, columns r, z, n.
    """
    H = a.shape[1] // 3
    r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
    dh += grad_h
    da_n = d_ih[:, 2 * H :]
    np.multiply(dh * (1 - z), 1 - n * n, out=da_n)
    np.multiply(da_n, r, out=d_hh[:, 2 * H :])
    np.multiply(da_n * hn, r * (1 - r), out=d_ih[:, :H])
    np.multiply(dh * (h_prev - n), z * (1 - z), out=d_ih[:, H : 2 * H])
    d_hh[:, : 2 * H] = d_ih[:, : 2 * H]
    dh *= z


def gru_direction(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N, step):
    """One direction forward: the input projection (b_hr and b_hz added there; b_hn stays inside
    r * (...)), then per step one (N, H) x (H, 3H) GEMM and ``step``.
    Returns ((hs, hns, gates), (h_T,)) with the activated gates (T, N, 3H)."""
    H = w_hh.shape[1]
    dtype = x2.dtype
    bias = b_ih
    if b_hh is not None:
        bias = np.concatenate([b_hh[: 2 * H], np.zeros(H, dtype)])
        bias = bias if b_ih is None else bias + b_ih
    gates = project(x2, w_ih, bias, T, N)
    b_hn = np.zeros(H, dtype) if b_hh is None else np.ascontiguousarray(b_hh[2 * H :])
    w_hh_t = np.ascontiguousarray(w_hh.T)  # (H, 3H)
    hs = states(T, N, H, dtype, init[0], reverse)
    hns = np.empty((T, N, H), dtype)
    rec = np.empty((N, 3 * H), dtype)
    for t, prev, cur in steps(T, reverse):
        np.matmul(hs[prev], w_hh_t, out=rec)
        step(gates[t], rec, b_hn, hs[prev], hns[t], hs[cur])
    return (hs, hns, gates), (hs[0 if reverse else T],)


def gru_direction_backward(saved, grad_seq, grad_final, w_hh, reverse, step):
    """BPTT through ``gru_direction``: per step ``step`` and one GEMM,
    dL/dh_{t-1} = dL/dh_t * z + d_hh[t] @ W_hh. Returns (d_ih, d_hh, (dL/dh_0,)), (T*N, 3H)."""
    hs, hns, gates = saved
    T, N, G = gates.shape
    d_ih = np.empty((T, N, G), gates.dtype)
    d_hh = np.empty((T, N, G), gates.dtype)
    dh = np.array(grad_final[0], dtype=gates.dtype)
    rec = np.empty_like(dh)
    for t, prev, _cur in reversed(steps(T, reverse)):
        step(gates[t], hns[t], hs[prev], grad_seq[t], dh, d_ih[t], d_hh[t])
        dh += np.matmul(d_hh[t], w_hh, out=rec)
    return d_ih.reshape(T * N, G), d_hh.reshape(T * N, G), (dh,)


class GRUSequence(Function):
    """One GRU layer over a whole sequence; W rows are the gates r, z, n (PyTorch's order):

        [r, z] = sig(W_i[rz] x_t + b_i[rz] + W_h[rz] h_{t-1} + b_h[rz])
        n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),   h_t = (1 - z) * n + z * h_{t-1}

    dL/da_n = dh * (1 - z) * (1 - n^2);  dL/d(W_hn h + b_hn) = dL/da_n * r;
    dL/da_r = dL/da_n * (W_hn h + b_hn) * r(1-r);  dL/da_z = dh * (h_{t-1} - n) * z(1-z);
    dL/dh_{t-1} = dh * z + [da_r, da_z, d(W_hn h + b_hn)] @ W_hh; weight gradients as
    ``_recurrent.py`` states them.
    Saves: x, the weights, per direction the activated gates, W_hn h + b_hn and h of every step.
    """

    @staticmethod
    def steps():
        """The element-wise (forward, backward) steps; ``CompiledGRUSequence``'s are numba."""
        return gru_forward_step, gru_backward_step

    @staticmethod
    def forward(ctx, x, h0, *weights, layout):
        step = ctx.fn.steps()[0]
        return run_forward(ctx, gru_direction, x, (h0,), weights, layout, step=step)

    @staticmethod
    def backward(ctx, grad_out, grad_h):
        step = ctx.fn.steps()[1]
        return run_backward(ctx, gru_direction_backward, grad_out, (grad_h,), step=step)


def _sequence_fn():
    return fast_recurrent.CompiledGRUSequence if backend.fast.numba else GRUSequence


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
    return run_layers("gru", _sequence_fn(), 3, input, (hx,), params, opts)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gates r, z, n, reset after the matmul), as torch.gru_cell; returns h'."""
    return run_cell("gru_cell", _sequence_fn(), 3, input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


# The fast path subclasses the Function above (same contract), so it is imported after it.
from neuronet.ops.fast import recurrent as fast_recurrent  # noqa: E402

__all__ = ["gru", "gru_cell"]
