"""Recurrent layers as fused ops: Elman RNN (tanh/relu), LSTM and GRU over a whole sequence.

One ``Function`` runs one layer over all T time steps (both directions when bidirectional, one
after the other) with a hand-written backpropagation through time:

    forward   gates = X @ W_ih^T + b          one GEMM for all T steps: X is (T*N, in)
              for t: h_t = cell(gates_t, h_{t-1} @ W_hh^T)   one (N, H) x (H, G*H) GEMM per step
    backward  for t (reversed): d_t = dL/d(pre-activations), dL/dh_{t-1}
              dL/dW_ih = d^T X,  dL/dx = d W_ih,  dL/dW_hh = d^T [h_0 .. h_{T-1}]
              (one GEMM each over all steps), dL/db_ih = dL/db_hh = sum d

Gates and states are saved by the forward, not recomputed. The three cells share one layout
and one driver (``_recurrent.py``: the gates of all steps in one time-major buffer, columns in
PyTorch's gate order); each cell's step, forward and backward, is beside its Function:

    rnn.py    RNNSequence   rnn_tanh, rnn_relu, rnn_tanh_cell, rnn_relu_cell
    lstm.py   LSTMSequence  lstm, lstm_cell
    gru.py    GRUSequence   gru, gru_cell

The public functions follow PyTorch's low-level ones (``torch.lstm``, ``torch.gru``,
``torch.rnn_tanh``, ``torch.lstm_cell``, ...): the multi-layer ``lstm(input, hx, params,
has_biases, num_layers, dropout, train, bidirectional, batch_first)`` takes ``params`` flat in
``nn.LSTM``'s order (per layer, per direction: w_ih, w_hh, b_ih, b_hh) and also accepts unbatched
2-D input and ``hx=None`` (zeros). Gate orders and equations are PyTorch's (docs/semantics.md,
"LSTM gates" and "GRU gates").
"""

from __future__ import annotations

from neuronet.ops._recurrent import ConcatStates  # noqa: F401
from neuronet.ops.gru import GRUSequence, gru, gru_cell  # noqa: F401
from neuronet.ops.lstm import LSTMSequence, lstm, lstm_cell  # noqa: F401
from neuronet.ops.rnn import RNNSequence, rnn_relu, rnn_relu_cell, rnn_tanh, rnn_tanh_cell  # noqa: F401

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
