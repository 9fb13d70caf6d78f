"""Version counters: how backward notices that a saved tensor was changed in place.

Every tensor has a version counter, bumped by each in-place change (``add_``, ``x[i] = v``,
``copy_``, an optimizer step). Tensors that share storage through a view op (``y = x[0]``,
``x.view(...)``, ``x.t()``) or ``detach()`` share one counter, so writing through any of them
counts for all; ``.data`` gets its own counter, as in PyTorch (changes made through it are
invisible to autograd, which is why new code should not use it).

When an op saves an array for backward, ``watch_saved`` notes which tensor's storage the array
is (an input, an output, or a view of one) and the counter's value then. The engine checks the
values before it runs the op's backward (``check_saved``) and raises PyTorch's error if the
tensor changed: the backward would otherwise compute with the new values, silently wrong. Only
saved arrays are watched, so changing a tensor that no backward reads (``y = a + b;
a.add_(1)``) is fine.

The counter is a two-slot list ``[version, rebases]``, made on first need: ``rebases`` counts
how often an in-place op gave the storage's tensors a new graph node (see ``inplace.py``); a
view made before that refreshes its own node when it is next used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["counter", "link_view", "watch_saved", "check_saved"]


def counter(t) -> list:
    """``t``'s version counter ``[version, rebases]``, made on first use."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0, 0]
    return vc


def storage(a: np.ndarray):
    """The object that owns ``a``'s memory (NumPy points a view's ``base`` at it)."""
    while isinstance(a, np.ndarray) and a.base is not None:
        a = a.base
    return a


def link_view(out, tensors) -> None:
    """Make ``out`` a view of the first of ``tensors`` whose storage it shares: one version
    counter, and ``out._view = (root base tensor, rebases when linked)``."""
    own = storage(out.array)
    for a in tensors:
        if storage(a.array) is own:
            vc = counter(a)
            out._vc = vc
            out._view = (a if a._view is None else a._view[0], vc[1])
            return


def watch_saved(saved: tuple, tensors: list) -> list:
    """For each saved array that is the storage of one of ``tensors`` (an op's inputs and
    outputs): (counter, version now, and what the error message needs), the entries that
    ``check_saved`` compares after in-place changes."""
    owners = [storage(t.array) for t in tensors]
    watched = []
    for s in saved:
        if not isinstance(s, np.ndarray):
            continue
        own = storage(s)
        for t, owner in zip(tensors, owners):
            if owner is own:
                vc = counter(t)
                node = t._ctx
                producer = None if node is None else node.fn.__name__
                watched.append((vc, vc[0], t.shape, t.dtype, producer, t._out_index))
                break
    return watched


def check_saved(ctx) -> None:
    """Raise PyTorch's error if a tensor whose storage ``ctx`` saved changed since."""
    for vc, expected, shape, dtype, producer, index in ctx.saved_versions:
        if vc[0] != expected:
            which = "" if producer is None else f", which is output {index} of {producer}Backward"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [neuronet.{dtype} {list(shape)}]{which}, is at version "
                f"{vc[0]}; expected version {expected} instead. Hint: the backward of "
                f"{ctx.fn.__name__} reads its value; change it out of place (y = y + 1 "
                "instead of y += 1) or change a copy (y = y.clone())"
            )
