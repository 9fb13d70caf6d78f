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
from neuronet.autograd.version import link_view, watch_saved


class Context:
    """The graph node of one op call: what backward needs, and where its gradients go.

    Attributes:
        fn: the ``Function`` subclass that made this node.
        inputs: the forward's tensor inputs (``None`` for non-tensor arguments and for tensors
            that need no gradient).
        edges: per input, ``(node, output index)`` of the node that produced it when the op
            ran (``None`` for leaves and non-tensors). The engine follows these, not
            ``inputs[i].grad_fn``: an in-place op may give an input tensor a new node later.
        needs_input_grad: per positional input, whether it needs a gradient.
        saved: the arrays passed to ``save_for_backward`` (freed after backward).
        saved_versions: one entry per saved array that is (a view of) a tensor's storage:
            the tensor's version counter and its value when saved (see ``version.py``).
        args: the forward's positional arguments as given, tensors that need no gradient
            included (for tools that draw or trace the graph; freed with the rest).
    """

    __slots__ = (
        "fn",
        "inputs",
        "edges",
        "needs_input_grad",
        "saved",
        "saved_versions",
        "args",
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
        self.saved_versions = ()
        self.freed = False
        self.out_hooks = None

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` for backward. Save only what the derivative needs.

        A saved array that is a tensor's storage (an input, an output, or a view of one) is
        watched: changing that tensor in place before backward makes backward raise.
        """
        self.saved = arrays

    def mark_non_differentiable(self, *outputs):
        """Mark forward outputs (by identity) that never carry a gradient (e.g. argmax)."""
        self.non_differentiable = {id(o) for o in outputs}

    def name(self) -> str:
        """``"MulBackward"``: the node's name, as PyTorch's ``grad_fn.name()``."""
        return f"{self.fn.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """Per input, ``(node, output index)`` its gradient goes to: the producing node, an
        ``AccumulateGrad`` for a leaf that requires grad, or ``(None, 0)``; as PyTorch's."""
        if self.edges is None:
            return ()
        return tuple(
            edge if edge is not None else ((AccumulateGrad(t), 0) if t is not None else (None, 0))
            for t, edge in zip(self.inputs, self.edges)
        )


class AccumulateGrad:
    """Where a leaf's gradient ends: ``variable.grad`` (PyTorch's node of the same name)."""

    def __init__(self, variable):
        self.variable = variable
        self.next_functions = ()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


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
                if a._view is not None and a._view[1] != a._vc[1]:
                    a._refresh_view()  # its base was changed in place by a recorded op
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
                return tuple([_output(r, args) for r in raw])
            out = Tensor(raw)
            if raw.base is not None:
                link_view(out, args)
            return out
        inputs = []
        edges = []
        for a, flag in zip(args, needs):
            if flag:
                inputs.append(a)
                node = a._ctx
                edges.append(None if node is None else (node, a._out_index))
            else:
                inputs.append(None)
                edges.append(None)
        ctx.inputs = inputs
        ctx.edges = edges
        ctx.args = args
        non_diff = ctx.non_differentiable
        if type(raw) is tuple:
            ctx.n_outputs = len(raw)
            ctx.out_meta = [(r.shape, r.dtype) for r in raw]
            outs = []
            for i, r in enumerate(raw):
                t = _output(r, args)
                if r.dtype.kind == "f" and id(r) not in non_diff:
                    t._requires_grad = True
                    t._ctx = ctx
                    t._out_index = i
                outs.append(t)
            if ctx.saved:
                ctx.saved_versions = watch_saved(ctx.saved, args, outs)
            return tuple(outs)
        ctx.n_outputs = 1  # a single output always has a gradient when its node runs
        out = Tensor(raw)
        if raw.base is not None:
            link_view(out, args)
        if raw.dtype.kind == "f" and not (non_diff and id(raw) in non_diff):
            out._requires_grad = True
            out._ctx = ctx
        if ctx.saved:
            ctx.saved_versions = watch_saved(ctx.saved, args, (out,))
        return out


def _output(raw: np.ndarray, args) -> Tensor:
    """The output tensor for ``raw``; a view of an input's storage shares its version counter."""
    out = Tensor(raw)
    if raw.base is not None:
        link_view(out, args)
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
