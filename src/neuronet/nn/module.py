"""Module: the base class of every layer and model.

A Module owns parameters, buffers and child modules, found by attribute assignment as in
PyTorch: ``self.weight = Parameter(...)`` registers a parameter, ``self.fc = Linear(...)`` a child,
``self.register_buffer("running_mean", t)`` a buffer. Names in ``state_dict`` are the attribute
paths (``encoder.0.weight``), identical to PyTorch's for the same layers, so state dicts move
between the two unchanged.

Every module knows where it sits in its model (``module_path()``, e.g. ``encoder.2``), so a layer
that rejects its input can say which layer it is.
"""

from __future__ import annotations

import re
import weakref
from collections import OrderedDict, namedtuple

import numpy as np

from neuronet.autograd.anomaly import module_call
from neuronet.autograd.engine import ANOMALY
from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.backend import as_dtype
from neuronet.device import check_device, parse_to
from neuronet.nn.parameter import Parameter

_OP_PREFIX = re.compile(r"^[a-z_][a-z0-9_.]*: ")
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _Handle:
    def __init__(self, hooks: dict, key: int):
        self._hooks = hooks
        self._key = key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


def _register(hooks: dict, hook, module) -> _Handle:
    key = id(hook) ^ len(hooks) ^ id(module)
    while key in hooks:
        key += 1
    hooks[key] = hook
    return _Handle(hooks, key)


def _as_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class for all layers and models. Subclasses define ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "_name", "")
        object.__setattr__(self, "training", True)

    # ---- registration ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called; call "
                "super().__init__() first in your module's __init__"
            )
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            d.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            d.pop(name, None)
            modules[name] = value
            # The first live parent names the module; a module reused elsewhere (a Sequential
            # slice, a shared block) keeps the path it has in its original model.
            current = value._parent() if value._parent is not None else None
            if current is None or current is self:
                object.__setattr__(value, "_parent", weakref.ref(self))
                object.__setattr__(value, "_name", name)
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected); wrap it: nn.Parameter(value)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(Module or None expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to buffer {name!r}; use a Tensor or None"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional parameter such as ``bias``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register {type(param).__name__} as parameter {name!r}; "
                "wrap it in nn.Parameter"
            )
        self._check_new_name(name, self._parameters)
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not learnable (e.g. BatchNorm's running_mean).

        Persistent buffers are saved in ``state_dict``; non-persistent ones are not.
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"buffer {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(
                f"register_buffer: a buffer name must be a non-empty string without '.', "
                f"got {name!r}"
            )
        self._check_new_name(name, self._buffers)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def _check_new_name(self, name: str, own_store: dict) -> None:
        """Refuse a name already used by another kind of member (as torch: KeyError)."""
        taken = [self._parameters, self._buffers, self._modules]
        if any(name in store for store in taken if store is not own_store):
            raise KeyError(f"attribute '{name}' already exists")

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child called ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if module is None:
            self._modules[name] = None
        else:
            setattr(self, name, module)

    register_module = add_module

    def __deepcopy__(self, memo):
        """A deep copy whose children point at the copy (not at the original) as their parent."""
        import copy

        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key != "_parent":
                object.__setattr__(new, key, copy.deepcopy(value, memo))
        object.__setattr__(new, "_parent", None)
        for child in new._modules.values():
            if child is not None:
                object.__setattr__(child, "_parent", weakref.ref(new))
        return new

    # ---- where am I -----------------------------------------------------------------------
    def module_path(self) -> str:
        """This module's path in its model (``"encoder.2"``); ``""`` for the root."""
        parts = []
        node = self
        while node._parent is not None:
            parent = node._parent()
            if parent is None:
                break
            parts.append(node._name)
            node = parent
        return ".".join(reversed(parts))

    def describe(self) -> str:
        """``"Linear at 'encoder.2'"``: how errors name this module."""
        path = self.module_path()
        return f"{type(self).__name__} at '{path}'" if path else type(self).__name__

    def relabel(self, err: Exception) -> Exception:
        """``err`` from the op this module ran, named after the module instead: the op's
        prefix (``max_pool2d: ``) gives way to ``describe()`` (one prefix, never two)."""
        return type(err)(f"{self.describe()}: {_OP_PREFIX.sub('', str(err), count=1)}")

    # ---- traversal --------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(path, module)`` for this module and every descendant, depth first."""
        stack = [(prefix, self)]
        seen = set()
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{k}" if name else k, m)
                for k, m in module._modules.items()
                if m is not None
            ]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """Yield ``(name, parameter)`` pairs; a parameter shared by two layers appears once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and bulk changes -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch statistics) on this module and children."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off, running statistics)."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (to None by default, as PyTorch)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every child (recursively), then on self; return self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Convert floating parameters and buffers in place, as PyTorch's ``Module.to``:
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``. The only device
        is the CPU (``'cuda'`` raises ``DeviceError``); dtype names (``'float64'``) work too."""
        dev, dtype, _ = parse_to(args, kwargs)
        check_device(dev, f"{type(self).__name__}'s parameters")
        if dtype is None:
            return self
        dtype = as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(
                "nn.Module.to only accepts floating point dtypes, but got desired dtype="
                f"{dtype}; a model's parameters stay floating point: convert the input instead "
                "(x.float())"
            )
        for t in list(self.parameters()) + list(self.buffers()):
            if t.array.dtype.kind == "f":
                t.array = t.array.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor(t.grad.array.astype(dtype))
        return self

    def float(self) -> Module:
        return self.to("float32")

    def double(self) -> Module:
        return self.to("float64")

    def half(self) -> Module:
        return self.to("float16")  # raises: neuronet computes in float32/float64

    def bfloat16(self) -> Module:
        return self.to("bfloat16")  # raises, as half()

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        """Raises ``DeviceError``, as a PyTorch build without CUDA does."""
        check_device("cuda", f"{type(self).__name__}'s parameters")
        return self

    # ---- calling ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); subclasses of Module must define it"
        )

    def __call__(self, *args, **kwargs):
        if ANOMALY.enabled:  # anomaly mode: keep the module call stack (autograd/anomaly.py)
            return module_call(self, args, kwargs)
        if not (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)  # the usual case: no hooks
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        if self._backward_hooks or self._backward_pre_hooks:
            from neuronet.nn.backward_hooks import call_with_backward_hooks

            out = call_with_backward_hooks(self, args, lambda a: self.forward(*a, **kwargs))
        else:
            out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook) -> _Handle:
        """Call ``hook(module, inputs, output)`` after every forward; a returned value replaces
        the output. Returns a handle with ``remove()``."""
        key = id(hook) ^ len(self._forward_hooks) ^ id(self)
        while key in self._forward_hooks:
            key += 1
        self._forward_hooks[key] = hook
        return _Handle(self._forward_hooks, key)

    def register_full_backward_hook(self, hook) -> _Handle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional inputs are computed; a returned tuple replaces grad_input
        (``nn/backward_hooks.py``). Returns a handle with ``remove()``."""
        return _register(self._backward_hooks, hook, self)

    def register_full_backward_pre_hook(self, hook) -> _Handle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are computed, before those of its inputs; a returned tuple replaces them."""
        return _register(self._backward_pre_hooks, hook, self)

    def register_forward_pre_hook(self, hook) -> _Handle:
        """Call ``hook(module, inputs)`` before every forward; a returned value replaces inputs."""
        key = id(hook) ^ len(self._forward_pre_hooks) ^ id(self)
        while key in self._forward_pre_hooks:
            key += 1
        self._forward_pre_hooks[key] = hook
        return _Handle(self._forward_pre_hooks, key)

    # ---- state dict ---------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name, sharing memory with the module."""
        out = OrderedDict()
        # remove_duplicate=False: a module used twice is saved under both paths, as torch does
        named = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for mod_prefix, module in named:
            pre = f"{mod_prefix}." if mod_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[pre + name] = p if keep_vars else Tensor(p.array)
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[pre + name] = b if keep_vars else Tensor(b.array)
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into this module's parameters and buffers.

        Everything is checked before anything is copied, so a failed load changes nothing.
        Values may be neuronet tensors, NumPy arrays or PyTorch tensors.

        Raises:
            RuntimeError: listing missing keys, unexpected keys (when ``strict``) and any shape
                mismatch, with the fix.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        arrays = {}
        mismatched = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            arr = _as_array(state_dict[k])
            if arr.shape != target.array.shape:
                mismatched.append(
                    f"  {k}: checkpoint has shape {tuple(arr.shape)}, "
                    f"this model has {tuple(target.array.shape)}"
                )
            arrays[k] = arr
        problems = []
        if strict and missing:
            problems.append("Missing key(s): " + ", ".join(missing))
        if strict and unexpected:
            problems.append("Unexpected key(s): " + ", ".join(unexpected))
        if mismatched:
            problems.append("Size mismatch:\n" + "\n".join(mismatched))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n"
                + "\n".join(problems)
                + "\nCheck that the checkpoint was saved from the same architecture and config "
                "(or pass strict=False to load only the matching keys)."
            )
        with no_grad():
            for k, arr in arrays.items():
                np.copyto(own[k].array, arr, casting="unsafe")
                own[k]._version += 1
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The hyperparameters shown in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
