"""Tracing: run the model once with the autograd graph recording, and keep each node's call.

The graph autograd builds (``Tensor._ctx`` -> ``Context``) is the graph that is exported. Its
nodes keep what *backward* needs, which is not always what the *forward* was given (LayerNorm's
eps, a causal flag, a padding value, running statistics passed as raw arrays are not on the
context). So while the tracer runs, ``Function.apply`` is wrapped: each node it records also
keeps its call, ``ctx.onnx_call`` -- the Function class, the positional and keyword arguments
exactly as ``forward`` received them, the output tensors and the module the call ran in. The
exporter maps every call to ONNX nodes from those arguments, which are the op's public contract
(a fast-path Function keeps the reference's contract), not from its backward bookkeeping.

Module calls are recorded too (``ModuleCall``): a few layers are exported as a whole (see
``registry.MODULES``), and every call knows the dotted path of the innermost module it ran in,
so an error can name it.

Everything is restored when tracing ends (``with Tracer(model) as tape: ...``); calls made by
other threads meanwhile run normally and are not recorded.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor

_LOCK = threading.Lock()  # one trace at a time: the wrapper is process-wide


@dataclass
class Call:
    """One op call: ``fn.forward(ctx, *args, **kwargs)`` returned ``outputs``."""

    fn: type
    args: tuple
    kwargs: dict
    outputs: tuple
    module: str  # dotted path of the innermost module ('' for the model itself)
    index: int = 0  # position on the tape
    twin: Call | None = None  # the same call in the second trace (another batch size)

    @property
    def name(self) -> str:
        return self.fn.__name__

    def where(self) -> str:
        return f"{self.name} (in module '{self.module}')" if self.module else self.name

    def param(self, name: str, default=None):
        """The argument ``forward`` received as ``name`` (positional or keyword), or default."""
        return _bind(self.fn, self.args, self.kwargs).get(name, default)


_SIGNATURES = {}


def _bind(fn, args, kwargs) -> dict:
    """forward's parameter names -> the values of one call (defaults left out)."""
    sig = _SIGNATURES.get(fn)
    if sig is None:
        target = fn.forward
        sig = _SIGNATURES[fn] = inspect.signature(target)
    params = list(sig.parameters)
    if params and params[0] in ("ctx", "self"):
        return sig.bind(None, *args, **kwargs).arguments
    return sig.bind(*args, **kwargs).arguments


@dataclass
class ModuleCall(Call):
    """A module's forward: ``module(*args, **kwargs)`` returned ``outputs``."""

    instance: object = None

    @property
    def name(self) -> str:
        return type(self.instance).__name__


@dataclass
class Tape:
    """The calls of one forward pass, in execution (= topological) order."""

    calls: list = field(default_factory=list)
    producer: dict = field(default_factory=dict)  # id(tensor) -> (call, output index)
    keep: list = field(default_factory=list)  # keeps traced tensors alive (ids stay unique)

    def add(self, call: Call) -> None:
        call.index = len(self.calls)
        self.calls.append(call)
        for i, out in enumerate(call.outputs):
            if isinstance(out, Tensor):
                self.producer[id(out)] = (call, i)
                self.keep.append(out)


def _flat_outputs(out) -> tuple:
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, (tuple, list)):
        flat = []
        for o in out:
            flat.extend(_flat_outputs(o) if isinstance(o, (tuple, list)) else [o])
        return tuple(flat)
    return (out,)


class Tracer:
    """Context manager: while active, every recorded graph node keeps its call on ``tape``.

    Args:
        model: the root module (its submodules' calls are recorded with their paths).
        whole: module classes to record as ``ModuleCall``s (exported as one unit).
    """

    def __init__(self, model, whole=()):
        self.model = model
        self.whole = tuple(whole)
        self.tape = Tape()
        self._stack = [""]
        self._saved_apply = None
        self._wrapped = []
        self.thread = threading.get_ident()

    def __enter__(self) -> Tape:
        _LOCK.acquire()
        try:
            self._wrap_apply()
            self._wrap_modules()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.tape

    def __exit__(self, *exc):
        try:
            if self._saved_apply is not None:
                Function.apply = self._saved_apply
                self._saved_apply = None
            for module, own in self._wrapped:
                if own is None:
                    module.__dict__.pop("forward", None)
                else:  # an instance attribute the user set: put it back
                    module.__dict__["forward"] = own
            self._wrapped = []
        finally:
            _LOCK.release()
        return False

    def _wrap_apply(self) -> None:
        original = Function.__dict__["apply"]
        plain = original.__func__
        tracer = self

        def apply(cls, *args, **kwargs):
            out = plain(cls, *args, **kwargs)
            if threading.get_ident() != tracer.thread:  # another thread's ops: not the model's
                return out
            outputs = out if isinstance(out, tuple) else (out,)
            call = Call(cls, args, kwargs, outputs, tracer._stack[-1])
            tracer.tape.add(call)
            for o in outputs:
                if o._ctx is not None:
                    o._ctx.onnx_call = call
            return out

        self._saved_apply = original
        Function.apply = classmethod(apply)

    def _wrap_modules(self) -> None:
        for path, module in self.model.named_modules():
            self._wrap_module(path, module)

    def _wrap_module(self, path: str, module) -> None:
        forward = module.forward  # the bound class method
        tracer = self
        whole = isinstance(module, self.whole)

        def traced_forward(*args, **kwargs):
            tracer._stack.append(path)
            try:
                out = forward(*args, **kwargs)
            finally:
                tracer._stack.pop()
            if whole:
                call = ModuleCall(
                    type(module), args, kwargs, _flat_outputs(out), path, instance=module
                )
                tracer.tape.add(call)
            return out

        self._wrapped.append((module, module.__dict__.get("forward")))
        module.__dict__["forward"] = traced_forward
