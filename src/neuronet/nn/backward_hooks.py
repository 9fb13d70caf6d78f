"""Module backward hooks, as PyTorch's ``register_full_backward_hook`` and
``register_full_backward_pre_hook``.

A module with backward hooks wraps each call in two identity nodes of the graph:

- ``_Outputs`` around what ``forward`` returned: its backward receives dL/d(outputs), runs the
  pre-hooks ``hook(module, grad_output)`` (a returned tuple replaces grad_output) and keeps them;
- ``_Inputs`` around the call's positional tensor inputs that require a gradient: its backward
  receives dL/d(inputs) and runs the hooks ``hook(module, grad_input, grad_output)``; a returned
  tuple replaces grad_input. When no input requires a gradient, the hooks run from ``_Outputs``
  with grad_input all None, as PyTorch's do.

grad_input has one entry per positional argument, and grad_output one per element of what
forward returned (a tuple's top level), each None where it is not a tensor that needs a gradient
(an LSTM's ``(h, c)`` pair, say); as in PyTorch, a tensor input that needs none gets zeros when
another input gets a gradient. Keyword arguments are not part of them. Each call of the
module is its own pair of nodes, so a module used twice reports twice.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor


class _Capture:
    """One call of a hooked module: what its backward hooks need."""

    def __init__(self, module, args):
        self.module = module
        self.n_args = len(args)
        self.positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        # tensors that need no gradient get zeros when another input gets one (PyTorch's)
        self.zeros = [
            (i, a.shape, a.dtype)
            for i, a in enumerate(args)
            if isinstance(a, Tensor) and not a.requires_grad
        ]
        self.grad_output = None

    def pre_hooks(self, grads: tuple) -> tuple:
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = _checked(self.module, "backward pre-hook", result, grads)
        return grads

    def hooks(self, grads: tuple) -> tuple:
        """Run the hooks with grad_input laid out by position; returns the inputs' grads."""
        grad_input = [None] * self.n_args
        for position, g in zip(self.positions, grads):
            grad_input[position] = None if g is None else Tensor(g)
        if self.positions:
            for position, shape, dtype in self.zeros:
                grad_input[position] = Tensor(np.zeros(shape, dtype))
        grad_input = tuple(grad_input)
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked(self.module, "backward hook", result, grad_input)
        return tuple(
            None if grad_input[p] is None else _array(grad_input[p]) for p in self.positions
        )


def _array(g):
    return g.array if isinstance(g, Tensor) else g


def _checked(module, what: str, result, like: tuple) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != len(like):
        raise ValueError(
            f"{module.describe()}: a {what} returned {len(result)} gradients, expected "
            f"{len(like)} (one per entry of what it was given, None to keep one)"
        )
    return tuple(r if r is not None else g for r, g in zip(result, like))


class _Outputs(Function):
    """Identity on a hooked module's outputs that need a gradient; backward runs the
    pre-hooks and keeps dL/d(outputs) for the hooks (or runs them, when no input needs one)."""

    @staticmethod
    def forward(ctx, *outputs, capture, positions, n_outputs):
        ctx.capture, ctx.positions, ctx.n_outputs_all = capture, positions, n_outputs
        views = tuple(o.view() for o in outputs)
        return views if len(views) > 1 else views[0]

    @staticmethod
    def backward(ctx, *grads):
        capture = ctx.capture
        grad_output = [None] * ctx.n_outputs_all
        for position, g in zip(ctx.positions, grads):
            grad_output[position] = Tensor(g)
        grad_output = capture.pre_hooks(tuple(grad_output))
        capture.grad_output = grad_output
        if not capture.positions:
            capture.hooks(())
        out = tuple(_array(grad_output[p]) for p in ctx.positions)
        return out if len(out) > 1 else out[0]


class _Inputs(Function):
    """Identity on a hooked module's inputs that need a gradient; backward runs the hooks."""

    @staticmethod
    def forward(ctx, *inputs, capture):
        ctx.capture = capture
        views = tuple(x.view() for x in inputs)
        return views if len(views) > 1 else views[0]

    @staticmethod
    def backward(ctx, *grads):
        out = ctx.capture.hooks(grads)
        return out if len(out) > 1 else out[0]


def call_with_backward_hooks(module, args, run):
    """``run(args)`` (the module's forward) with its inputs and outputs wrapped as above."""
    if not is_grad_enabled():
        return run(args)
    capture = _Capture(module, args)
    if capture.positions:
        wrapped = _Inputs.apply(*(args[i] for i in capture.positions), capture=capture)
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for position, w in zip(capture.positions, wrapped):
            args[position] = w
        args = tuple(args)
    out = run(args)
    single = not isinstance(out, tuple)
    outputs = (out,) if single else out
    positions = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:  # nothing to differentiate: no hook can run
        return out
    hooked = _Outputs.apply(
        *(outputs[i] for i in positions),
        capture=capture,
        positions=positions,
        n_outputs=len(outputs),
    )
    hooked = hooked if isinstance(hooked, tuple) else (hooked,)
    outputs = list(outputs)
    for position, h in zip(positions, hooked):
        outputs[position] = h
    return outputs[0] if single else tuple(outputs)
