"""draw_graph: the autograd graph behind a tensor, as a Graphviz picture.

What ``loss.backward()`` walks, drawn from the output back to the leaves:

    boxes      tensors: shape and dtype; a parameter's name when ``params`` names it
               blue: a leaf that requires grad (gets ``.grad``); grey: a constant input;
               the output is drawn bold
    ellipses   ops: the ``Function`` that made a tensor (``MatMul``, ``ReLU``, ...); backward
               runs each one's ``backward`` once, from the output down
    edges      data flow of the forward pass (input -> op -> output)

Draw before ``backward()``: backward frees the graph (unless ``retain_graph=True``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from neuronet.autograd.tensor import Tensor

_LEAF_GRAD = "#cfe2ff"  # a parameter / leaf that requires grad
_CONSTANT = "#e9ecef"  # a tensor that needs no gradient
_OP = "#fff3bf"
_OUTPUT = "#d3f9d8"


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_graph needs the graphviz Python package; install the viz extra: "
            "pip install 'neuronet[viz]'"
        ) from None
    return graphviz


def _shape(t) -> str:
    return str(tuple(int(d) for d in t.shape)) if t.ndim else "scalar"


def _tensor_inputs(ctx) -> list:
    """Every tensor argument of an op in order: those that need a gradient (``ctx.inputs``)
    and, where the node recorded them, the constants beside them."""
    recorded = [t for t in getattr(ctx, "args", None) or () if isinstance(t, Tensor)]
    graded = [t for t in ctx.inputs if t is not None]
    return recorded if all(any(t is r for r in recorded) for t in graded) else graded


def draw_graph(tensor: Tensor, params=None, path=None, format: str = "svg", show_dtype=True):
    """Draw the autograd graph that produced ``tensor``.

    Args:
        tensor: the output (e.g. a loss), before ``backward()`` frees its graph.
        params: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) to label
            parameters by name.
        path: also render the picture to this file (without or with the format's suffix); needs
            Graphviz's ``dot`` program.
        format: 'svg' or 'png' (or any format ``dot`` knows) for ``path``.
        show_dtype: add each tensor's dtype to its label.

    Returns:
        A ``graphviz.Digraph``; in a notebook it displays itself. ``.source`` is the DOT text.

    Example:
        >>> import neuronet as nt
        >>> w = nt.randn(3, 2, requires_grad=True)
        >>> g = draw_graph((nt.ones(4, 3) @ w).relu().sum(), params={"w": w})
        >>> sorted(n for n in ("MatMul", "ReLU", "Sum", "w") if n in g.source)
        ['MatMul', 'ReLU', 'Sum', 'w']
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a neuronet Tensor, got {type(tensor).__name__}")
    graphviz = _graphviz()
    names = {id(t): name for name, t in (params or {}).items()}
    dot = graphviz.Digraph("autograd", graph_attr={"rankdir": "BT", "fontsize": "11"})
    dot.attr("node", fontname="Helvetica", fontsize="10")
    seen_tensors, seen_ops = set(), set()

    def tensor_node(t, output=False) -> str:
        key = f"t{id(t)}"
        if id(t) in seen_tensors:
            return key
        seen_tensors.add(id(t))
        label = [names[id(t)]] if id(t) in names else []
        label.append(_shape(t) + (f" {t.dtype}" if show_dtype else ""))
        if t.requires_grad and t.is_leaf:
            label.append("requires_grad")
            color = _LEAF_GRAD
        else:
            color = _OUTPUT if output else (_CONSTANT if not t.requires_grad else "white")
        style = "filled,bold" if output else "filled"
        dot.node(key, "\n".join(label), shape="box", style=style, fillcolor=color)
        return key

    stack = [tensor]
    tensor_node(tensor, output=True)
    while stack:
        t = stack.pop()
        ctx = t._ctx
        if ctx is None:
            continue
        op = f"f{id(ctx)}"
        dot.edge(op, f"t{id(t)}")
        if id(ctx) in seen_ops:
            continue
        seen_ops.add(id(ctx))
        dot.node(op, ctx.fn.__name__, shape="ellipse", style="filled", fillcolor=_OP)
        for inp in _tensor_inputs(ctx):
            dot.edge(tensor_node(inp), op)
            if inp._ctx is not None:
                stack.append(inp)
    if path is not None:
        render(dot, path, format)
    return dot


def render(dot, path, format: str = "svg") -> Path:
    """Write ``dot`` to ``path`` as ``format`` with Graphviz's ``dot`` program."""
    if shutil.which("dot") is None:
        raise RuntimeError(
            "draw_graph: rendering needs Graphviz's `dot` program, which is not installed "
            "(apt-get install graphviz, brew install graphviz); the returned Digraph's .source "
            "is the DOT text"
        )
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lstrip(".") == format else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    return Path(dot.render(filename=stem.name, directory=str(stem.parent), format=format,
                           cleanup=True))  # fmt: skip
