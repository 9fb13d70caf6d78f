"""The time loops of the recurrent cells: one direction of one layer, forward and BPTT backward.

These are the kernels behind ``ops/recurrent.py``; they work on raw arrays only. Each forward
first projects the whole input, ``xw = x @ W_ih^T + b`` for all T steps (one GEMM per gate
block), then loops over time doing only the recurrent GEMM ``h_{t-1} @ W_hh^T`` and the gate
arithmetic, in place in preallocated buffers. Each backward loops over time in reverse and
returns the gradients of the pre-activations stacked over time,

    d_ih = dL/d(W_ih x_t + b_ih)      -> dL/dW_ih, dL/db_ih, dL/dx
    d_hh = dL/d(W_hh h_{t-1} + b_hh)  -> dL/dW_hh, dL/db_hh

so that the caller gets each weight gradient from one GEMM over all steps. They come as "parts":
``(blocks, D)`` with D of shape (len(blocks), T*N, H) holding the gradients of the row blocks
``blocks`` of W (PyTorch's gate numbering), or ``(None, D)`` with D (T*N, G*H) holding all of
them in W's row order. For RNN and LSTM d_ih and d_hh are the same; GRU's differ in the n block.

Layout, chosen for speed: the RNN and GRU store gates gate-major, (gates, T, N, H), so every gate
of a step is a contiguous (N, H) block for their NumPy steps. The LSTM, whose element-wise steps
are fused numba kernels (``_rnn_kernels.py``; column slices cost them nothing), stores its gates
time-major in PyTorch's order, (T, N, 4H) with columns i, f, g, o: each step's recurrent product
is then one (N, H) x (H, 4H) GEMM, and each weight gradient one GEMM with no reordering.
State buffers hold T + 1 time slots in time order: the forward direction reads h_{t-1} from
slot t and writes h_t to slot t + 1 (slot 0 is h_0); the reverse direction runs t = T-1 .. 0,
reads slot t + 1 and writes slot t (slot T is h_0). Either way the outputs are one contiguous
view (slots 1..T, or 0..T-1) and the previous states the other.

Gate orders and equations are PyTorch's (SEMANTICS #4, #5): LSTM i, f, g, o; GRU r, z, n with the
reset gate applied after the recurrent matmul.
"""

from __future__ import annotations

import numpy as np

from neuronet.ops._jit import kernels

GRU_ORDER = (0, 1, 2)  # r, z, n


def _step(name: str):
    """The fused numba kernel ``name`` (``_rnn_kernels.py``), or the NumPy step of that name."""
    k = kernels("_rnn_kernels")
    return getattr(k, name) if k is not None else globals()["_" + name]


def _sigmoid_from_tanh_(t: np.ndarray) -> None:
    """t = tanh(a/2)  ->  sigmoid(a) = (1 + t) / 2, in place.

    The forwards compute sigmoid(a) as (1 + tanh(a/2)) / 2 (never overflows, and one tanh call
    then covers sigmoid and tanh gates alike): the sigmoid gates' rows of W and b are scaled by
    1/2 (exact in floating point) before the GEMMs, so their pre-activations arrive halved.
    """
    t *= 0.5
    t += 0.5


def _steps(T: int, reverse: bool):
    """(t, slot of h_{t-1}, slot of h_t) in processing order."""
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def _states(T: int, N: int, H: int, dtype, init, reverse: bool) -> np.ndarray:
    """A (T + 1, N, H) state buffer with the initial state (zeros for None) in its first slot."""
    buf = np.empty((T + 1, N, H), dtype)
    buf[T if reverse else 0] = 0 if init is None else init
    return buf


def _blocks(w: np.ndarray, order, H: int, transpose: bool, scales=None) -> np.ndarray:
    """The row blocks ``order`` of w (G*H, K) as a contiguous (len(order), H, K) array (or its
    per-block transpose (len(order), K, H)), block k multiplied by ``scales[k]`` if given."""
    blocks = w.reshape(-1, H, w.shape[1])[list(order)]
    if scales is not None:
        blocks *= np.asarray(scales, w.dtype).reshape(-1, 1, 1)
    return np.ascontiguousarray(blocks.transpose(0, 2, 1)) if transpose else blocks


def _project(x2, w_ih, bias, order, T: int, N: int, H: int, scales=None) -> np.ndarray:
    """Gate-major input projection (len(order), T, N, H):
    block k = (x2 @ W_ih[order[k]]^T + b[order[k]]) * scales[k]."""
    out = np.empty((len(order), T, N, H), x2.dtype)
    w = _blocks(w_ih, order, H, transpose=False, scales=scales)
    b = None if bias is None else _blocks(bias.reshape(-1, 1), order, H, False, scales)
    for k in range(len(order)):
        np.matmul(x2, w[k].T, out=out[k].reshape(T * N, H))
        if b is not None:
            out[k] += b[k, :, 0]
    return out


def _bias_sum(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


# ---- Elman RNN ------------------------------------------------------------------------------
def rnn_forward(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N, nonlinearity):
    """h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Returns (saved, finals): saved = (hs,), finals = (h_T,).
    """
    H = w_hh.shape[1]
    xw = _project(x2, w_ih, _bias_sum(b_ih, b_hh), (0,), T, N, H)[0]
    hs = _states(T, N, H, x2.dtype, init[0], reverse)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    for t, prev, cur in _steps(T, reverse):
        h = hs[cur]
        np.matmul(hs[prev], w_hh_t, out=h)
        h += xw[t]
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)
    return (hs,), (hs[0 if reverse else T],)


def rnn_backward(saved, grad_seq, grad_final, w_hh, reverse, nonlinearity):
    """da_t = (dL/dh_t) * act'(a_t), with act' = 1 - h_t^2 (tanh) or [h_t > 0] (relu, 0 at 0);
    dL/dh_{t-1} = da_t @ W_hh. Returns (ih parts, hh parts, (dL/dh_0,)), both parts da.
    """
    (hs,) = saved
    T, N, H = grad_seq.shape
    d = np.empty((T, N, H), hs.dtype)
    dh_next = np.array(grad_final[0], dtype=hs.dtype)
    tmp = np.empty((N, H), hs.dtype)
    for t, _prev, cur in reversed(_steps(T, reverse)):
        h = hs[cur]
        da = d[t]
        np.add(grad_seq[t], dh_next, out=da)
        if nonlinearity == "tanh":
            np.multiply(h, h, out=tmp)
            np.subtract(1, tmp, out=tmp)
            da *= tmp
        else:
            np.multiply(da, h > 0, out=da)
        np.matmul(da, w_hh, out=dh_next)
    parts = [((0,), d.reshape(1, T * N, H))]
    return parts, parts, (dh_next,)


# ---- LSTM -----------------------------------------------------------------------------------
def lstm_forward(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N):
    """[i, f, g, o] = [sig, sig, tanh, sig](x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh);
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t).

    The gates live time-major in PyTorch's order, (T, N, 4H) with columns i, f, g, o: the input
    projection is one GEMM for all steps, each step one (N, H) x (H, 4H) GEMM and one fused
    element-wise step (``lstm_forward_step``) that activates the gates in place.

    Returns (saved, finals): saved = (hs, cs, tanh_cs, gates) with the activated gates;
    finals = (h_T, c_T).
    """
    H = w_hh.shape[1]
    dtype = x2.dtype
    gates = np.empty((T, N, 4 * H), dtype)
    bias = _bias_sum(b_ih, b_hh)
    if bias is None:
        np.matmul(x2, np.ascontiguousarray(w_ih.T), out=gates.reshape(T * N, 4 * H))
    else:  # [x, 1] @ [W_ih^T; b]: the bias rides in the GEMM, not in a pass over all gates
        F = x2.shape[1]
        x1 = np.empty((T * N, F + 1), dtype)
        x1[:, :F] = x2
        x1[:, F] = 1
        w1 = np.empty((F + 1, 4 * H), dtype)
        w1[:F] = w_ih.T
        w1[F] = bias
        np.matmul(x1, w1, out=gates.reshape(T * N, 4 * H))
    w_hh_t = np.ascontiguousarray(w_hh.T)  # (H, 4H): a plain GEMM, no transposed operand
    hs = _states(T, N, H, dtype, init[0], reverse)
    cs = _states(T, N, H, dtype, init[1], reverse)
    tanh_cs = np.empty((T, N, H), dtype)
    rec = np.empty((N, 4 * H), dtype)
    step = _step("lstm_forward_step")
    for t, prev, cur in _steps(T, reverse):
        np.matmul(hs[prev], w_hh_t, out=rec)
        step(gates[t], rec, cs[prev], cs[cur], tanh_cs[t], hs[cur])
    last = 0 if reverse else T
    return (hs, cs, tanh_cs, gates), (hs[last], cs[last])


def _lstm_forward_step(a, rec, c_prev, c, tanh_c, h):
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


def lstm_backward(saved, grad_seq, grad_final, w_hh, reverse):
    """BPTT through lstm_forward, one ``lstm_backward_step`` (below) and one GEMM per step:
    dL/dh_{t-1} = da_t @ W_hh with da_t (N, 4H) in PyTorch's column order. Returns (ih parts,
    hh parts, (dL/dh_0, dL/dc_0)); both parts are da stacked over time as one (T*N, 4H) block
    (``blocks`` None: all of W's rows, in order).
    """
    hs, cs, tanh_cs, gates = saved
    T, N, G = gates.shape
    dtype = gates.dtype
    d = np.empty((T, N, G), dtype)
    dh_next = np.array(grad_final[0], dtype=dtype)
    dc = np.array(grad_final[1], dtype=dtype)
    step = _step("lstm_backward_step")
    for t, prev, _cur in reversed(_steps(T, reverse)):
        step(gates[t], tanh_cs[t], cs[prev], grad_seq[t], dh_next, dc, d[t])
        np.matmul(d[t], w_hh, out=dh_next)
    parts = [(None, d.reshape(T * N, G))]
    return parts, parts, (dh_next, dc)


def _lstm_backward_step(a, tanh_c, c_prev, grad_h, dh, dc, da):
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


# ---- GRU ------------------------------------------------------------------------------------
_GRU_SCALES = (0.5, 0.5, 1.0)  # r, z halved for sigmoid-by-tanh; n as is


def gru_forward(x2, init, w_ih, w_hh, b_ih, b_hh, reverse, T, N):
    """[r, z] = sig(x_t W_i[rz]^T + b_i[rz] + h_{t-1} W_h[rz]^T + b_h[rz]);
    hn_t = h_{t-1} W_hn^T + b_hn;   n = tanh(x_t W_in^T + b_in + r * hn_t);
    h_t = (1 - z) * n + z * h_{t-1}   (computed as n + z * (h_{t-1} - n)).

    Returns (saved, finals): saved = (hs, hns, gates) with the activated gates (3, T, N, H)
    r, z, n; finals = (h_T,).
    """
    H = w_hh.shape[1]
    dtype = x2.dtype
    bias = b_ih
    if b_hh is not None:  # b_hr and b_hz just add; b_hn stays inside r * (...)
        bias = np.concatenate([b_hh[: 2 * H], np.zeros(H, dtype)])
        bias = bias if b_ih is None else bias + b_ih
    gates = _project(x2, w_ih, bias, GRU_ORDER, T, N, H, _GRU_SCALES)
    b_hn = None if b_hh is None else b_hh[2 * H :]
    w_rz_t = _blocks(w_hh, (0, 1), H, transpose=True, scales=_GRU_SCALES[:2])
    w_n_t = np.ascontiguousarray(w_hh[2 * H :].T)
    hs = _states(T, N, H, dtype, init[0], reverse)
    hns = np.empty((T, N, H), dtype)
    rec = np.empty((2, N, H), dtype)
    tmp = np.empty((N, H), dtype)
    for t, prev, cur in _steps(T, reverse):
        a = gates[:, t]
        hp = hs[prev]
        np.matmul(hp, w_rz_t, out=rec)
        rz = a[:2]
        rz += rec
        np.tanh(rz, out=rz)
        _sigmoid_from_tanh_(rz)
        r, z, n = a
        hn = hns[t]
        np.matmul(hp, w_n_t, out=hn)
        if b_hn is not None:
            hn += b_hn
        np.multiply(r, hn, out=tmp)
        n += tmp
        np.tanh(n, out=n)
        h = hs[cur]
        np.subtract(hp, n, out=h)
        h *= z
        h += n
    return (hs, hns, gates), (hs[0 if reverse else T],)


def gru_backward(saved, grad_seq, grad_final, w_hh, reverse):
    """BPTT through gru_forward, one ``gru_backward_step`` (below) and one batched GEMM per step:
    dL/dh_{t-1} = dL/dh_t * z + [da_r, da_z, dhn] @ W_hh.

    Returns (ih parts [da_r, da_z | da_n], hh parts [da_r, da_z, dhn], (dL/dh_0,)).
    """
    hs, hns, gates = saved
    _, T, N, H = gates.shape
    dtype = gates.dtype
    d_hh = np.empty((3, T, N, H), dtype)
    d_n = np.empty((T, N, H), dtype)
    w_hh_b = _blocks(w_hh, GRU_ORDER, H, transpose=False)
    rec = np.empty((3, N, H), dtype)
    dh_z = np.empty((N, H), dtype)
    scratch = np.empty((4, N, H), dtype)
    dh_next = np.array(grad_final[0], dtype=dtype)
    step = _step("gru_backward_step")
    for t, prev, _cur in reversed(_steps(T, reverse)):
        step(gates, hns, hs, grad_seq, t, prev, dh_next, dh_z, d_hh, d_n, scratch)
        np.matmul(d_hh[:, t], w_hh_b, out=rec)
        np.add.reduce(rec, axis=0, out=dh_next)
        dh_next += dh_z
    d_hh2 = d_hh.reshape(3, T * N, H)
    ih_parts = [((0, 1), d_hh2[:2]), ((2,), d_n.reshape(1, T * N, H))]
    return ih_parts, [(GRU_ORDER, d_hh2)], (dh_next,)


def _gru_backward_step(gates, hns, hs, grad_seq, t, prev, dh_next, dh_z, d_hh, d_n, scratch):
    """One step's element-wise backward. With dh = dL/dh_t:

        da_n = dh * (1 - z) * (1 - n^2)          (the n pre-activation, input side)  -> d_n[t]
        dhn  = da_n * r                          (h_{t-1} W_hn^T + b_hn, hidden side)
        da_r = da_n * hn * r * (1 - r)
        da_z = dh * (h_{t-1} - n) * z * (1 - z)  [da_r, da_z, dhn] -> d_hh[:, t]
        dh_z = dh * z                            (the direct path to h_{t-1})

    scratch is (4, N, H) workspace.
    """
    r, z, n = gates[:, t]
    dr, dz, dhn = d_hh[:, t]
    dh, one_minus_z, tmp, tmp2 = scratch
    np.add(grad_seq[t], dh_next, out=dh)
    np.subtract(1, z, out=one_minus_z)
    np.multiply(dh, one_minus_z, out=tmp)
    np.multiply(n, n, out=tmp2)
    np.subtract(1, tmp2, out=tmp2)
    np.multiply(tmp, tmp2, out=d_n[t])
    np.multiply(d_n[t], r, out=dhn)
    np.subtract(1, r, out=tmp)
    tmp *= r
    tmp *= hns[t]
    np.multiply(d_n[t], tmp, out=dr)
    np.multiply(z, one_minus_z, out=tmp)
    np.subtract(hs[prev], n, out=tmp2)
    tmp *= tmp2
    np.multiply(dh, tmp, out=dz)
    np.multiply(dh, z, out=dh_z)
