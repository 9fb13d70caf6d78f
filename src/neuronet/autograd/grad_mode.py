"""Grad modes: whether ops record the graph for backpropagation.

``no_grad()`` turns recording off (inference, optimizer updates); ``enable_grad()`` turns it
back on inside a ``no_grad`` block; ``set_grad_enabled(mode)`` picks either. All three work as
context managers and as decorators, like PyTorch's. The flag is process-wide (not per thread):
neuronet's background data loading never records a graph.
"""

from __future__ import annotations

import functools


class _GradState:
    enabled = True


STATE = _GradState()


def is_grad_enabled() -> bool:
    """True when ops record the graph."""
    return STATE.enabled


class set_grad_enabled:
    """Context manager and decorator that sets grad mode to ``mode`` and restores it after.

    Example:
        >>> import neuronet
        >>> with neuronet.set_grad_enabled(False):
        ...     neuronet.is_grad_enabled()
        False
    """

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
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Disable graph recording: ``with no_grad(): ...`` or ``@no_grad()``."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Enable graph recording, e.g. inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)
