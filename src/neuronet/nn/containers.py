"""Containers, as in PyTorch: Sequential, ModuleList and ModuleDict hold modules;
ParameterList and ParameterDict hold parameters, registered under their index or key (so
``parameters()``, optimizers and ``state_dict`` see them, with PyTorch's key names)."""

from __future__ import annotations

from collections import OrderedDict

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter


class Sequential(Module):
    """Run modules one after another: ``y = m_n(...m_2(m_1(x)))``.

    Children are named ``0``, ``1``, ... (or by the keys of an OrderedDict), as in PyTorch, so
    state-dict keys match (``0.weight``).

    Example:
        >>> from neuronet import nn
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> len(net)
        3
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(
                        f"Sequential argument {i} is {type(m).__name__}, not a Module; "
                        "pass layer instances such as nn.Linear(4, 8), not classes or functions"
                    )
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        keys = list(self._modules.keys())
        if isinstance(idx, slice):
            return Sequential(OrderedDict((k, self._modules[k]) for k in keys[idx]))
        if not -len(keys) <= idx < len(keys):
            raise IndexError(f"index {idx} is out of range for Sequential of length {len(keys)}")
        return self._modules[keys[idx]]

    def __setitem__(self, idx: int, module: Module) -> None:
        keys = list(self._modules.keys())
        setattr(self, keys[idx], module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules.keys())
        targets = keys[idx] if isinstance(idx, slice) else [keys[idx]]
        for k in targets:
            del self._modules[k]
        items = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (children ``0``, ``1``, ...)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {n}")
        return self._modules[str(idx % n)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(idx % len(self)), module)

    def __delitem__(self, idx) -> None:
        items = list(self._modules.values())
        del items[idx]
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward(); iterate over it in your own forward"
        )


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); index it in your own forward")


def _as_parameter(owner: str, where, value) -> Parameter:
    """A Parameter as is; a Tensor wrapped in one (as PyTorch does); anything else refused."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(
        f"{owner}: item {where!r} is a {type(value).__name__}, not a Parameter or Tensor; "
        "wrap arrays with nn.Parameter(nt.tensor(array))"
    )


def _describe(p: Parameter) -> str:
    """PyTorch's line for a parameter in a ParameterList/Dict repr: its dtype and size."""
    size = "x".join(str(d) for d in p.shape)
    return f"Parameter containing: [{p.dtype} of size {size}]"


class ParameterList(Module):
    """A list of parameters registered as ``0``, ``1``, ... (a Tensor is wrapped in a
    Parameter), e.g. one weight per layer of a model built in a loop.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> weights = nn.ParameterList([nn.Parameter(nt.zeros(2)) for _ in range(3)])
        >>> weights.append(nt.ones(2))
        ParameterList(...)
        >>> len(weights), [name for name, _ in weights.named_parameters()]
        (4, ['0', '1', '2', '3'])
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> str:
        if not isinstance(idx, int) or isinstance(idx, bool):
            raise TypeError(f"ParameterList indices must be integers, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"ParameterList index {idx} is out of range for length {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[self._index(idx)]

    def __setitem__(self, idx: int, param) -> None:
        key = self._index(idx)
        self._parameters[key] = _as_parameter("ParameterList", idx, param)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values) -> ParameterList:
        return self.extend(values)

    def append(self, param) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", len(self), param))
        return self

    def extend(self, values) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): {_describe(p)}" for i, p in enumerate(self))

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ParameterList has no forward(); use its parameters in your own forward"
        )


class ParameterDict(Module):
    """A dict of parameters registered under their (string) keys (a Tensor is wrapped in a
    Parameter); ``state_dict`` keys are ``<name>.<key>``, as in PyTorch.

    Example:
        >>> import neuronet as nt
        >>> from neuronet import nn
        >>> scales = nn.ParameterDict({"a": nn.Parameter(nt.ones(2)), "b": nt.zeros(2)})
        >>> sorted(scales.keys()), type(scales["b"]).__name__
        (['a', 'b'], 'Parameter')
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        if key not in self._parameters:
            raise KeyError(f"ParameterDict has no key {key!r}; keys are {list(self._parameters)}")
        return self._parameters[key]

    def __setitem__(self, key: str, param) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ParameterDict keys are non-empty strings without '.', got {key!r}")
        param = _as_parameter("ParameterDict", key, param)
        if key in self._parameters:
            self._parameters[key] = param
        else:
            self.register_parameter(key, param)

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key: str) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def update(self, parameters) -> None:
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, param in items:
            self[key] = param

    def pop(self, key: str) -> Parameter:
        return self._parameters.pop(key)

    def clear(self) -> None:
        self._parameters.clear()

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ParameterDict has no forward(); use its parameters in your own forward"
        )
