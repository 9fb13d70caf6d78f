"""Tensor: one NumPy array plus what reverse-mode autodiff needs to reach it.

A tensor holds ``array`` (a ``numpy.ndarray``; ``.data`` is PyTorch's detached view of it),
``requires_grad``, ``grad`` (a Tensor or None) and, when an op made it while recording,
``_ctx``: the graph node (see ``function.Context``) whose backward gives this tensor's gradient.
Methods that compute (``x.relu()``, ``x + y``, ``x.sum()``) are bound in one table,
``neuronet/ops/tensor_methods.py``, so this file stays small; in-place methods (``add_``,
``x[i] = v``, ...) follow PyTorch's autograd rules, implemented in ``inplace.py``, and
version counters (``_version``) are explained in ``version.py``.

Tensors take part in NumPy's protocols as PyTorch's do: ``np.asarray(t)`` is the array (an
error for a tensor that requires grad, as ``numpy()``), NumPy ufuncs return tensors
(``np.exp(t)``; ``ndarray + t`` is ``t.__radd__``, recorded), and other NumPy functions
(``np.mean(t)``, ``np.concatenate([t, u])``) work on the arrays and return NumPy results.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.device import CPU, check_device, parse_to
from neuronet.printing import format_tensor


def _coerce(data, dtype=None) -> np.ndarray:
    """Turn lists, scalars and NumPy scalars into an array; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.array
    dtype = backend.as_dtype(dtype)
    try:
        arr = np.array(data) if dtype is None else np.array(data, dtype=dtype)
    except (ValueError, TypeError) as error:  # ragged lists, strings for a numeric dtype
        raise TypeError(
            f"cannot make a tensor from this {type(data).__name__} ({error}); give numbers or "
            "nested lists of numbers with the same length at each level"
        ) from None
    if dtype is not None:
        return arr
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
        "_vc",
        "_view",
        "_hooks",
        "_post_hooks",
        "_retain",
        "__weakref__",
    )

    def __init__(self, data, requires_grad: bool = False):
        if type(data) is not np.ndarray:
            data = _coerce(data)
        self.array = data
        self.grad = None
        self._requires_grad = requires_grad
        self._ctx = None
        self._out_index = 0
        self._vc = None  # version counter [version, rebases], made on first use (version.py)
        self._view = None  # (root base tensor, rebases when linked) for views (inplace.py)
        self._hooks = None
        self._post_hooks = None
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
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has had (shared by its views)."""
        return 0 if self._vc is None else self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        if self._vc is None:
            self._vc = [0, 0]
        self._vc[0] = value

    @property
    def _base(self):
        """The tensor this one is a view of (None if it is not a view), as PyTorch's."""
        return None if self._view is None else self._view[0]

    def _is_view(self) -> bool:
        return self._view is not None

    def _refresh_view(self) -> None:
        from neuronet.autograd.inplace import refresh_view

        refresh_view(self)

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: a tensor sharing this storage, outside the graph.

        Changes made through it are not seen by autograd: it has its own version counter, so
        an in-place change through ``.data`` of a tensor saved for backward is not detected
        (use ``detach()``, which shares the counter, or ``no_grad()`` in new code). Assigning
        ``t.data = other`` replaces the storage. The library's own code reaches the NumPy array
        as ``t.array``.
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
        """A tensor sharing this storage and version counter, outside the graph
        (requires_grad=False): in-place changes through it are seen by backward's checks."""
        if self._vc is None:
            self._vc = [0, 0]
        out = Tensor(self.array)
        out._vc = self._vc
        return out

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that does not require grad (in place); returns self."""
        if self._view is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead (it returns a new tensor)"
            )
        self._ctx = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from this tensor: accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: dL/d(self); may be omitted only when self has one element.
            retain_graph: keep saved arrays so backward can run through the graph again.
            create_graph: not supported (higher-order gradients); raises NotImplementedError.
            inputs: accumulate only into these leaves' ``.grad`` (default: every leaf).
        """
        from neuronet.autograd.engine import no_create_graph, run_backward

        no_create_graph(create_graph, "Tensor.backward")
        for observe in BACKWARD_OBSERVERS:  # e.g. doctor.watch: reads the loss (usually none)
            observe(self)
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        run_backward([self], [gradient], retain_graph=bool(retain_graph), only=inputs)

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

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf once its ``.grad`` holds the backward pass's
        gradient, as soon as the engine has it (before the rest of the pass finishes), as
        PyTorch does. Data-parallel training starts communicating gradients from here.
        Returns a handle with ``remove()``."""
        if self._ctx is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors; register "
                "them on the parameters (leaves), or use register_hook on this tensor"
            )
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad; "
                "call .requires_grad_() first"
            )
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        POST_ACCUMULATE_HOOKS[0] += 1
        return _HookHandle(self._post_hooks, hook, POST_ACCUMULATE_HOOKS)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if self._ctx is None or self._retain:
            return
        ref = _weak(self)

        def keep(grad):
            owner = ref()
            if owner is not None:
                owner.grad = grad if owner.grad is None else Tensor(owner.grad.array + grad.array)

        self._retain = keep  # in-place ops move it to the tensor's new node (inplace.py)
        self.register_hook(keep)

    @property
    def retains_grad(self) -> bool:
        return bool(self._retain)

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
    def device(self):
        """Always ``device(type='cpu')``."""
        return CPU

    is_cuda = False

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return self.array.shape
        return self.array.shape[dim]

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    def element_size(self) -> int:
        return self.array.itemsize

    def dim(self) -> int:
        return self.array.ndim

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def numpy(self, force: bool = False) -> np.ndarray:
        """The underlying array (shared, not copied). Raises if the tensor requires grad
        (unless ``force``, which returns a copy of a detached view, as PyTorch's)."""
        if self._requires_grad:
            if force:
                return self.array.copy()
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
        """The values as (nested) Python lists of Python numbers; a number for a 0-d tensor."""
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
        return format_tensor(self)

    # ---- NumPy's protocols ---------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the array itself (an error if ``t`` requires grad)."""
        if self._requires_grad:
            raise RuntimeError(
                "can't convert a tensor that requires grad to a NumPy array (np.asarray, "
                "np.mean, ...); use tensor.detach().numpy() or tensor.detach() first"
            )
        arr = self.array
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy ufuncs on tensors: arithmetic goes to the recorded ops (so ``ndarray + t`` is
        ``t.__radd__``); other ufuncs compute on the arrays and return tensors (``np.exp(t)``)."""
        if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc in _BINARY:
            a, b = inputs
            name = _BINARY[ufunc]
            if isinstance(a, Tensor):
                return getattr(a, name)(b)
            return getattr(b, "__r" + name[2:])(a)
        arrays = [_as_array(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_as_array(x) for x in kwargs["out"])
        result = getattr(ufunc, method)(*arrays, **kwargs)
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        """Other NumPy functions (``np.mean(t)``, ``np.stack([t, u])``) see the arrays."""
        if func in _METADATA:  # they only read shapes or addresses: fine with requires_grad
            return func(*[a.array if isinstance(a, Tensor) else a for a in args], **kwargs)
        return func(*_unwrap(args), **_unwrap(kwargs))

    # ---- conversion (copies; not differentiable across dtype kinds) ----------------------
    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` as PyTorch's;
        the only device is the CPU (anything else raises ``DeviceError``)."""
        dev, dtype, copy = parse_to(args, kwargs)
        check_device(dev)
        out = self
        if dtype is not None and backend.as_dtype(dtype) != self.dtype:
            from neuronet.ops.shape import cast

            out = cast(self, backend.as_dtype(dtype))
        elif copy:
            out = self.clone()
        return out

    def type(self, dtype=None):
        """The dtype's name (no argument), or a copy converted to ``dtype``."""
        if dtype is None:
            return f"neuronet.{self.dtype}"
        return self.to(dtype)

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

    def half(self) -> Tensor:
        return self.to("float16")  # raises: neuronet computes in float32/float64

    def bfloat16(self) -> Tensor:
        return self.to("bfloat16")  # raises, as half()

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device=None, non_blocking=False) -> Tensor:
        """Raises ``DeviceError``, as a PyTorch build without CUDA does."""
        check_device("cuda")
        return self

    # ---- in-place ops (PyTorch's rules: see inplace.py) ----------------------------------
    def _binary_(self, op: str, ufunc, method: str, other) -> Tensor:
        from neuronet.autograd.inplace import modify

        arr = other.array if isinstance(other, Tensor) else other

        def fast():
            ufunc(self.array, arr, out=self.array, casting="same_kind")

        return modify(self, op, lambda old: getattr(old, method)(other), fast, (other,))

    def add_(self, other, alpha=1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return self._binary_("add_", np.add, "__add__", other)

    def sub_(self, other, alpha=1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return self._binary_("sub_", np.subtract, "__sub__", other)

    def mul_(self, other) -> Tensor:
        return self._binary_("mul_", np.multiply, "__mul__", other)

    def div_(self, other) -> Tensor:
        return self._binary_("div_", np.true_divide, "__truediv__", other)

    def pow_(self, exponent) -> Tensor:
        return self._binary_("pow_", np.power, "__pow__", exponent)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        from neuronet.autograd.inplace import put

        return put(self, ..., value, "fill_")

    def copy_(self, src, non_blocking: bool = False) -> Tensor:
        """Copy ``src`` (broadcast to self's shape, converted to self's dtype) into this storage."""
        from neuronet.autograd.inplace import put

        shape = np.shape(src.array if isinstance(src, Tensor) else src)
        try:
            fits = np.broadcast_shapes(shape, self.array.shape) == self.array.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"copy_: source of shape {shape} cannot be broadcast to {self.array.shape}"
            ) from None
        return put(self, ..., src, "copy_")

    def __setitem__(self, index, value) -> None:
        from neuronet.autograd.inplace import put

        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        put(self, index, value)


_BINARY = {
    np.add: "__add__",
    np.subtract: "__sub__",
    np.multiply: "__mul__",
    np.true_divide: "__truediv__",
    np.power: "__pow__",
    np.matmul: "__matmul__",
}


_METADATA = {np.shape, np.ndim, np.size, np.shares_memory, np.may_share_memory}


def _as_array(x):
    return x.__array__() if isinstance(x, Tensor) else x


def _wrap(result):
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    return Tensor(result) if isinstance(result, np.ndarray) else result


def _unwrap(obj):
    if isinstance(obj, Tensor):
        return obj.__array__()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_unwrap(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _unwrap(v) for k, v in obj.items()}
    return obj


# How many post-accumulate hooks are registered in the process: while none are, the engine
# skips the bookkeeping that finds when each leaf's gradient is complete.
POST_ACCUMULATE_HOOKS = [0]

# Callables ``observe(tensor)`` that ``Tensor.backward`` calls first, with the tensor it starts
# from (``doctor.watch`` reads the loss there). Added and removed by their owners.
BACKWARD_OBSERVERS = []


class _HookHandle:
    def __init__(self, hooks: list, hook, counter: list | None = None):
        self._hooks = hooks
        self._hook = hook
        self._counter = counter

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
            if self._counter is not None:
                self._counter[0] -= 1


def _weak(obj):
    import weakref

    return weakref.ref(obj)
