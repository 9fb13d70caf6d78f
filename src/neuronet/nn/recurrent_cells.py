"""The one-step recurrent cells RNNCell, LSTMCell and GRUCell: one time step of the RNN, LSTM
and GRU layers (``recurrent.py``), with PyTorch's parameter names (``weight_ih``, ``weight_hh``,
``bias_ih``, ``bias_hh``), shapes, gate order and U(-1/sqrt(H), 1/sqrt(H)) initialisation.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.backend import DEFAULT_DTYPE, as_dtype
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.nn.recurrent import check_flag, check_size
from neuronet.ops import recurrent as R
from neuronet.ops._rnn_checks import check_cell_args


class RNNCellBase(Module):
    """Shared machinery of the cells: weight_ih, weight_hh, bias_ih, bias_hh, init, repr."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        cls = type(self).__name__
        check_device(device, f"{cls}'s parameters")
        self.input_size = check_size(cls, "input_size", input_size)
        self.hidden_size = check_size(cls, "hidden_size", hidden_size)
        self.bias = check_flag(cls, "bias", bias)
        dtype = as_dtype(dtype) or DEFAULT_DTYPE
        rows = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((rows, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty((rows,), dtype=dtype))
            self.bias_hh = Parameter(np.empty((rows,), dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input, states: dict) -> None:
        check_cell_args(
            self.describe(), input, states, self.input_size, self.hidden_size, self.weight_ih.dtype
        )

    def _params(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn b_ih and b_hh (default True).
        nonlinearity: 'tanh' (default) or 'relu'.
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (N, input_size) or unbatched (input_size,).
        hx: (N, hidden_size) (1-D when unbatched), or None for zeros; the output has the
            same shape.

    Attributes:
        weight_ih: (hidden_size, input_size);  weight_hh: (hidden_size, hidden_size);
        bias_ih, bias_hh: (hidden_size,) (None without bias).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> nn.RNNCell(10, 20)(nt.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'"
            )
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Returns h'."""
        self._check(input, {"hx": hx})
        fn = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        return fn(input, hx, *self._params())


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o, as nn.LSTM): c' = f * c + i * g, h' = o * tanh(c').

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn b_ih and b_hh (default True).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (N, input_size) or unbatched (input_size,).
        hx = (h, c): each (N, hidden_size) (1-D when unbatched), or None for zeros; the
            outputs (h', c') have the same shape.

    Attributes:
        weight_ih: (4*hidden_size, input_size);  weight_hh: (4*hidden_size, hidden_size);
        bias_ih, bias_hh: (4*hidden_size,) (None without bias).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> h, c = nn.LSTMCell(10, 20)(nt.randn(3, 10))
        >>> h.shape, c.shape
        ((3, 20), (3, 20))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """Returns ``(h', c')``; ``hx`` is ``(h, c)`` or None (zeros)."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(
                f"{self.describe()}: hx must be a tuple (h, c) of two tensors, got "
                f"{type(hx).__name__}; pass both states, or None for zeros"
            )
        h, c = (None, None) if hx is None else hx
        self._check(input, {"h": h, "c": c})
        return R.lstm_cell(input, None if hx is None else (h, c), *self._params())


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n, reset after the matmul, as nn.GRU):
    h' = (1 - z) * n + z * h.

    Args:
        input_size: features of the input x.
        hidden_size: features of the hidden state h.
        bias: learn b_ih and b_hh (default True).
        dtype: parameter dtype (default float32). ``device``: ``'cpu'`` or None.

    Shape:
        input: (N, input_size) or unbatched (input_size,).
        hx: (N, hidden_size) (1-D when unbatched), or None for zeros; the output has the
            same shape.

    Attributes:
        weight_ih: (3*hidden_size, input_size);  weight_hh: (3*hidden_size, hidden_size);
        bias_ih, bias_hh: (3*hidden_size,) (None without bias).
        All ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> nn.GRUCell(10, 20)(nt.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        """Returns h'."""
        self._check(input, {"hx": hx})
        return R.gru_cell(input, hx, *self._params())


__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
