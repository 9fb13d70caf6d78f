"""Reverse-mode automatic differentiation: Tensor, Function, the engine, grad modes, gradcheck."""

from __future__ import annotations

import numpy as np

from neuronet.autograd.anomaly import (
    AnomalyError,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from neuronet.autograd.engine import no_create_graph, run_backward
from neuronet.autograd.function import Context, Function
from neuronet.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from neuronet.autograd.gradcheck import GradcheckError, gradcheck
from neuronet.autograd.tensor import Tensor


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=None,
    materialize_grads=False,
):
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    Args:
        outputs: a tensor or sequence of tensors to differentiate.
        inputs: a tensor or sequence of tensors (leaves or intermediate results).
        grad_outputs: the cotangent for each output; may be omitted for scalar outputs.
        retain_graph: keep the graph for another backward (default False).
        create_graph: not supported: higher-order gradients need a differentiable backward,
            and neuronet's backward functions work on arrays. Raises NotImplementedError.
        allow_unused: return None for an input the outputs do not depend on, instead of raising.
        materialize_grads: return zeros instead of None for unused inputs (implies
            ``allow_unused``).

    Returns:
        A tuple with one gradient tensor (or None) per input.
    """
    no_create_graph(create_graph, "autograd.grad")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True"
        )
    allow_unused = bool(allow_unused) or materialize_grads
    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    got = run_backward(
        outputs,
        list(grad_outputs),
        retain_graph=bool(retain_graph),
        inputs=inputs,
        accumulate=False,
    )
    result = []
    for t, g in zip(inputs, got):
        if g is None and materialize_grads:
            result.append(Tensor(np.zeros_like(t.array)))
        elif g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"one of the differentiated tensors (shape {t.shape}) was not used to compute "
                    "the outputs; pass allow_unused=True to get None for it"
                )
            result.append(None)
        else:
            result.append(Tensor(g))
    return tuple(result)


__all__ = [
    "AnomalyError",
    "Context",
    "Function",
    "GradcheckError",
    "Tensor",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
