"""Optimizer: the base class that owns parameter groups, per-parameter state and the step loop.

An algorithm (``SGD``, ``Adam``, ...) subclasses it and writes two small methods, as in MLX and
Keras:

- ``init_state(param, group) -> dict``: the state one parameter needs, under PyTorch's key names
  (``step``, ``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``,
  ``square_avg``, ``grad_avg``, ``sum``). Created lazily, on the parameter's first step.
- ``update(param, grad, state, group)``: change ``param.array`` and the state arrays in place
  (``np.multiply(..., out=...)`` and friends, or a fused numba kernel), allocating nothing per
  parameter per step.

``state_dict()`` has PyTorch's layout::

    {"state": {0: {"step": 3, "exp_avg": ndarray, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}]}

Parameters are numbered in group order. Everything in it is an array or a JSON-able scalar
(no pickle is needed to store it: checkpoints write the arrays to safetensors and the rest to
JSON), and ``load_state_dict`` accepts string keys and lists where JSON turned tuples into lists.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict

import numpy as np

from neuronet.autograd.grad_mode import enable_grad
from neuronet.autograd.tensor import Tensor


class Optimizer:
    """Base class of every optimizer.

    Args:
        params: an iterable of Parameters (or of ``(name, Parameter)`` pairs), or of dicts that
            define parameter groups: ``{"params": [...], "lr": 0.1, ...}``; options a group does
            not set come from ``defaults``.
        defaults: the algorithm's default options.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (list of Parameters) and the options.
        state: dict keyed by Parameter, holding that parameter's state dict.
        defaults: the options a new group starts from.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got a single {type(params).__name__}; pass [param] or "
                "model.parameters()"
            )
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._scratch: dict = {}
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list; does the model have parameters (and "
                "was model.parameters() consumed already by another call)?"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- what an algorithm implements -----------------------------------------------------
    def check_options(self, options: dict) -> None:
        """Raise ValueError for invalid hyperparameters (run on defaults and on every group)."""

    def validate(self, options: dict) -> None:
        """Numbers first (a hyperparameter given as a string, or NaN, or an infinite learning
        rate, is refused naming the optimizer), then the algorithm's ``check_options``."""
        owner = type(self).__name__
        for key, value in options.items():
            items = value if key == "betas" and isinstance(value, (tuple, list)) else (value,)
            for v in items:
                if key in _NUMERIC and (isinstance(v, (bool, str)) or v is None):
                    raise TypeError(f"{owner}: {key} must be a number, got {v!r}")
                if isinstance(v, (float, np.floating)) and math.isnan(v):
                    raise ValueError(f"{owner}: {key} is nan; give a number")
        lr = options.get("lr")
        if isinstance(lr, (int, float, np.number)) and not math.isfinite(lr):
            raise ValueError(f"Invalid learning rate: {lr} ({owner}: lr must be finite)")
        self.check_options(options)

    def init_state(self, param: Tensor, group: dict) -> dict:
        """The state of ``param`` before its first update (PyTorch's key names)."""
        return {}

    def update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """Apply one step to ``param.array`` in place, given its gradient array ``grad``."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    # ---- groups --------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. to unfreeze layers later)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry (a list of Parameters)")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            params = [p[1] for p in params]
            group["param_names"] = names
        for p in params:
            _check_param(p)
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self.validate(group)
        if len({id(p) for p in params}) != len(params):
            raise ValueError(
                "optimizer contains a parameter group with duplicate parameters; each parameter "
                "may appear once (it would otherwise be updated twice per step)"
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ---- the step loop ---------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default), or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.array.flags.writeable:
                    p.grad.array.fill(0)
                else:
                    p.grad = Tensor(np.zeros_like(p.grad.array))

    def step(self, closure=None):
        """Update every parameter that has a gradient; parameters whose ``grad`` is None are
        skipped. ``closure`` (optional) re-evaluates the model and returns the loss; it runs
        with gradients enabled, and its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.array
                if grad.shape != p.array.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: a parameter of shape {p.array.shape} has a "
                        f"gradient of shape {grad.shape}; they must match"
                    )
                if grad.dtype != p.array.dtype:
                    grad = grad.astype(p.array.dtype)
                state = self.state[p]
                if not state:
                    state.update(self.init_state(p, group))
                self.update(p, grad, state, group)
                p._version += 1
        return loss

    def scratch(self, like: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable work array with ``like``'s shape and dtype (contents undefined).

        One flat buffer per (dtype, slot), grown to the largest parameter and sliced, so the
        NumPy update paths allocate nothing per step."""
        key = (like.dtype.str, slot)
        buf = self._scratch.get(key)
        if buf is None or buf.size < like.size:
            buf = np.empty(like.size, dtype=like.dtype)
            self._scratch[key] = buf
        return buf[: like.size].reshape(like.shape)

    # ---- state dict ------------------------------------------------------------------------
    def _index(self) -> dict:
        index = {}
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
        return index

    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout (arrays are copies; scalars are JSON-able).

        Callable group options (e.g. LAMB's exclusion functions) are stored as None, and
        ``load_state_dict`` keeps the optimizer's own callable in their place."""
        index = self._index()
        groups = []
        for group in self.param_groups:
            packed = {k: _jsonable(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = {
                        k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state saved by ``state_dict`` (from this or an identical optimizer).

        Raises ValueError when the saved state does not fit: a different number of groups or
        of parameters in a group, or a state array whose shape differs from its parameter's."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "load_state_dict expects the dict returned by optimizer.state_dict(), with keys "
                "'state' and 'param_groups'"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(self.param_groups)} in this optimizer; it was "
                "saved from an optimizer built with other param groups"
            )
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(saved['params'])} parameters "
                    f"saved but {len(group['params'])} here; was it saved for another model?"
                )
        by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for saved_id, p in zip(saved["params"], group["params"]):
                by_index[int(saved_id)] = p
        new_state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(
                    f"loaded state dict has state for parameter {key}, which no group refers to"
                )
            new_state[p] = {k: _restore_value(k, v, p, key) for k, v in values.items()}
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {}
            for k, v in saved.items():
                if k == "params":
                    continue
                current = group.get(k)
                if v is None and callable(current):
                    v = current
                elif isinstance(current, tuple) and isinstance(v, list):
                    v = tuple(v)
                new[k] = v
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    @classmethod
    def param_groups_for(cls, model, weight_decay: float | None = None) -> list[dict]:
        """Split a model's parameters into a decayed group (matrices, conv kernels, embeddings:
        ``ndim >= 2``) and a group without weight decay (biases and norm scales: ``ndim <= 1``).

        Args:
            model: a Module, or an iterable of Parameters.
            weight_decay: the decayed group's weight decay (default: the optimizer's).

        Example:
            >>> from neuronet import optim
            >>> from neuronet.nn import Parameter
            >>> import numpy as np
            >>> w, b = Parameter(np.ones((2, 2))), Parameter(np.zeros(2))
            >>> opt = optim.AdamW(optim.AdamW.param_groups_for([w, b]), lr=1e-3)
            >>> [g["weight_decay"] for g in opt.param_groups]
            [0.01, 0.0]
        """
        params = list(model.parameters() if hasattr(model, "parameters") else model)
        decay = {"params": [p for p in params if p.ndim >= 2]}
        if weight_decay is not None:
            decay["weight_decay"] = weight_decay
        no_decay = {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}
        return [g for g in (decay, no_decay) if g["params"]]


_NUMERIC = (
    "lr",
    "momentum",
    "dampening",
    "weight_decay",
    "eps",
    "alpha",
    "lr_decay",
    "betas",
    "initial_accumulator_value",
)


def _check_param(p) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(
            f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
        )
    if not p.is_leaf:
        raise ValueError("can't optimize a non-leaf Tensor")
    if p.array.dtype.kind != "f":
        raise TypeError(
            f"optimizer can only optimize floating-point tensors, but one of the params has "
            f"dtype {p.array.dtype}"
        )


def _jsonable(value):
    if callable(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore_value(key: str, value, param: Tensor, index):
    if key == "step":
        return int(float(np.asarray(value)))
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, Tensor):
        value = value.array
    if isinstance(value, (np.ndarray, list)):
        arr = np.array(value)
        if arr.ndim > 0 and arr.shape != param.array.shape:
            raise ValueError(
                f"loaded state dict has state {key!r} of shape {arr.shape} for parameter "
                f"{index}, whose shape is {param.array.shape}; the state dict belongs to a "
                "different model"
            )
        if arr.dtype.kind == "f":
            arr = arr.astype(param.array.dtype)
        return arr
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    warnings.warn(f"loaded optimizer state {key!r} has unexpected type {type(value).__name__}")
    return value


def bias_corrections(beta1: float, beta2: float, step: int) -> tuple:
    """Adam's ``(1 - beta1**t, (1 - beta2**t) ** 0.5)`` in Python floats, as torch computes
    them."""
    return 1 - beta1**step, (1 - beta2**step) ** 0.5


def decayed_grad(w: np.ndarray, grad, group: dict, out: np.ndarray, tmp: np.ndarray):
    """The first lines of every update's NumPy body: ``out <- -g if maximize else g``, then
    the group's weight decay, decoupled (``w <- w * (1 - lr * weight_decay)``, AdamW's) when
    ``decoupled_weight_decay`` is set, else L2 (``out <- out + weight_decay * w``). ``tmp``
    is a work array of w's shape. Returns ``out``."""
    np.multiply(grad, -1.0 if group["maximize"] else 1.0, out=out)
    wd = group.get("weight_decay", 0)
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            w *= 1 - group["lr"] * wd
        else:
            out += np.multiply(w, wd, out=tmp)
    return out


def lerp_(a: np.ndarray, b: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``a <- a + weight * (b - a)`` in place, with torch.lerp's two-sided formula (for weight
    >= 0.5 it computes ``b - (b - a) * (1 - weight)``, exact at weight = 1). ``tmp``: work
    array of a's shape."""
    np.subtract(b, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - a.dtype.type(weight)
        np.subtract(b, tmp, out=a)


def contiguous(arr: np.ndarray):
    """``arr`` flattened without copying, or None when that would need a copy."""
    if arr.flags.c_contiguous:
        return arr.reshape(-1)
    return None
