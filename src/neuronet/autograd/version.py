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

from neuronet.autograd.tensor import Tensor

__all__ = ["counter", "link_view", "watch_saved", "check_saved"]

# Storage identity: NumPy points every view's ``base`` straight at the array (or buffer) that
# owns the memory, never at an intermediate view, so two arrays share storage when one is the
# other's base or both have the same base.


def counter(t) -> list:
    """``t``'s version counter ``[version, rebases]``, made on first use."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0, 0]
    return vc


def link_view(out, args) -> None:
    """Make ``out`` a view of the first tensor in ``args`` whose storage it shares: one version
    counter, and ``out._view = (root base tensor, rebases when linked)``."""
    own = out.array.base
    for a in args:
        if type(a) is not Tensor and not isinstance(a, Tensor):
            continue
        arr = a.array
        if arr is own or arr.base is own:
            vc = counter(a)
            out._vc = vc
            out._view = (a if a._view is None else a._view[0], vc[1])
            return


def watch_saved(saved: tuple, args, outputs) -> list:
    """For each saved array that is the storage of a tensor in ``args`` or ``outputs`` (an op's
    inputs and outputs): (counter, version now, the tensor's array, and the name and output
    index of the node that made it), the entries ``check_saved`` compares after in-place
    changes. (Arrays, not tensors, are kept: an output referenced from its own node would make
    a reference cycle that only the garbage collector frees.)"""
    watched = []
    for s in saved:
        if type(s) is not np.ndarray:
            continue
        own = s.base
        if own is None:
            own = s
        for group in (args, outputs):
            t = _owner(group, own)
            if t is not None:
                vc = t._vc
                if vc is None:
                    vc = t._vc = [0, 0]
                node = t._ctx
                name = None if node is None else node.fn.__name__
                watched.append((vc, vc[0], t.array, name, t._out_index))
                break
    return watched


def _owner(tensors, own):
    """The first tensor in ``tensors`` whose storage is ``own``, or None."""
    for t in tensors:
        if isinstance(t, Tensor):
            arr = t.array
            if arr is own or arr.base is own:
                return t
    return None


def check_saved(ctx) -> None:
    """Raise PyTorch's error if a tensor whose storage ``ctx`` saved changed since."""
    for vc, expected, arr, producer, index in ctx.saved_versions:
        if vc[0] != expected:
            shape, dtype = arr.shape, arr.dtype
            which = "" if producer is None else f", which is output {index} of {producer}Backward"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: [neuronet.{dtype} {list(shape)}]{which}, is at version "
                f"{vc[0]}; expected version {expected} instead. Hint: the backward of "
                f"{ctx.fn.__name__} reads its value; change it out of place (y = y + 1 "
                "instead of y += 1) or change a copy (y = y.clone())"
            )
