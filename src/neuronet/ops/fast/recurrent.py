"""Compiled LSTM and GRU: the numba paths of ``ops/lstm.py`` and ``ops/gru.py``.

Each Function is its reference with the element-wise time step as a fused kernel
(``recurrent_kernels.py``: the same formulas, every array read once per step); the layout, the
GEMMs and the backward driver are the reference's. ``lstm``/``lstm_cell`` and ``gru``/``gru_cell``
choose them when ``backend.fast.numba``. (The Elman RNN's step is one ufunc and a GEMM; it has
no compiled variant.)
"""

from __future__ import annotations

from neuronet.ops.gru import GRUSequence
from neuronet.ops.lstm import LSTMSequence


class CompiledLSTMSequence(LSTMSequence):
    """``LSTMSequence`` with compiled steps (formulas and saves as LSTMSequence: dL/dc_{t-1} =
    dL/dc_t * f, dL/dh_{t-1} = dL/da @ W_hh)."""

    @staticmethod
    def steps():
        from neuronet.ops.fast import recurrent_kernels as k

        return k.lstm_forward_step, k.lstm_backward_step


class CompiledGRUSequence(GRUSequence):
    """``GRUSequence`` with compiled steps (formulas and saves as GRUSequence: dL/dh_{t-1} =
    dL/dh_t * z + [da_r, da_z, dhn] @ W_hh)."""

    @staticmethod
    def steps():
        from neuronet.ops.fast import recurrent_kernels as k

        return k.gru_forward_step, k.gru_backward_step
