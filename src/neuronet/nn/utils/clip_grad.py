"""Gradient tools: clipping by total norm or by value, and flattening parameters to a vector.

As in ``torch.nn.utils``. Clipping acts on the ``.grad`` arrays in place, between
``loss.backward()`` and ``optimizer.step()``::

    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Note: the norm is over all parameters together (PyTorch's semantics). Keras's ``clipnorm`` clips
each variable separately; its ``global_clipnorm`` is the equivalent of ``clip_grad_norm_``.
"""

from __future__ import annotations

import math

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops.joining import cat
from neuronet.ops.shape import reshape


def _as_list(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters) -> list:
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _norm_of(g: np.ndarray, p: float) -> float:
    """The ``p``-norm of one array, as a Python float (float64)."""
    if g.size == 0:
        return 0.0
    if p == 2.0:
        flat = g.reshape(-1)
        return math.sqrt(float(np.dot(flat, flat)))
    if p == math.inf:
        return float(max(g.max(), -g.min()))
    if p == -math.inf:
        return float(np.abs(g).min())
    if p == 0.0:
        return float(np.count_nonzero(g))
    if p == 1.0:
        return float(np.abs(g).sum(dtype=np.float64))
    return float(np.sum(np.abs(g).astype(np.float64) ** p) ** (1.0 / p))


def _combine(norms: list, p: float) -> float:
    if p == math.inf:
        return float(np.max(norms))  # propagates nan, unlike the builtin max
    if p == -math.inf:
        return float(np.min(norms))
    if p == 0.0 or p == 1.0:
        return math.fsum(norms)
    if p == 2.0:
        return math.sqrt(math.fsum(n * n for n in norms))
    return math.fsum(n**p for n in norms) ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` (e.g. gradients) as if concatenated into one
    vector: ``||(||t_1||, ..., ||t_n||)||``. Returns a 0-d tensor of the tensors' dtype.

    Args:
        tensors: a tensor or an iterable of tensors (None entries are skipped).
        norm_type: p of the p-norm; ``float('inf')`` for the max-abs norm (default 2).
        error_if_nonfinite: raise RuntimeError when the total is nan or inf.
    """
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor(np.array(0.0, dtype=np.float32))
    arrays = [t.array if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
    dtype = np.result_type(*arrays)
    total = _combine([_norm_of(a, norm_type) for a in arrays], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm) -> None:
    """Scale every ``.grad`` in place by ``min(1, max_norm / (total_norm + 1e-6))``.

    The coefficient is computed in the gradients' dtype, as PyTorch does; a nan or inf total
    makes the gradients nan (use ``error_if_nonfinite`` in ``clip_grad_norm_`` to raise)."""
    parameters = [p for p in _as_list(parameters) if p.grad is not None]
    if not parameters:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    dtype = total.dtype if total.dtype.kind == "f" else np.dtype(np.float32)
    coef = dtype.type(float(max_norm)) / (total.astype(dtype) + dtype.type(1e-6))
    coef = min(coef, dtype.type(1.0)) if not np.isnan(coef) else coef
    if coef >= 1.0:
        return
    for p in parameters:
        g = p.grad.array
        if g.flags.writeable:
            g *= coef
        else:
            p.grad = Tensor(g * coef)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Rescale the gradients so that their total norm is at most ``max_norm``.

    total = || (||g_1||, ..., ||g_n||) ||_p over every parameter with a gradient, then
    g_i <- g_i * min(1, max_norm / (total + 1e-6)) in place.

    Args:
        parameters: a tensor or an iterable of parameters (those with ``grad is None`` are
            skipped).
        max_norm: the largest total norm allowed.
        norm_type: p of the p-norm; ``float('inf')`` for the max-abs norm (default 2).
        error_if_nonfinite: raise RuntimeError when the total norm is nan or inf (default False:
            the gradients become nan, as in PyTorch).
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.

    Example:
        >>> import numpy as np
        >>> from neuronet import tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.zeros(2, dtype=np.float32))
        >>> w.grad = tensor([3.0, 4.0])
        >>> float(clip_grad_norm_([w], max_norm=1.0))
        5.0
        >>> w.grad.array.round(4)
        array([0.6, 0.8], dtype=float32)
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.number)):
        raise TypeError(f"clip_grad_norm_: max_norm must be a number, got {max_norm!r}")
    if not max_norm >= 0:  # a negative max_norm would flip every gradient's sign
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    parameters = _as_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place.

    Example:
        >>> import numpy as np
        >>> from neuronet import tensor
        >>> from neuronet.nn import Parameter
        >>> w = Parameter(np.zeros(3, dtype=np.float32))
        >>> w.grad = tensor([-5.0, 0.5, 2.0])
        >>> clip_grad_value_([w], 1.0)
        >>> w.grad.array
        array([-1. ,  0.5,  1. ], dtype=float32)
    """
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _as_list(parameters):
        if p.grad is None:
            continue
        g = p.grad.array
        if g.flags.writeable:
            np.clip(g, -clip_value, clip_value, out=g)
        else:
            p.grad = Tensor(np.clip(g, -clip_value, clip_value))


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable: it is
    ``cat([reshape(p, -1) for p in parameters])``).

    Example:
        >>> import numpy as np
        >>> from neuronet.nn import Parameter
        >>> ps = [Parameter(np.ones((2, 2), np.float32)), Parameter(np.zeros(1, np.float32))]
        >>> parameters_to_vector(ps).shape
        (5,)
    """
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"expected Tensor, but got: {type(p).__name__}")
    return cat([reshape(p, -1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D tensor ``vec`` into the parameters, in order.

    Note: the values are copied into each parameter's existing array (PyTorch makes the
    parameters views of ``vec``), so optimizers and other references stay valid.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.array.size for p in params)
    if vec.array.ndim != 1 or vec.array.size != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {vec.array.shape} but the parameters hold "
            f"{total} values; give a 1-D tensor of length {total} (parameters_to_vector's shape)"
        )
    start = 0
    for p in params:
        n = p.array.size
        np.copyto(p.array, vec.array[start : start + n].reshape(p.array.shape), casting="unsafe")
        p._version += 1
        start += n


__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]
