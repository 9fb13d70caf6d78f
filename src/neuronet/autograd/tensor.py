"""Tensor: one NumPy array plus what reverse-mode autodiff needs to reach it.

A tensor holds ``array`` (a ``numpy.ndarray``; ``.data`` is PyTorch's detached view of it),
``requires_grad``, ``grad`` (a Tensor or None) and, when an op made it while recording,
``_ctx``: the graph node (see ``function.Context``) whose backward gives this tensor's gradient.
Methods that compute (``x.relu()``, ``x + y``, ``x.sum()``) are bound in one table,
``neuronet/ops/tensor_methods.py``, so this file stays small.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.grad_mode import STATE


def _coerce(data, dtype=None) -> np.ndarray:
    """Turn lists, scalars and NumPy scalars into an array; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.array
    dtype = backend.as_dtype(dtype)
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.array(data)
    if arr.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)):
        arr = arr.astype(backend.DEFAULT_DTYPE)
    elif arr.dtype.kind in "iu" and arr.dtype != np.int32:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    elif arr.dtype.kind not in "fiub":
        raise TypeError(
            f"cannot make a tensor from {type(data).__name__} of dtype {arr.dtype}; "
            "give numbers, nested lists of numbers or a numeric NumPy array"
        )
    return arr


class Tensor:
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    Build one with ``neuronet.tensor(data)`` (copies) or ``neuronet.from_numpy(arr)`` (shares).
    Only floating-point tensors may require a gradient.
    """

    __slots__ = (
        "array",
        "grad",
        "_requires_grad",
        "_ctx",
        "_out_index",
        "_version",
        "_hooks",
        "_retain",
        "__weakref__",
    )
    __array_ufunc__ = None  # make ``ndarray + tensor`` call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False):
        if type(data) is not np.ndarray:
            data = _coerce(data)
        self.array = data
        self.grad = None
        self._requires_grad = requires_grad
        self._ctx = None
        self._out_index = 0
        self._version = 0
        self._hooks = None
        self._retain = False
        if requires_grad and data.dtype.kind != "f":
            self._requires_grad = False
            self.requires_grad = True  # raises the explanatory error

    # ---- autograd attributes -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if value and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.array.dtype}; "
                "convert first with .float() (or .double())"
            )
        if not value and self._ctx is not None:
            raise RuntimeError(
                "requires_grad can only be turned off on a leaf tensor; use .detach() to get a "
                "tensor outside the graph"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not the result of a recorded op)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor, or None for leaves."""
        return self._ctx

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a tensor sharing this storage, outside the graph.

        Changes made through it are not seen by autograd (prefer ``detach()`` or ``no_grad``
        in new code). Assigning ``t.data = other`` replaces the storage. The library's own code
        reaches the NumPy array as ``t.array``.
        """
        return Tensor(self.array)

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"tensor.data must be assigned a Tensor, got {type(value).__name__}; "
                "wrap arrays with neuronet.from_numpy(...)"
            )
        self.array = value.array

    def detach(self) -> Tensor:
        """A tensor sharing this data but outside the graph (requires_grad=False)."""
        return Tensor(self.array)

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor: accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: dL/d(self); may be omitted only when self has one element.
            retain_graph: keep saved arrays so backward can run through the graph again.
        """
        from neuronet.autograd.engine import run_backward

        run_backward([self], [gradient], retain_graph=retain_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad; "
                "call .requires_grad_() first"
            )
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._ctx.out_hooks is None:
                self._ctx.out_hooks = {}
            hooks = self._ctx.out_hooks.setdefault(self._out_index, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._ctx is None or self._retain:
            return
        self._retain = True
        ref = _weak(self)

        def keep(grad):
            owner = ref()
            if owner is not None:
                owner.grad = grad if owner.grad is None else Tensor(owner.grad.array + grad.array)

        self.register_hook(keep)

    # ---- array attributes ----------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def device(self) -> str:
        return "cpu"

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return self.array.shape
        return self.array.shape[dim]

    def numel(self) -> int:
        return self.array.size

    def dim(self) -> int:
        return self.array.ndim

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied). Raises if the tensor requires grad."""
        if self._requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return self.array

    def item(self):
        """The single element as a Python number."""
        if self.array.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, got shape {self.array.shape}; "
                "reduce it first (e.g. .sum() or .mean())"
            )
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with shape {self.array.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.array)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.array, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.array.dtype != backend.DEFAULT_DTYPE and self.array.dtype != np.int64:
            extras.append(f"dtype=neuronet.{self.array.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.fn.__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---- conversion (copies; not differentiable) -----------------------------------------
    def to(self, dtype=None, *args, **kwargs) -> Tensor:
        """Convert to ``dtype`` (``'cpu'`` as a device is accepted and ignored)."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        from neuronet.ops.shape import cast

        return cast(self, backend.as_dtype(dtype))

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        return self.to(backend.bool_)

    def cpu(self) -> Tensor:
        return self

    # ---- in-place ops (allowed only where autograd cannot be hurt) -----------------------
    def _check_inplace(self, op: str) -> None:
        if STATE.enabled and (self._requires_grad or self._ctx is not None):
            raise RuntimeError(
                f"in-place {op} on a tensor that requires grad (shape {self.array.shape}) would "
                "corrupt the gradient; use the out-of-place form (y = x + 1) or wrap the update "
                "in `with neuronet.no_grad():`"
            )
        self._version += 1

    def _inplace(self, op: str, ufunc, other) -> Tensor:
        self._check_inplace(op)
        other = other.array if isinstance(other, Tensor) else other
        ufunc(self.array, other, out=self.array, casting="same_kind")
        return self

    def add_(self, other, alpha=1) -> Tensor:
        if alpha != 1:
            other = (other.array if isinstance(other, Tensor) else other) * alpha
        return self._inplace("add_", np.add, other)

    def sub_(self, other, alpha=1) -> Tensor:
        if alpha != 1:
            other = (other.array if isinstance(other, Tensor) else other) * alpha
        return self._inplace("sub_", np.subtract, other)

    def mul_(self, other) -> Tensor:
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other) -> Tensor:
        return self._inplace("div_", np.true_divide, other)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def zero_(self) -> Tensor:
        self._check_inplace("zero_")
        self.array[...] = 0
        return self

    def fill_(self, value) -> Tensor:
        self._check_inplace("fill_")
        self.array[...] = value
        return self

    def copy_(self, src) -> Tensor:
        """Copy ``src`` (broadcast to self's shape) into this tensor's storage."""
        self._check_inplace("copy_")
        src = src.array if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.copyto(self.array, np.broadcast_to(src, self.array.shape), casting="unsafe")
        except ValueError:
            raise ValueError(
                f"copy_: source of shape {src.shape} cannot be broadcast to {self.array.shape}"
            ) from None
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace("assignment (x[i] = v)")
        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        self.array[index] = value.array if isinstance(value, Tensor) else value


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _weak(obj):
    import weakref

    return weakref.ref(obj)
