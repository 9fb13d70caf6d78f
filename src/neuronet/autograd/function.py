"""The ``Function`` contract: a differentiable op as a forward/backward pair on arrays.

Every op in neuronet (and any op a user writes) subclasses ``Function``::

    class Tanh(Function):
        '''y = tanh(x);  dL/dx = dL/dy * (1 - y**2).  Saves: y.'''

        @staticmethod
        def forward(ctx, x):
            y = np.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            (y,) = ctx.saved
            return (grad_out * (1.0 - y * y),)

    y = Tanh.apply(x)          # x is a Tensor; forward sees x.array

``forward`` and ``backward`` work on NumPy arrays only; tensors appear only at ``apply``. So a
backward is *once differentiable* (as PyTorch's ``@once_differentiable``): the graph of the
backward pass is not recorded, and higher derivatives are not available.

``backward`` returns one gradient per forward positional input, in order: an array with the
input's shape, or ``None`` where the input is not a tensor, is not differentiable, or
``ctx.needs_input_grad[i]`` is False. A forward may return a tuple of arrays; its backward then
receives one ``grad_out`` per output (zeros for outputs that got no gradient).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd import anomaly
from neuronet.autograd.engine import ANOMALY
from neuronet.autograd.grad_mode import STATE
from neuronet.autograd.tensor import Tensor


class Context:
    """The graph node of one op call: what backward needs, and where its gradients go.

    Attributes:
        fn: the ``Function`` subclass that made this node.
        inputs: the forward's tensor inputs (``None`` for non-tensor arguments).
        needs_input_grad: per positional input, whether it needs a gradient.
        saved: the arrays passed to ``save_for_backward`` (freed after backward).
    """

    __slots__ = (
        "fn",
        "inputs",
        "needs_input_grad",
        "saved",
        "versions",
        "n_outputs",
        "out_hooks",
        "out_meta",
        "freed",
        "__dict__",
    )

    non_differentiable = ()  # ids of outputs marked by mark_non_differentiable

    def __init__(self, fn):
        self.fn = fn
        self.saved = ()
        self.freed = False
        self.out_hooks = None

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` for backward. Save only what the derivative needs."""
        self.saved = arrays

    def mark_non_differentiable(self, *outputs):
        """Mark forward outputs (by identity) that never carry a gradient (e.g. argmax)."""
        self.non_differentiable = {id(o) for o in outputs}


class Function:
    """Base class of every differentiable op. Subclass it and write ``forward``/``backward``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays of ``args`` and record the node if a gradient is needed."""
        # This is the hottest Python path of the library (once per op call): one pass over the
        # arguments, and no graph bookkeeping at all unless some input requires a gradient.
        ctx = Context(cls)
        arrays = []
        needs = []
        requires = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.array)
                if a._requires_grad:
                    needs.append(True)
                    requires = True
                else:
                    needs.append(False)
            else:
                arrays.append(a)
                needs.append(False)
        ctx.needs_input_grad = needs
        raw = cls.forward(ctx, *arrays, **kwargs)
        if ANOMALY.enabled:  # NaN/Inf check and the op's module (autograd/anomaly.py)
            anomaly.after_forward(cls, ctx, raw, args)
        if not (requires and STATE.enabled):
            if type(raw) is tuple:
                return tuple([Tensor(r) for r in raw])
            return Tensor(raw)
        inputs = []
        versions = []  # (tensor, version) of every tensor argument, to detect in-place changes
        for a, flag in zip(args, needs):
            if flag:
                inputs.append(a)
                versions.append((a, a._version))
            else:
                inputs.append(None)
                if isinstance(a, Tensor):
                    versions.append((a, a._version))
        ctx.inputs = inputs
        ctx.versions = versions
        non_diff = ctx.non_differentiable
        if type(raw) is tuple:
            ctx.n_outputs = len(raw)
            ctx.out_meta = [(r.shape, r.dtype) for r in raw]
            outs = []
            for i, r in enumerate(raw):
                differentiable = r.dtype.kind == "f" and id(r) not in non_diff
                t = Tensor(r, differentiable)
                if differentiable:
                    t._ctx = ctx
                    t._out_index = i
                outs.append(t)
            return tuple(outs)
        ctx.n_outputs = 1  # a single output always has a gradient when its node runs
        if raw.dtype.kind != "f" or (non_diff and id(raw) in non_diff):
            return Tensor(raw)
        out = Tensor(raw)
        out._requires_grad = True
        out._ctx = ctx
        return out


def to_array(value, like: np.ndarray | None = None):
    """An array for ``value``; a Python scalar takes ``like``'s float dtype (never upcasts)."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        return value
    if like is not None and like.dtype.kind == "f" and isinstance(value, (int, float, bool)):
        return np.asarray(value, dtype=like.dtype)
    return np.asarray(value)
