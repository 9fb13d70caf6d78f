"""Anomaly detection: stop at the first op whose forward output or backward gradient is NaN or Inf,
and say which op, in which module, with which shapes, called from which line of your code.

    with neuronet.autograd.detect_anomaly():
        loss = loss_fn(model(x), y)     # every op's output is checked
        loss.backward()                 # every gradient the engine computes is checked

raises ``AnomalyError`` (a ``RuntimeError``) at the first non-finite value, e.g.::

    AnomalyError: Log.forward produced NaN in its output (shape (32, 10)) in module 'head.act'
    (LogSigmoid), called from train.py:42; the inputs were finite, so this op made it.
    Input shapes: [(32, 10)]

How it works, and what it costs:
- Forward: ``Function.apply`` calls ``after_forward`` for every op while anomaly mode is on. It
  checks the output with one BLAS dot product (``x . x`` is NaN/Inf when any element is; one that
  overflows is re-checked element-wise, so large finite values are not reported) and records on
  the graph node *where* the op ran: the module call stack and the user's line.
- The module call stack: while anomaly mode is on, ``Module.__call__`` pushes ``(module,
  where)`` on a thread-local list (``module_call``). ``where`` is the caller's ``file:line`` when
  the caller is outside neuronet, and otherwise the enclosing module's (so layers called by
  ``Sequential.forward`` report the user's line that called the model). The dotted path is
  computed only when an error is raised, relative to the outermost module on the stack.
- Backward: the engine calls ``check_gradient`` on every gradient an op returns; the node's
  recorded site names the module and line even though the forward frames are gone.
The measured overhead is in ``benchmarks/doctor_overhead.py`` (target: at most 1.3x a step).

``detect_anomaly(check_nan=False)`` keeps the module tracking without the NaN checks (PyTorch's
meaning of that flag); the training doctor uses it, with *observers* (``add_observer``), to
collect per-op activation statistics named by module.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import threading

import numpy as np

from neuronet.autograd.engine import ANOMALY

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class AnomalyError(RuntimeError):
    """The first non-finite value found in anomaly mode.

    Attributes:
        op: the op's ``Function`` class name (e.g. ``'Log'``).
        phase: ``'forward'`` (its output) or ``'backward'`` (a gradient it returned).
        module: dotted path of the innermost module running the op, relative to the outermost
            module called (e.g. ``'encoder.2.attn'``); ``''`` for the outermost module itself;
            None when no module was running (e.g. a loss computed in your own code).
        module_type: that module's class name, or None.
        shapes: ``{'inputs': [...], 'output': shape}`` (forward) or ``{'inputs': [...],
            'grad': shape, 'input_index': i}`` (backward).
        where: ``'file:line'`` of your code that called the module (frames inside neuronet
            are skipped), or None when unknown.
        kind: ``'nan'`` or ``'inf'``.
        inputs_finite: whether every input of the op was finite (forward) or the incoming
            gradient was (backward). False means the value came from further upstream: the
            data, a parameter, or an earlier gradient.
    """

    def __init__(self, op, phase, module, module_type, shapes, where, kind, inputs_finite):
        self.op = op
        self.phase = phase
        self.module = module
        self.module_type = module_type
        self.shapes = shapes
        self.where = where
        self.kind = kind
        self.inputs_finite = inputs_finite
        super().__init__(self._message())

    def _message(self) -> str:
        kind = {"nan": "NaN", "inf": "Inf"}[self.kind]
        if self.phase == "forward":
            what = (
                f"{self.op}.forward produced {kind} in its output (shape {self.shapes['output']})"
            )
        else:
            what = (
                f"{self.op}.backward produced {kind} in the gradient for input "
                f"{self.shapes['input_index']} (shape {self.shapes['grad']})"
            )
        if self.module:
            what += f" in module '{self.module}' ({self.module_type})"
        elif self.module is not None:
            what += f" in the outermost module ({self.module_type})"
        else:
            what += " outside any module"
        if self.where:
            what += f", called from {self.where}"
        if self.inputs_finite:
            cause = (
                "the inputs were finite, so this op made it"
                if self.phase == "forward"
                else ("the incoming gradient was finite, so this op's backward made it")
            )
        else:
            cause = (
                "an input already held NaN/Inf (it came from the data or a parameter)"
                if self.phase == "forward"
                else "the incoming gradient already held NaN/Inf"
            )
        hint = (
            " Typical fixes: clamp before log/sqrt/division (x.clamp(min=1e-7)), use the fused "
            "stable ops (F.cross_entropy on logits, F.binary_cross_entropy_with_logits, "
            "F.log_softmax), lower the learning rate or clip gradients."
        )
        return f"{what}; {cause}. Input shapes: {self.shapes['inputs']}.{hint}"


# ---- the module call stack ------------------------------------------------------------------
class _CallStack(threading.local):
    def __init__(self):
        self.frames = []  # (module, where) from the outermost call to the innermost
        self.check_nan = [True]  # a stack: nested detect_anomaly(check_nan=...) blocks
        self.observers = []  # callables observer(fn_class, output, site) in anomaly mode


CALLS = _CallStack()


def _user_frame(frame):
    """``'file:line'`` of the first frame at or above ``frame`` outside the neuronet package."""
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_PACKAGE):
            return f"{os.path.basename(code.co_filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return None


_INSIDE = {}  # code object -> whether it belongs to the neuronet package


def module_call(module, args, kwargs):
    """``Module.__call__`` in anomaly mode: run the module with itself on the call stack."""
    frames = CALLS.frames
    caller = sys._getframe(2)
    code = caller.f_code
    inside = _INSIDE.get(code)
    if inside is None:
        inside = _INSIDE[code] = code.co_filename.startswith(_PACKAGE)
    if not inside:
        where = (code.co_filename, caller.f_lineno)
    elif frames:
        where = frames[-1][1]
    else:
        where = _user_frame(caller)
    frames.append((module, where))
    try:
        return module._call_with_hooks(args, kwargs)
    finally:
        frames.pop()


def current_site():
    """(outermost module, innermost module, where) of the op running now; modules may be None."""
    frames = CALLS.frames
    if frames:
        return (frames[0][0], frames[-1][0], frames[-1][1])
    return (None, None, None)


def module_path(outer, inner) -> str | None:
    """Dotted path of ``inner`` relative to ``outer`` (both on one call stack)."""
    if inner is None:
        return None
    parts = []
    node = inner
    while node is not outer:
        parent = node._parent() if node._parent is not None else None
        if parent is None:  # not a descendant: fall back to its path in its own model
            return inner.module_path()
        parts.append(node._name)
        node = parent
    return ".".join(reversed(parts))


def _where(where):
    if isinstance(where, tuple):  # (filename, line) as recorded cheaply by module_call
        return f"{os.path.basename(where[0])}:{where[1]}"
    return where


def site_names(site, root=None) -> tuple:
    """(dotted path or None, module type or None, 'file:line') for a recorded site; the path is
    relative to ``root`` when given (else to the outermost module on the call stack)."""
    outer, inner, where = site
    if inner is None:
        return None, None, _where(where)
    return module_path(root or outer, inner), type(inner).__name__, _where(where)


# ---- the checks -----------------------------------------------------------------------------
def _kind(array: np.ndarray):
    """None when every element is finite, else 'nan' or 'inf'. The check is one BLAS dot
    product (x . x is NaN/Inf when any element is, and raises no overflow warning); a dot that
    overflows on large finite values is re-checked element-wise, so they are not reported."""
    if array.dtype.kind != "f" or array.size == 0:
        return None
    flat = array.reshape(-1)
    if math.isfinite(flat.dot(flat)):
        return None
    if np.isnan(array).any():
        return "nan"
    if np.isinf(array).any():
        return "inf"
    return None  # the sum of squares overflowed but every element is finite


def _finite(array) -> bool:
    return not isinstance(array, np.ndarray) or _kind(array) is None


def after_forward(fn, ctx, raw, args) -> None:
    """Called by ``Function.apply`` for every op in anomaly mode: record the site, check the
    output, tell the observers."""
    site = current_site()
    if site[2] is None:  # no module running: name the user's line instead
        site = (None, None, _user_frame(sys._getframe(2)))
    ctx.site = site
    outputs = raw if type(raw) is tuple else (raw,)
    if CALLS.check_nan[-1]:
        for out in outputs:
            kind = _kind(out) if isinstance(out, np.ndarray) else None
            if kind is not None:
                arrays = [a.array if hasattr(a, "array") else a for a in args]
                name, type_name, where = site_names(site)
                where = _user_frame(sys._getframe(1)) or where  # the live line, exactly
                shapes = {
                    "inputs": [tuple(a.shape) for a in arrays if isinstance(a, np.ndarray)],
                    "output": tuple(out.shape),
                }
                finite = all(_finite(a) for a in arrays)
                raise AnomalyError(
                    fn.__name__, "forward", name, type_name, shapes, where, kind, finite
                )
    for observer in CALLS.observers:
        observer(fn, raw, site)


def check_gradient(ctx, tensor, grad, grads_in) -> None:
    """Called by the engine for every gradient an op's backward returns (anomaly mode)."""
    if not CALLS.check_nan[-1]:
        return
    kind = _kind(grad)
    if kind is None:
        return
    index = next(i for i, t in enumerate(ctx.inputs) if t is tensor)
    site = getattr(ctx, "site", (None, None, None))
    name, type_name, where = site_names(site)
    shapes = {
        "inputs": [tuple(t.shape) if t is not None else None for t in ctx.inputs],
        "grad": tuple(grad.shape),
        "input_index": index,
    }
    finite = all(_finite(g) for g in grads_in if g is not None)
    raise AnomalyError(ctx.fn.__name__, "backward", name, type_name, shapes, where, kind, finite)


# ---- the switches ---------------------------------------------------------------------------
class detect_anomaly:
    """Context manager (and decorator) for anomaly mode: every op's forward output and backward
    gradient is checked, and the first NaN/Inf raises ``AnomalyError`` naming the op, the
    module path, the shapes and your line of code.

    Args:
        check_nan: False keeps only the bookkeeping (module sites) without the checks, as
            PyTorch's flag of the same name.

    Example:
        >>> import neuronet as nt
        >>> x = nt.tensor([1.0, 0.0], requires_grad=True)
        >>> with nt.autograd.detect_anomaly():
        ...     try:
        ...         y = (x / 0.0).sum()
        ...     except nt.autograd.AnomalyError as err:
        ...         print(err.op, err.phase, err.kind)
        Div forward nan
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)
        self.prev = ANOMALY.enabled

    def __enter__(self):
        self.prev = ANOMALY.enabled
        ANOMALY.enabled = True
        CALLS.check_nan.append(self.check_nan)
        return self

    def __exit__(self, *exc):
        CALLS.check_nan.pop()
        ANOMALY.enabled = self.prev
        return False

    def __call__(self, fn):
        check_nan = self.check_nan

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turn anomaly mode on or off (``mode``), as a call or a context manager (PyTorch's)."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = ANOMALY.enabled
        self.prev_check = CALLS.check_nan[-1]
        ANOMALY.enabled = bool(mode)
        CALLS.check_nan[-1] = bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled = self.prev
        CALLS.check_nan[-1] = self.prev_check
        return False


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return bool(ANOMALY.enabled)


def is_anomaly_check_nan_enabled() -> bool:
    """True when anomaly mode checks for NaN/Inf (``check_nan=True``)."""
    return bool(ANOMALY.enabled and CALLS.check_nan[-1])


class observe:
    """Anomaly mode calling ``observer(fn_class, output, site)`` after every op's forward (the
    doctor's activation statistics), with or without the NaN checks. ``site`` is (outer, inner,
    where); ``site_names`` turns it into the module's dotted path."""

    def __init__(self, observer, check_nan: bool = False):
        self.observer = observer
        self.mode = detect_anomaly(check_nan=check_nan)

    def __enter__(self):
        CALLS.observers.append(self.observer)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)
        CALLS.observers.remove(self.observer)
        return False
