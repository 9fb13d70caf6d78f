"""ONNX mappings of the recurrent ops: one ONNX RNN/LSTM/GRU node per layer call.

Each fused op runs one layer (both directions when bidirectional) over the whole sequence,
exactly what one ONNX node computes. The weights stay the ``state_dict`` initializers
(``rnn.weight_ih_l0``, ...); the graph reorders their gate rows with a Gather, since the orders
differ (docs/semantics.md, "LSTM gates" and "GRU gates"):

    LSTM  PyTorch/neuronet i, f, g, o   ->  ONNX i, o, f, c
    GRU   PyTorch/neuronet r, z, n      ->  ONNX z, r, h, with linear_before_reset=1
          (PyTorch applies the reset gate after the recurrent matmul, ONNX's default before)

ONNX works time-major, (T, N, features), with outputs Y (T, D, N, H) and final states (D, N, H);
batch-first and unbatched inputs are transposed or given a batch dim around the node.
"""

from __future__ import annotations

import numpy as np

from neuronet.onnx.registry import maps
from neuronet.ops import recurrent as R

# gate blocks of PyTorch's weight rows, in ONNX's order
_ORDER = {R.LSTMSequence: (0, 3, 1, 2), R.GRUSequence: (1, 0, 2), R.RNNSequence: (0,)}
_OP = {R.LSTMSequence: "LSTM", R.GRUSequence: "GRU", R.RNNSequence: "RNN"}


def _rows(g, name: str, order, H: int) -> str:
    """The gate blocks of a weight or bias in ONNX's order (identity for one gate)."""
    if order == (0,):
        return name
    index = np.concatenate([np.arange(b * H, (b + 1) * H) for b in order]).astype(np.int64)
    return g.node("Gather", [name, g.const(index)], axis=0)


def _stacked(g, parts) -> str:
    parts = [g.unsqueeze(p, [0]) for p in parts]
    return parts[0] if len(parts) == 1 else g.node("Concat", parts, axis=0)


def _initial(g, call, name: str, layout, is_cell: bool):
    """The rows of the stacked initial state this layer reads, as ONNX's (D, N, H); or ''."""
    if call.param(name) is None:
        return ""
    state = g.arg(call, name)
    shape = call.param(name).shape
    D = len(layout.directions)
    if is_cell or len(shape) == 1:  # (N, H) or (H,)
        state = g.unsqueeze(state, [0] if len(shape) == 2 else [0, 1])
        return state
    if len(shape) == 2:  # unbatched sequence: (L*D, H)
        state = g.unsqueeze(state, [1])
    first = layout.layer * D
    if shape[0] == D and first == 0:
        return state
    return g.slice(state, [first], [first + D], [0])


@maps(R.LSTMSequence, R.GRUSequence, R.RNNSequence)
def _recurrent(g, call):
    fn = call.fn
    layout = call.param("layout")
    weights = list(call.param("weights"))
    x_shape = call.args[0].shape
    D = len(layout.directions)
    H = weights[1].shape[1]
    order = _ORDER[fn]
    is_cell = len(x_shape) == 1 or (len(x_shape) == 2 and layout.T == 1 and D == 1)
    x = g.arg(call, 0)
    if len(x_shape) == 1:  # one unbatched step (in,)
        x = g.unsqueeze(x, [0, 1])
    elif len(x_shape) == 2:  # a batched step (N, in), or an unbatched sequence (T, in)
        x = g.unsqueeze(x, [0] if layout.T == 1 else [1])
    elif layout.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    offset = 1 + (2 if fn is R.LSTMSequence else 1)  # weights follow x and the states
    names = [None if w is None else g.arg(call, offset + i) for i, w in enumerate(weights)]
    W = _stacked(g, [_rows(g, names[4 * d], order, H) for d in range(D)])
    Rw = _stacked(g, [_rows(g, names[4 * d + 1], order, H) for d in range(D)])
    inputs = [x, W, Rw]
    if weights[2] is not None:
        bias = [
            g.node(
                "Concat",
                [_rows(g, names[4 * d + 2], order, H), _rows(g, names[4 * d + 3], order, H)],
                axis=0,
            )
            for d in range(D)
        ]
        inputs.append(_stacked(g, bias))
    else:
        inputs.append("")
    inputs.append("")  # sequence_lens: every sequence runs all T steps
    inputs.append(_initial(g, call, "h0", layout, is_cell))
    if fn is R.LSTMSequence:
        inputs.append(_initial(g, call, "c0", layout, is_cell))
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": int(H), "direction": "bidirectional" if D == 2 else "forward"}
    if fn is R.GRUSequence:
        attrs["linear_before_reset"] = 1
    if fn is R.RNNSequence:
        act = "Relu" if call.param("nonlinearity") == "relu" else "Tanh"
        attrs["activations"] = [act] * D
    n_out = 3 if fn is R.LSTMSequence else 2
    outs = g.node(_OP[fn], inputs, outputs=n_out, **attrs)
    return [_sequence_out(g, outs[0], x_shape, layout, is_cell)] + [
        _state_out(g, s, x_shape, is_cell) for s in outs[1:]
    ]


def _sequence_out(g, y: str, x_shape, layout, is_cell: bool) -> str:
    """ONNX's Y (T, D, N, H) in the op's layout: (T, N, D*H), (N, T, D*H) or (T, D*H)."""
    if is_cell:
        return g.squeeze(y, [0, 1]) if len(x_shape) == 2 else g.node("Reshape", [y, g.ints([-1])])
    if len(x_shape) == 2:  # unbatched: (T, D, 1, H) -> (T, D*H)
        return g.node("Reshape", [g.squeeze(y, [2]), g.ints([0, -1])])
    perm = [2, 0, 1, 3] if layout.batch_first else [0, 2, 1, 3]
    return g.node("Reshape", [g.node("Transpose", [y], perm=perm), g.ints([0, 0, -1])])


def _state_out(g, state: str, x_shape, is_cell: bool) -> str:
    """ONNX's final state (D, N, H) in the op's layout: (D, N, H), (D, H), (N, H) or (H,)."""
    if is_cell:
        return (
            g.squeeze(state, [0]) if len(x_shape) == 2 else g.node("Reshape", [state, g.ints([-1])])
        )
    if len(x_shape) == 2:
        return g.squeeze(state, [1])
    return state


@maps(R.ConcatStates)
def _concat_states(g, call):
    return [g.node("Concat", [g.arg(call, i) for i in range(len(call.args))], axis=0)]
