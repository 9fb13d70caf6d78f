"""Which ONNX nodes each traced call becomes: two tables, filled by the ``ops_*`` files.

``FUNCTIONS`` maps a ``Function`` class to a mapper ``fn(g, call) -> [value name per output]``
that reads the call's arguments (``call.args``, ``call.kwargs``, as ``forward`` got them) and
adds nodes to the graph ``g``. ``MODULES`` maps a module class to a mapper of the same form for
layers exported as a whole, from the module's attributes and its call's arguments:

- BatchNorm1d/2d/3d in eval mode: one BatchNormalization node whose inputs are the state-dict
  initializers (``bn.weight``, ``bn.running_mean``, ...) and the module's eps;
- MultiheadAttention: so that its ``key_padding_mask`` and ``attn_mask`` may be graph inputs
  (the layer combines them with NumPy, outside the autograd graph).

Every other layer is exported through the ops it calls. A Function missing from ``FUNCTIONS``
is an error naming it and the module it ran in, unless it is one of neuronet's fast paths: a
subclass of a mapped reference Function inside ``neuronet.ops`` (``ops/fast/``), which keeps
its reference's contract and so its mapping (``mapper_for``).
"""

from __future__ import annotations

FUNCTIONS: dict = {}
MODULES: dict = {}


def maps(*classes):
    """Decorator: register the mapper for these Function classes."""

    def register(fn):
        for cls in classes:
            FUNCTIONS[cls] = fn
        return fn

    return register


def maps_module(*classes):
    """Decorator: register the mapper for these Module classes (exported as a whole)."""

    def register(fn):
        for cls in classes:
            MODULES[cls] = fn
        return fn

    return register


def mapper_for(fn):
    """The mapper of Function class ``fn``; a fast path of neuronet's own (a subclass of a
    mapped reference in ``neuronet.ops``, with the reference's contract) uses its reference's.
    A user's subclass is not assumed to keep its parent's contract: no mapper (None)."""
    if fn in FUNCTIONS:
        return FUNCTIONS[fn]
    if not fn.__module__.startswith("neuronet.ops."):
        return None
    for base in fn.__mro__[1:]:
        if base in FUNCTIONS:
            return FUNCTIONS[base]
    return None


def load_all() -> None:
    """Import the ``ops_*`` files so their mappers are registered."""
    from neuronet.onnx import (  # noqa: F401
        ops_attention,
        ops_basic,
        ops_layers,
        ops_recurrent,
        ops_shape,
    )
