"""Recurrent layers: RNN, LSTM and GRU over whole sequences (the one-step cells RNNCell,
LSTMCell and GRUCell are in ``recurrent_cells.py``).

Parameter names, shapes, gate order, initialisation and return values are PyTorch's, so a state dict
moves between the two unchanged (docs/semantics.md, "LSTM gates", "GRU gates", "Default
initialization"): layer k of direction 0 has ``weight_ih_l{k}`` (G*H, in), ``weight_hh_l{k}`` (G*H,
H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (G*H,), with G = 1 (RNN), 4 (LSTM, gates i, f, g, o) or 3
(GRU, gates r, z, n); direction 1 adds the suffix ``_reverse``. Every weight and bias starts
U(-1/sqrt(H), 1/sqrt(H)) (Keras instead uses glorot/orthogonal kernels, zero biases and a
forget-gate bias of 1).

Each layer runs as one fused op per layer over the whole sequence (``neuronet.ops.recurrent``).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from neuronet.backend import DEFAULT_DTYPE, as_dtype
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import recurrent as R
from neuronet.ops._rnn_checks import check_sequence_args

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def check_size(cls: str, name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{cls}: {name} should be an int, got {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{cls}: {name} must be greater than zero, got {value}")
    return int(value)


def check_flag(cls: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{cls}: {name} should be a bool, got {type(value).__name__}")
    return value


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU: parameters, init, checks, repr."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        cls = type(self).__name__
        check_device(device, f"{cls}'s parameters")
        if mode not in _GATES:
            raise ValueError(f"{cls}: unrecognized RNN mode {mode!r}; use one of {list(_GATES)}")
        self.mode = mode
        self.input_size = check_size(cls, "input_size", input_size)
        self.hidden_size = check_size(cls, "hidden_size", hidden_size)
        self.num_layers = check_size(cls, "num_layers", num_layers)
        self.bias = check_flag(cls, "bias", bias)
        self.batch_first = check_flag(cls, "batch_first", batch_first)
        self.bidirectional = check_flag(cls, "bidirectional", bidirectional)
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not (0 <= dropout <= 1)
        ):
            raise ValueError(
                f"{cls}: dropout should be a number in [0, 1] (the probability of zeroing an "
                f"element of each layer's output but the last), got {dropout!r}"
            )
        self.dropout = float(dropout)
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        dtype = as_dtype(dtype) or DEFAULT_DTYPE
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            for direction in range(directions):
                in_size = self.input_size if layer == 0 else self.hidden_size * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, in_size)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, self.hidden_size)),
                    (f"bias_ih_l{layer}{suffix}", (gate_size,)),
                    (f"bias_hh_l{layer}{suffix}", (gate_size,)),
                ][: 4 if bias else 2]
                for name, shape in shapes:
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                names = [name for name, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """No-op, for code written for PyTorch's cuDNN weight packing."""

    def _run(self, fn, input, states: dict):
        directions = 2 if self.bidirectional else 1
        check_sequence_args(
            self.describe(),
            input,
            states,
            self.input_size,
            self.hidden_size,
            self.num_layers * directions,
            self.batch_first,
            self.weight_ih_l0.dtype,
        )
        hx = tuple(states.values())
        return fn(
            input,
            hx if len(hx) == 2 else hx[0],
            self._flat_weights,
            self.bias,
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
            self.batch_first,
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Args:
        input_size: features of each input step x_t.
        hidden_size: features of the hidden state h_t.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output (default 1).
        nonlinearity: 'tanh' (default) or 'relu'.
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (batch, seq, feature) instead of (seq, batch,
            feature); the states keep (layers * directions, batch, hidden) (default False).
        dropout: probability of zeroing each output of every layer but the last, in training
            (default 0).
        bidirectional: also run each layer backwards in time and concatenate (default False).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (L, N, H_in), (N, L, H_in) when batch_first, or unbatched (L, H_in).
        h_0: (D * num_layers, N, H) (2-D when unbatched), or None for zeros.
        output: (L, N, D * H) (or (N, L, D * H)): the last layer's h_t for every t, both
            directions concatenated (D = 2 if bidirectional else 1).
        h_n: (D * num_layers, N, H): the final hidden state of every layer and direction.

    Attributes:
        weight_ih_l{k}: (hidden_size, input_size) for k = 0, else (hidden_size, D*hidden_size).
        weight_hh_l{k}: (hidden_size, hidden_size).
        bias_ih_l{k}, bias_hh_l{k}: (hidden_size,).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); the reverse direction's parameters
        carry the suffix ``_reverse``.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(nt.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Returns ``(output, h_n)``."""
        fn = R.rnn_tanh if self.nonlinearity == "tanh" else R.rnn_relu
        return self._run(fn, input, {"h_0": hx})


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's equations and gate order i, f, g, o:

        i = sig(W_ii x + b_ii + W_hi h + b_hi)     f = sig(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)    o = sig(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                         h' = o * tanh(c')

    Two biases per gate, no forget-gate bias of 1 (Keras: one bias, order i, f, c, o, forget
    bias 1; ONNX: order i, o, f, c). ``proj_size`` is not supported.

    Args:
        input_size: features of each input step x_t.
        hidden_size: features of the hidden state h_t.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output (default 1).
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (batch, seq, feature) instead of (seq, batch,
            feature); the states keep (layers * directions, batch, hidden) (default False).
        dropout: probability of zeroing each output of every layer but the last, in training
            (default 0).
        bidirectional: also run each layer backwards in time and concatenate (default False).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (L, N, H_in), (N, L, H_in) when batch_first, or unbatched (L, H_in).
        (h_0, c_0): each (D * num_layers, N, H) (2-D when unbatched), or None for zeros.
        output: (L, N, D * H) (or (N, L, D * H)): the last layer's h_t for every t, both
            directions concatenated (D = 2 if bidirectional else 1).
        (h_n, c_n): each (D * num_layers, N, H): the final states of every layer and direction.

    Attributes:
        weight_ih_l{k}: (4*hidden_size, input_size) for k = 0, else (4*hidden_size,
            D*hidden_size); row blocks W_i, W_f, W_g, W_o (also in weight_hh and the biases).
        weight_hh_l{k}: (4*hidden_size, hidden_size).
        bias_ih_l{k}, bias_hh_l{k}: (4*hidden_size,).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); the reverse direction's parameters
        carry the suffix ``_reverse``.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> lstm = nn.LSTM(10, 20, batch_first=True)
        >>> output, (h_n, c_n) = lstm(nt.randn(3, 5, 10))
        >>> output.shape, h_n.shape, c_n.shape
        ((3, 5, 20), (1, 3, 20), (1, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        if proj_size != 0:
            raise NotImplementedError(
                f"LSTM: proj_size={proj_size} (projected LSTM) is not implemented; use "
                "proj_size=0 and a Linear layer on the output"
            )
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        self.proj_size = 0

    def forward(self, input, hx=None):
        """Returns ``(output, (h_n, c_n))``; ``hx`` is ``(h_0, c_0)`` or None (zeros)."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(
                f"{self.describe()}: hx must be a tuple (h_0, c_0) of two tensors, got "
                f"{type(hx).__name__}; pass both states, or None for zeros"
            )
        h0, c0 = (None, None) if hx is None else hx
        output, h_n, c_n = self._run(R.lstm, input, {"h_0": h0, "c_0": c0})
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's equations and gate order r, z, n:

        r = sig(W_ir x + b_ir + W_hr h + b_hr)     z = sig(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    The reset gate multiplies (W_hn h + b_hn), after the matmul (Keras' reset_after=True; ONNX's
    default linear_before_reset=0 and the original paper apply it before). Keras and ONNX order
    the gates z, r, h.

    Args:
        input_size: features of each input step x_t.
        hidden_size: features of the hidden state h_t.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output (default 1).
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (batch, seq, feature) instead of (seq, batch,
            feature); the states keep (layers * directions, batch, hidden) (default False).
        dropout: probability of zeroing each output of every layer but the last, in training
            (default 0).
        bidirectional: also run each layer backwards in time and concatenate (default False).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (L, N, H_in), (N, L, H_in) when batch_first, or unbatched (L, H_in).
        h_0: (D * num_layers, N, H) (2-D when unbatched), or None for zeros.
        output: (L, N, D * H) (or (N, L, D * H)): the last layer's h_t for every t, both
            directions concatenated (D = 2 if bidirectional else 1).
        h_n: (D * num_layers, N, H): the final hidden state of every layer and direction.

    Attributes:
        weight_ih_l{k}: (3*hidden_size, input_size) for k = 0, else (3*hidden_size,
            D*hidden_size); row blocks W_r, W_z, W_n (also in weight_hh and the biases).
        weight_hh_l{k}: (3*hidden_size, hidden_size).
        bias_ih_l{k}, bias_hh_l{k}: (3*hidden_size,).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); the reverse direction's parameters
        carry the suffix ``_reverse``.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> gru = nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(nt.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 40), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )

    def forward(self, input, hx=None):
        """Returns ``(output, h_n)``."""
        return self._run(R.gru, input, {"h_0": hx})


__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]
