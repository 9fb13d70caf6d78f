"""Grad modes: whether ops record the graph for backpropagation, per thread.

``no_grad()`` turns recording off (inference, optimizer updates); ``enable_grad()`` turns it
back on inside a ``no_grad`` block; ``set_grad_enabled(mode)`` picks either (and, called
alone, sets the mode from then on, as in PyTorch);
``inference_mode()`` is ``no_grad`` for code written for PyTorch's inference mode. All of them
work as context managers and as decorators, like PyTorch's.

The flag is thread-local, as in PyTorch: ``no_grad()`` in a data-loading or evaluation thread
leaves the training thread recording. Every new thread starts with recording on.
"""

from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    """``STATE.enabled``: this thread's grad mode; the class attributes are every thread's start."""

    enabled = True
    inference = False


STATE = _GradState()


def is_grad_enabled() -> bool:
    """True when ops record the graph (in this thread)."""
    return STATE.enabled


class _GradMode:
    """Sets grad mode to ``mode`` for a ``with`` block or a decorated function, then restores
    it (what no_grad, enable_grad and set_grad_enabled share)."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.prev = STATE.enabled

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode``, as PyTorch's: called alone it sets the mode from then on;
    as a context manager or decorator it restores the previous mode afterwards.

    Example:
        >>> import neuronet
        >>> with neuronet.set_grad_enabled(False):
        ...     neuronet.is_grad_enabled()
        False
        >>> neuronet.is_grad_enabled()
        True
        >>> _ = neuronet.set_grad_enabled(False)  # a plain call: off from here on
        >>> neuronet.is_grad_enabled()
        False
        >>> _ = neuronet.set_grad_enabled(True)
    """

    def __init__(self, mode: bool = True):
        super().__init__(mode)
        STATE.enabled = self.mode  # a plain call takes effect now

    def __enter__(self):
        STATE.enabled = self.mode  # ``prev`` is the mode before the call, as in PyTorch
        return self

    def __call__(self, fn):
        STATE.enabled = self.prev  # used as a decorator: the mode applies inside fn only
        return super().__call__(fn)


class no_grad(_GradMode):
    """Disable graph recording: ``with no_grad(): ...`` or ``@no_grad()``."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    """Enable graph recording, e.g. inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class inference_mode:
    """``with inference_mode(): ...`` (or ``@inference_mode()``): no graph is recorded.

    ``inference_mode(False)`` changes nothing (PyTorch's meaning: the block is not in
    inference mode). Note: PyTorch also marks tensors made inside as "inference tensors" that
    may never enter a graph later, which lets it skip version counting; neuronet's version
    counters cost nothing to skip, so tensors made inside are ordinary tensors.
    """

    def __init__(self, mode: bool = True):
        self.inference = bool(mode)
        self.prev = (STATE.enabled, STATE.inference)

    def __enter__(self):
        self.prev = (STATE.enabled, STATE.inference)
        if self.inference:
            STATE.enabled = False
            STATE.inference = True
        return self

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self.prev
        return False

    def __call__(self, fn):
        inference = self.inference

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(inference):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (in this thread)."""
    return STATE.inference
