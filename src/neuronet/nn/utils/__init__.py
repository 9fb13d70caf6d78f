"""``neuronet.nn.utils``, as ``torch.nn.utils``: gradient clipping and parameter vectors
(``clip_grad.py``) and, in ``nn.utils.rnn``, padding variable-length sequences into a batch."""

from __future__ import annotations

from neuronet.nn.utils import rnn  # noqa: F401
from neuronet.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "rnn",
    "vector_to_parameters",
]
