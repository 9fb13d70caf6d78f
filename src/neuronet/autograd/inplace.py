"""In-place ops under autograd: when they are allowed, and how the graph follows them.

The rules are PyTorch's:

- Outside grad mode (``no_grad``, an optimizer step) an in-place op just writes the storage and
  bumps the tensor's version counter (``version.py``).
- In grad mode, a leaf that requires grad (a parameter) may not be changed in place, nor may a
  view of one: the change would be invisible to the gradient. Wrap such updates in
  ``no_grad()``.
- Any other tensor may be changed in place, and the change is recorded: ``y.add_(b)`` computes
  ``y_old + b`` with the ordinary differentiable op (on a copy of y's values, so that op's own
  saved arrays stay valid), writes the result into y's storage, and makes the new node y's
  ``grad_fn`` (PyTorch calls this rebasing y's history). Nodes that consumed y before keep the
  edge to y's old node, so their gradients stay right. If something saved y's old values for
  backward, y's bumped version makes that backward raise (``version.check_saved``).
- When y is a view of a base B (``y = B[0]``), the change lands in B's storage, so B gets the
  new node: ``B_new = PutAt(B_old, result, positions)`` (B with y's elements replaced; PyTorch's
  CopySlices), and y becomes ``TakeAt(B_new, positions)``. Other views of B made before refresh
  to ``TakeAt(B_new, their positions)`` the next time an op uses them (``Tensor._refresh_view``).

``positions`` are row-major indices into the base, computed from the two arrays' memory
addresses, so any view NumPy can make (slices, transposes, reshapes, diagonals) is handled.
"""

from __future__ import annotations

import re

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.grad_mode import STATE
from neuronet.autograd.tensor import Tensor
from neuronet.autograd.version import counter

__all__ = ["modify", "put", "positions", "PutAt", "TakeAt"]


class PutAt(Function):
    """y = x, then y.flat[P] = v (v broadcast to P's shape; P: row-major positions in x);
    dL/dx = dL/dy with 0 at P;  dL/dv = dL/dy.flat[P] (summed over v's broadcast axes).
    Saves: P.

    ``written`` (internal): the result is already in this array (a view's base written in
    place), so forward returns it instead of building a copy of x.
    """

    @staticmethod
    def forward(ctx, x, v, pos, written=None):
        ctx.meta = (x.shape, np.shape(v), pos)
        if written is not None:
            return written
        out = np.array(x, order="C")
        out.reshape(-1)[pos.ravel()] = np.broadcast_to(v, pos.shape).ravel()
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x_shape, v_shape, pos = ctx.meta
        grad_x = grad_v = None
        if ctx.needs_input_grad[0]:
            grad_x = np.array(grad_out, order="C")
            grad_x.reshape(-1)[pos.ravel()] = 0
        if ctx.needs_input_grad[1]:
            picked = np.ascontiguousarray(grad_out).reshape(-1)[pos]
            extra = picked.ndim - len(v_shape)
            grad_v = picked.sum(axis=tuple(range(extra))) if extra > 0 else picked
            axes = tuple(i for i, n in enumerate(v_shape) if n == 1 and grad_v.shape[i] != 1)
            grad_v = grad_v.sum(axis=axes, keepdims=True) if axes else grad_v
        return grad_x, grad_v, None


class TakeAt(Function):
    """y = x.flat[P] (P: row-major positions in x, with y's shape);  dL/dx = zeros with dL/dy
    added at P.  Saves: P.

    ``current`` (internal): the view's existing array, returned as is so y keeps its storage.
    """

    @staticmethod
    def forward(ctx, x, pos, current=None):
        ctx.meta = (x.shape, pos)
        if current is not None:
            return current
        return np.ascontiguousarray(x).reshape(-1)[pos]

    @staticmethod
    def backward(ctx, grad_out):
        x_shape, pos = ctx.meta
        grad = np.zeros(int(np.prod(x_shape)), dtype=grad_out.dtype)
        np.add.at(grad, pos.ravel(), np.ravel(grad_out))
        return grad.reshape(x_shape), None


def _addresses(a: np.ndarray) -> np.ndarray:
    """The memory address of every element of ``a``, with ``a``'s shape."""
    addr = np.full((1,) * a.ndim, a.__array_interface__["data"][0], dtype=np.int64)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        step = np.arange(n, dtype=np.int64) * stride
        addr = addr + step.reshape((1,) * axis + (n,) + (1,) * (a.ndim - axis - 1))
    return np.broadcast_to(addr, a.shape)


def positions(view: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Row-major indices into ``base`` of each element of ``view`` (which must lie in it)."""
    base_addr = _addresses(base).ravel()
    order = np.argsort(base_addr, kind="stable")
    ordered = base_addr[order]
    view_addr = _addresses(view)
    found = np.minimum(np.searchsorted(ordered, view_addr), ordered.size - 1)
    if ordered.size == 0 or not np.array_equal(ordered[found], view_addr):
        raise RuntimeError("internal error: a view's elements are not all inside its base")
    return order[found]


def _alias(t: Tensor, array: np.ndarray) -> Tensor:
    """A tensor on ``array`` standing for ``t``'s current place in the graph."""
    a = Tensor(array)
    a._requires_grad = t._requires_grad
    a._ctx = t._ctx
    a._out_index = t._out_index
    return a


def _rebase(t: Tensor, new: Tensor) -> None:
    """Give ``t`` the graph node that made ``new`` (its value is already in t's storage)."""
    keep = t._retain
    if keep and t._ctx is not None and t._ctx.out_hooks:
        hooks = t._ctx.out_hooks.get(t._out_index, [])
        if keep in hooks:
            hooks.remove(keep)
    t._ctx = new._ctx
    t._out_index = new._out_index
    t._requires_grad = new._requires_grad
    if keep and t._ctx is not None:
        t._retain = False
        t.retain_grad()


def _leaf_error(t: Tensor, op: str) -> RuntimeError | None:
    if t._requires_grad and t._ctx is None:
        return RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation "
            f"({op} on a tensor of shape {t.shape}). Wrap the change in "
            "`with neuronet.no_grad():` (as optimizers do), or compute a new tensor (y = x + 1)"
        )
    if t._view is not None:
        base = t._view[0]
        if base._requires_grad and base._ctx is None:
            return RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation ({op} on a view of a tensor of shape {base.shape}). Wrap it in "
                "`with neuronet.no_grad():`, or change a copy (v = x[...].clone())"
            )
        if base._requires_grad and not t._requires_grad:
            return RuntimeError(
                f"{op}: a view made in no_grad mode is being modified in place with grad mode "
                "enabled, and its base requires grad; make the view outside no_grad, or "
                "change it inside no_grad too"
            )
    return None


def _cast_error(op: str, result, target: Tensor) -> RuntimeError:
    return RuntimeError(
        f"{op}: result type {result} can't be cast to the desired output type "
        f"{target.dtype} (in-place ops keep the tensor's dtype); use the out-of-place form "
        f"(y = x ...), or convert first (x = x.float())"
    )


def modify(target: Tensor, op: str, compute, fast, others=()) -> Tensor:
    """Run in-place op ``op`` on ``target`` under PyTorch's rules (see the module docstring).

    ``fast()`` writes the result into ``target.array`` directly (no graph to record);
    ``compute(old)`` returns the out-of-place result as a Tensor, given a tensor standing for
    ``target`` before the change. ``others`` are the op's other tensor operands.
    """
    if STATE.enabled:
        error = _leaf_error(target, op)
        if error is not None:
            raise error
    record = STATE.enabled and (
        target._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )
    if not record:
        try:
            fast()
        except TypeError as err:  # NumPy's casting error (e.g. float into an int tensor)
            if "cast" not in str(err):
                raise
            raise _cast_error(op, _result_dtype(err, target), target) from None
        except ValueError as err:
            raise _shape_error(op, err, target) from None
        counter(target)[0] += 1
        return target
    if target._view is not None and target._view[1] != target._vc[1]:
        target._refresh_view()
    result = compute(_alias(target, target.array.copy()))
    if result.shape != target.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(target.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    if result.dtype != target.dtype:
        if not np.can_cast(result.dtype, target.dtype, "same_kind"):
            raise _cast_error(op, result.dtype, target)
        result = result.to(target.dtype)
    np.copyto(target.array, result.array)
    vc = counter(target)
    vc[0] += 1
    if target._view is None:
        _rebase(target, result)
        vc[1] += 1  # views of target made before now refresh their nodes
        return target
    base = target._view[0]
    pos = positions(target.array, base.array)
    _rebase(base, PutAt.apply(_alias(base, base.array), result, pos, written=base.array))
    vc[1] += 1
    _rebase(target, TakeAt.apply(base, pos, current=target.array))
    target._view = (base, vc[1])
    return target


def refresh_view(view: Tensor) -> None:
    """Point a view whose base got a new node at it: ``view = TakeAt(base, its positions)``."""
    base, _ = view._view
    if base._requires_grad:
        pos = positions(view.array, base.array)
        with_grad = STATE.enabled
        STATE.enabled = True
        try:
            _rebase(view, TakeAt.apply(base, pos, current=view.array))
        finally:
            STATE.enabled = with_grad
    view._view = (base, base._vc[1])


def put(target: Tensor, index, value, op: str = "assignment (x[i] = v)") -> Tensor:
    """``target[index] = value`` (also ``fill_``, ``zero_`` and ``copy_``, with ``index=...``)."""
    if isinstance(value, Tensor):
        value_array = value.array
    else:
        value_array = np.asarray(value)

    def fast():
        target.array[index] = value_array

    def compute(old):
        pos = np.arange(old.array.size).reshape(old.shape)[index]
        if not isinstance(pos, np.ndarray):
            pos = np.asarray(pos)
        v = value if isinstance(value, Tensor) else value_array.astype(old.dtype, copy=False)
        return PutAt.apply(old, v, pos)

    return modify(target, op, compute, fast, (value,))


def _result_dtype(err: Exception, target: Tensor) -> str:
    found = re.search(r"from dtype\('(\w+)'\)", str(err))
    return found.group(1) if found else "of the operands"


def _shape_error(op: str, err: ValueError, target: Tensor) -> Exception:
    if "broadcast" in str(err) or "shape" in str(err):
        return RuntimeError(
            f"{op}: output with shape {list(target.shape)} doesn't match the broadcast shape of "
            f"the operands ({err}); an in-place op cannot change a tensor's shape"
        )
    return err
