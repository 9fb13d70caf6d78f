"""Argument checks of the recurrent ops and layers, with messages that name the caller.

``who`` is the op name (``"lstm"``) for the functional API, or the module's ``describe()``
(``"LSTM at 'encoder'"``) for the nn layers, so both report the same problems the same way.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor


def shape_of(t) -> tuple:
    return tuple(t.shape)


def check_sequence_args(who, input, states, input_size, hidden_size, rows, batch_first, dtype):
    """Check a sequence call; ``states`` maps names ("h_0", "c_0") to tensors or None.

    Returns True for batched 3-D input, False for unbatched 2-D input.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: expected input to be a Tensor, got {type(input).__name__}")
    layout = "(batch, seq_len, input_size)" if batch_first else "(seq_len, batch, input_size)"
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{who}: expected a 3-D input {layout} or an unbatched 2-D input "
            f"(seq_len, input_size), got shape {shape_of(input)}"
        )
    if input.shape[-1] != input_size:
        raise ValueError(
            f"{who}: expected input of size {input_size} in its last dimension (input_size), "
            f"got shape {shape_of(input)}; the input should be {layout}"
            + (" (batch_first=True)" if batch_first else " (batch_first=False)")
        )
    batched = input.ndim == 3
    seq_len = input.shape[(1 if batch_first else 0) if batched else 0]
    if seq_len == 0:
        raise ValueError(
            f"{who}: got an empty sequence (shape {shape_of(input)}); pass at least one time step"
        )
    _check_dtype(who, input, dtype)
    if batched:
        expected = (rows, input.shape[0 if batch_first else 1], hidden_size)
    else:
        expected = (rows, hidden_size)
    what = "(num_layers * num_directions, " + ("batch, " if batched else "") + "hidden_size)"
    for name, s in states.items():
        if s is None:
            continue
        if not isinstance(s, Tensor):
            raise TypeError(f"{who}: expected {name} to be a Tensor, got {type(s).__name__}")
        if s.ndim != input.ndim:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise ValueError(
                f"{who}: for {kind} input, {name} should be {input.ndim}-D {expected}, got shape "
                f"{shape_of(s)}"
            )
        if shape_of(s) != expected:
            raise ValueError(
                f"{who}: expected {name} of shape {expected} {what}, got {shape_of(s)}"
            )
        _check_dtype(who, s, dtype, name)
    return batched


def check_cell_args(who, input, states, input_size, hidden_size, dtype):
    """Check a single-step call: input (batch, input_size) or (input_size,); states alike."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: expected input to be a Tensor, got {type(input).__name__}")
    if input.ndim not in (1, 2):
        raise ValueError(
            f"{who}: expected a 2-D input (batch, input_size) or a 1-D input (input_size,), got "
            f"shape {shape_of(input)}; a cell takes one time step (loop over the sequence, or use "
            "the sequence layer)"
        )
    if input.shape[-1] != input_size:
        raise ValueError(
            f"{who}: expected input of size {input_size} in its last dimension (input_size), "
            f"got shape {shape_of(input)}"
        )
    _check_dtype(who, input, dtype)
    expected = (input.shape[0], hidden_size) if input.ndim == 2 else (hidden_size,)
    for name, s in states.items():
        if s is None:
            continue
        if not isinstance(s, Tensor):
            raise TypeError(f"{who}: expected {name} to be a Tensor, got {type(s).__name__}")
        if shape_of(s) != expected:
            raise ValueError(
                f"{who}: expected {name} of shape {expected} (batch, hidden_size) to match input "
                f"of shape {shape_of(input)}, got {shape_of(s)}"
            )
        _check_dtype(who, s, dtype, name)


def _check_dtype(who, t, dtype, name="input"):
    if t.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating-point {name}, got dtype {t.dtype}")
    if t.dtype != dtype:
        raise TypeError(
            f"{who}: {name} dtype {t.dtype} does not match the weights' dtype {dtype}; convert "
            f"the {name} with .to('{dtype}') or the weights/model with .to('{t.dtype}')"
        )


def layer_weights(op, params, has_biases, num_layers, D, gates):
    """``params`` flat as nn.RNN's (per layer, per direction: w_ih, w_hh[, b_ih, b_hh]) ->
    one list of 4 * D entries (biases None when absent) per layer, shapes checked."""
    params = list(params)
    per = 4 if has_biases else 2
    names = ("w_ih", "w_hh", "b_ih", "b_hh")[:per]
    if len(params) != num_layers * D * per or not params:
        raise ValueError(
            f"{op}: expected {num_layers * D * per} weight tensors ({num_layers} layer(s) x {D} "
            f"direction(s) x {', '.join(names)}), got {len(params)}"
        )
    if params[1].ndim != 2:
        raise ValueError(f"{op}: w_hh must be 2-D (gates * hidden_size, hidden_size)")
    H = params[1].shape[1]
    layers = []
    for layer in range(num_layers):
        row = []
        for d in range(D):
            group = params[(layer * D + d) * per :][:per]
            in_size = group[0].shape[-1] if layer == 0 else D * H
            expected = [(gates * H, in_size), (gates * H, H), (gates * H,), (gates * H,)]
            for name, p, shape in zip(names, group, expected):
                if shape_of(p) != shape:
                    raise ValueError(
                        f"{op}: {name} of layer {layer}, direction {d} has shape {shape_of(p)}, "
                        f"expected {shape} ({gates} gate(s), hidden_size {H})"
                    )
                if p.dtype != params[0].dtype:
                    raise TypeError(
                        f"{op}: all weights must share one dtype, got {p.dtype} and "
                        f"{params[0].dtype}"
                    )
            row += list(group) + [None] * (4 - per)
        layers.append(row)
    return layers, H
