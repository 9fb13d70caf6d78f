"""The backward engine: one pass over the graph in reverse topological order.

``run_backward`` seeds dL/d(root), sorts the reachable graph nodes with an iterative depth-first
search (no recursion, so a 10,000-op chain is fine), then calls each node's ``backward`` once,
after every node that consumes its outputs has contributed. Every gradient goes through one
accumulation rule (in ``run_backward``'s loop; the seeds dL/d(root) enter as the backward of a
start node, ``_Roots``): summed per node output, or, for a leaf, over the whole pass, then
passed through the leaf's hooks and added to ``leaf.grad``. Before a node's backward runs, the
arrays it saved are checked against in-place changes (``version.check_saved``). Unless
``retain_graph`` is set, each node drops its saved arrays and inputs as soon as it has run, so
activation memory is released during the pass and a second backward is a clear error.

A leaf with post-accumulate hooks (``register_post_accumulate_grad_hook``) is finished as soon
as the last node that feeds it has run, not at the end of the pass: its ``.grad`` is written and
its hooks called while the rest of the graph is still being differentiated (data-parallel
training starts sending gradients from there). ``_leaf_waits`` counts those nodes.
"""

from __future__ import annotations

import threading

import numpy as np

from neuronet.autograd.tensor import POST_ACCUMULATE_HOOKS, Tensor
from neuronet.autograd.version import check_saved

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved arrays after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time."
)


class _AnomalyMode(threading.local):
    """``ANOMALY.enabled``: this thread's anomaly detection flag (off in every new thread)."""

    enabled = False


ANOMALY = _AnomalyMode()


def no_create_graph(create_graph: bool, where: str) -> None:
    """Refuse ``create_graph=True``: backward functions work on arrays (once-differentiable)."""
    if create_graph:
        raise NotImplementedError(
            f"{where}(create_graph=True): higher-order gradients are not supported; every "
            "backward works on NumPy arrays and is once-differentiable (see "
            "neuronet.autograd.Function). For a Hessian-vector product use a finite difference "
            "of gradients, (grad(x + eps*v) - grad(x - eps*v)) / (2*eps); for gradient "
            "penalties, compute the penalty's gradient by hand in a custom Function"
        )


def _seed(root: Tensor, grad) -> np.ndarray:
    if not root.requires_grad:
        raise RuntimeError(
            f"this tensor (shape {root.shape}) does not require grad and has no grad_fn, so "
            "there is nothing to backpropagate; set requires_grad=True on the leaves you want "
            "gradients for before computing it"
        )
    if grad is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, got shape {root.shape}; "
                "reduce it first (loss.sum() or loss.mean()) or pass backward(gradient=...) "
                "with the same shape"
            )
        return np.ones_like(root.array)
    g = grad.array if isinstance(grad, Tensor) else np.asarray(grad)
    if g.shape != root.shape:
        raise RuntimeError(
            f"gradient has shape {g.shape} but the tensor it is for has shape {root.shape}; "
            "pass a gradient of the same shape"
        )
    return np.array(g, dtype=root.dtype)


def _edge(t: Tensor):
    """Where a gradient for ``t`` goes: (its node, output index), or None for a leaf."""
    return None if t._ctx is None else (t._ctx, t._out_index)


def _topological_order(roots: list) -> list:
    """Graph nodes reachable from ``roots``, each after all nodes that consume its outputs."""
    order = []
    visited = set()  # graph nodes (hashed by identity)
    for root in roots:
        if root is None or root in visited:
            continue
        visited.add(root)
        stack = [(root, 0)]
        while stack:
            node, i = stack[-1]
            edges = node.edges
            if edges is None:  # freed: no edges to follow; the error comes when it runs
                edges = ()
            while i < len(edges):
                edge = edges[i]
                i += 1
                if edge is not None and edge[0] not in visited:
                    parent = edge[0]
                    visited.add(parent)
                    stack[-1] = (node, i)
                    stack.append((parent, 0))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


class _Roots:
    """The start of a backward pass: a node whose "inputs" are the roots and whose backward
    hands out dL/d(root) for each, so the seeds flow through the same accumulation rule as
    every other gradient. (A ``Function`` in all but name: function.py imports this module.)"""

    @staticmethod
    def backward(ctx, grad_out):
        return ctx.seeds


def _start(roots: list, seeds: list):
    from neuronet.autograd.function import Context

    ctx = Context(_Roots)
    ctx.inputs = roots
    ctx.edges = [_edge(r) for r in roots]
    ctx.seeds = tuple(seeds)
    ctx.n_outputs = 1
    return ctx


def _call_backward(ctx, grads: list) -> tuple:
    """``ctx.fn.backward`` on the output gradients (zeros for outputs that got none), checked
    to return one entry per forward input. (Tests wrap this seam to inspect every gradient.)"""
    if ctx.n_outputs != 1:
        for i, g in enumerate(grads):
            if g is None:
                shape, dtype = ctx.out_meta[i]
                grads[i] = np.zeros(shape, dtype=dtype)
    result = ctx.fn.backward(ctx, *grads)
    if type(result) is not tuple:
        result = (result,)
    if len(result) != len(ctx.inputs):
        raise RuntimeError(
            f"{ctx.fn.__name__}.backward returned {len(result)} gradients but forward had "
            f"{len(ctx.inputs)} inputs; return one per input (None for non-differentiable ones)"
        )
    return result


def run_backward(roots, root_grads, retain_graph=False, inputs=None, accumulate=True, only=None):
    """Backpropagate from ``roots``. Returns the gradients of ``inputs`` when given.

    ``accumulate=False`` leaves every ``.grad`` untouched (``autograd.grad``); ``only`` limits
    accumulation to those leaves (``Tensor.backward(inputs=...)``).
    """
    pending = {}  # graph node -> list of output gradients
    leaf_grads = {}  # id(leaf) -> [leaf, summed gradient]
    captures = {}
    for t in list(inputs or ()) + list(only or ()):
        if not t.requires_grad:
            raise RuntimeError(
                f"an input tensor (shape {t.shape}) does not require grad, so it has no "
                "gradient; set requires_grad=True on it"
            )
    if inputs is not None:
        captures = {id(t): None for t in inputs}
    for root in roots:
        if root._view is not None and root._view[1] != root._vc[1]:
            root._refresh_view()
    start = _start(roots, [_seed(root, g) for root, g in zip(roots, root_grads)])
    pending[start] = [None]

    out_tensors = {}
    if captures:
        for t in inputs:
            if t._ctx is not None:
                out_tensors[(id(t._ctx), t._out_index)] = t

    anomaly = ANOMALY.enabled
    if anomaly:
        from neuronet.autograd.anomaly import check_gradient
    order = _topological_order([start])
    waits = _leaf_waits(order) if accumulate and POST_ACCUMULATE_HOOKS[0] else None
    chosen = None if only is None else {id(t) for t in only}
    assigned = set()
    for ctx in order:
        grads = pending.pop(ctx, None)
        if grads is None:
            if waits:
                _arrived(ctx, waits, leaf_grads, captures, assigned, chosen)
            continue
        if ctx.freed:
            raise RuntimeError(_FREED)
        if ctx.out_hooks:
            for k, hooks in ctx.out_hooks.items():
                for hook in list(hooks):
                    if grads[k] is not None:
                        replaced = hook(Tensor(grads[k]))
                        if replaced is not None:
                            grads[k] = replaced.array if isinstance(replaced, Tensor) else replaced
        if out_tensors:
            for k, g in enumerate(grads):
                t = out_tensors.get((id(ctx), k))
                if t is not None and g is not None:
                    captures[id(t)] = g
        for watched in ctx.saved_versions:  # in-place changes to what backward reads
            if watched[0][0] != watched[1]:
                check_saved(ctx)
        result = _call_backward(ctx, grads)
        for t, edge, g in zip(ctx.inputs, ctx.edges, result):
            if t is None or g is None:
                continue
            if g.shape != t.array.shape:
                raise RuntimeError(
                    f"{ctx.fn.__name__}.backward returned a gradient of shape {g.shape} for an "
                    f"input of shape {t.array.shape}; they must match"
                )
            if anomaly:  # NaN/Inf check naming the op, module and line (autograd/anomaly.py)
                check_gradient(ctx, t, g, grads)
            # The accumulation rule (the only place gradients are summed): in the input's
            # dtype, over the whole pass for a leaf, per output slot for a node. Sums build new
            # arrays, because a gradient may be a view of an array still in use.
            if g.dtype != t.array.dtype:
                g = g.astype(t.array.dtype)
            if edge is None:
                entry = leaf_grads.get(id(t))
                if entry is None:
                    leaf_grads[id(t)] = [t, g]
                else:
                    entry[1] = entry[1] + g
                continue
            node, k = edge
            slots = pending.get(node)
            if slots is None:
                slots = pending[node] = [None] * node.n_outputs
            slots[k] = g if slots[k] is None else slots[k] + g
        if waits:
            _arrived(ctx, waits, leaf_grads, captures, assigned, chosen)
        if not retain_graph:
            ctx.saved = ()
            ctx.inputs = None
            ctx.edges = None
            ctx.args = ()
            ctx.saved_versions = ()
            ctx.freed = True

    for leaf, g in leaf_grads.values():
        _finish_leaf(leaf, g, captures, accumulate, assigned, chosen)
    if inputs is None:
        return None
    return [captures[id(t)] for t in inputs]


def _finish_leaf(leaf, g, captures, accumulate, assigned, chosen) -> None:
    """Pass ``g`` through the leaf's hooks, add it to ``leaf.grad`` (unless ``accumulate`` is
    off or ``chosen`` leaves it out), then call its post-accumulate hooks."""
    if leaf._hooks:
        for hook in list(leaf._hooks):  # a hook may remove itself (doctor.watch's does)
            replaced = hook(Tensor(g))
            if replaced is not None:
                g = replaced.array if isinstance(replaced, Tensor) else replaced
    if id(leaf) in captures:
        captures[id(leaf)] = g
    if not accumulate or (chosen is not None and id(leaf) not in chosen):
        return
    if g.base is not None or id(g) in assigned or not g.flags.writeable:
        g = g.copy()
    assigned.add(id(g))
    if leaf.grad is None:
        leaf.grad = Tensor(g)
    else:
        leaf.grad = Tensor(leaf.grad.array + g)
    if leaf._post_hooks:
        for hook in list(leaf._post_hooks):
            hook(leaf)


def _leaf_waits(order: list) -> dict | None:
    """For each leaf with post-accumulate hooks: how many graph edges still feed it."""
    waits = {}
    for ctx in order:
        for t, edge in zip(ctx.inputs or (), ctx.edges or ()):
            if t is not None and edge is None and t._post_hooks:
                waits[id(t)] = waits.get(id(t), 0) + 1
    return waits or None


def _arrived(ctx, waits, leaf_grads, captures, assigned, chosen) -> None:
    """``ctx`` has sent its gradients: finish every hooked leaf that now has them all."""
    for t, edge in zip(ctx.inputs or (), ctx.edges or ()):
        if t is None or edge is not None:
            continue
        left = waits.get(id(t))
        if left is None:
            continue
        if left > 1:
            waits[id(t)] = left - 1
            continue
        del waits[id(t)]
        entry = leaf_grads.pop(id(t), None)
        if entry is not None:
            _finish_leaf(entry[0], entry[1], captures, True, assigned, chosen)
