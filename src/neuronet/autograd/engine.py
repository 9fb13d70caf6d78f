"""The backward engine: one pass over the graph in reverse topological order.

``run_backward`` seeds dL/d(root), sorts the reachable graph nodes with an iterative depth-first
search (no recursion, so a 10,000-op chain is fine), then calls each node's ``backward`` once,
after every node that consumes its outputs has contributed. Gradients reaching a leaf are summed
over the whole pass, passed through the leaf's hooks, then added to ``leaf.grad``. Unless
``retain_graph`` is set, each node drops its saved arrays and inputs as soon as it has run, so
activation memory is released during the pass and a second backward is a clear error.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.allocator import keep_freed_memory
from neuronet.autograd.tensor import Tensor

_ALLOCATOR = {"tuned": False}

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved arrays after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time."
)


class _AnomalyMode:
    enabled = False


ANOMALY = _AnomalyMode()


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
            inputs = node.inputs
            if inputs is None:  # freed: no edges to follow; the error comes when it runs
                inputs = ()
            while i < len(inputs):
                t = inputs[i]
                i += 1
                if t is not None:
                    parent = t._ctx
                    if parent is not None and parent not in visited:
                        visited.add(parent)
                        stack[-1] = (node, i)
                        stack.append((parent, 0))
                        break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _version_error(ctx, t, v) -> RuntimeError:
    return RuntimeError(
        f"one of the tensors needed for the gradient of {ctx.fn.__name__} (shape "
        f"{t.shape}) was modified by an in-place operation after it was used (version "
        f"{v}, now {t._version}); make a copy before changing it, or change it out of place"
    )


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


def run_backward(roots, root_grads, retain_graph=False, inputs=None, accumulate=True):
    """Backpropagate from ``roots``. Returns the gradients of ``inputs`` when given."""
    if not _ALLOCATOR["tuned"]:  # once per process: reuse freed memory between steps
        _ALLOCATOR["tuned"] = True
        keep_freed_memory()
    pending = {}  # graph node -> list of output gradients
    leaf_grads = {}  # id(leaf) -> [leaf, summed gradient]
    captures = {}
    if inputs is not None:
        for t in inputs:
            if not t.requires_grad:
                raise RuntimeError(
                    f"an input tensor (shape {t.shape}) does not require grad, so it has no "
                    "gradient; set requires_grad=True on it"
                )
            captures[id(t)] = None

    def send(t: Tensor, g: np.ndarray) -> None:
        if g.dtype != t.array.dtype:
            g = g.astype(t.array.dtype)
        node = t._ctx
        if node is None:
            entry = leaf_grads.get(id(t))
            if entry is None:
                leaf_grads[id(t)] = [t, g]
            else:
                entry[1] = entry[1] + g
            return
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * node.n_outputs
        k = t._out_index
        slots[k] = g if slots[k] is None else slots[k] + g

    for root, g in zip(roots, root_grads):
        send(root, _seed(root, g))

    out_tensors = {}
    if captures:
        for t in inputs:
            if t._ctx is not None:
                out_tensors[(id(t._ctx), t._out_index)] = t

    anomaly = ANOMALY.enabled
    if anomaly:
        from neuronet.autograd.anomaly import check_gradient
    for ctx in _topological_order([r._ctx for r in roots]):
        grads = pending.pop(ctx, None)
        if grads is None:
            continue
        if ctx.freed:
            raise RuntimeError(_FREED)
        if ctx.out_hooks:
            for k, hooks in ctx.out_hooks.items():
                for hook in hooks:
                    if grads[k] is not None:
                        replaced = hook(Tensor(grads[k]))
                        if replaced is not None:
                            grads[k] = replaced.array if isinstance(replaced, Tensor) else replaced
        if out_tensors:
            for k, g in enumerate(grads):
                t = out_tensors.get((id(ctx), k))
                if t is not None and g is not None:
                    captures[id(t)] = g
        for t, v in ctx.versions:
            if t._version != v:
                raise _version_error(ctx, t, v)
        result = _call_backward(ctx, grads)
        for t, g in zip(ctx.inputs, result):
            if t is None or g is None:
                continue
            data = t.array
            if g.shape != data.shape:
                raise RuntimeError(
                    f"{ctx.fn.__name__}.backward returned a gradient of shape {g.shape} for an "
                    f"input of shape {data.shape}; they must match"
                )
            if anomaly:  # NaN/Inf check naming the op, module and line (autograd/anomaly.py)
                check_gradient(ctx, t, g, grads)
            # send(t, g), inlined: this loop runs once per edge of the graph
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            node = t._ctx
            if node is None:
                entry = leaf_grads.get(id(t))
                if entry is None:
                    leaf_grads[id(t)] = [t, g]
                else:
                    entry[1] = entry[1] + g
                continue
            slots = pending.get(node)
            if slots is None:
                slots = pending[node] = [None] * node.n_outputs
            k = t._out_index
            slots[k] = g if slots[k] is None else slots[k] + g
        if not retain_graph:
            ctx.saved = ()
            ctx.inputs = None
            ctx.versions = ()
            ctx.freed = True

    return _finish_leaves(leaf_grads, captures, inputs, accumulate)


def _finish_leaves(leaf_grads, captures, inputs, accumulate):
    assigned = set()
    for leaf, g in leaf_grads.values():
        if leaf._hooks:
            for hook in leaf._hooks:
                replaced = hook(Tensor(g))
                if replaced is not None:
                    g = replaced.array if isinstance(replaced, Tensor) else replaced
        if id(leaf) in captures:
            captures[id(leaf)] = g
        if not accumulate:
            continue
        if g.base is not None or id(g) in assigned or not g.flags.writeable:
            g = g.copy()
        assigned.add(id(g))
        if leaf.grad is None:
            leaf.grad = Tensor(g)
        else:
            leaf.grad = Tensor(leaf.grad.array + g)
    if inputs is None:
        return None
    return [captures[id(t)] for t in inputs]
