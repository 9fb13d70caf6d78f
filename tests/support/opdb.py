"""PyTorch's own sample inputs (``op_db``) run through neuronet: outputs and gradients compared.

PyTorch tests every operator against a database of sample inputs (``op_db`` in
``torch.testing._internal.common_methods_invocations``, one ``OpInfo`` per op): broadcasting
corners, 0-d and empty tensors, negative dims, keyword forms, non-contiguous inputs. This module
runs each sample of every op that neuronet shares with PyTorch through both frameworks and
compares the outputs (shape, dtype, values) and the gradients for one random cotangent.

Which ops are shared: an OpInfo named ``nn.functional.X`` maps to ``neuronet.functional.X``; a
plain name ``X`` maps to ``neuronet.X`` when PyTorch's op is ``torch.X``, else to the Tensor
method ``neuronet.Tensor.X``. Ops PyTorch writes as a lambda (``x.view(shape)``,
``torch.where(condition, self, other)``) run the same lambda with ``torch`` meaning neuronet.
Namespaces neuronet does not have (``linalg.``, ``fft.``, ``special.``, ``masked.``, ...) are
absent. ``ABSENT`` in ``opdb_deviations.py`` gives the reason for each op_db name left out.

Random ops (dropout, rand_like, bernoulli, ...) are compared by distribution: many draws from
each framework, a two-sample Kolmogorov-Smirnov test on the pooled values and gradients.

Run ``python tests/support/opdb.py`` for the summary (shared ops, samples matching per dtype,
the failures by op).
"""

from __future__ import annotations

import re
import types
import warnings
from dataclasses import dataclass

import numpy as np

import neuronet as nt
import neuronet.functional as F

DTYPES = ("float64", "float32")
TOLERANCES = {  # (rtol, atol) for outputs and gradients
    "float64": (1e-7, 1e-7),
    "float32": (1e-4, 1e-4),
    "int64": (0, 0),
    "bool": (0, 0),
}
MAX_SAMPLES = 48  # per op and dtype, spread evenly over op_db's list (deterministic)
DROPPED_KWARGS = ()  # keyword arguments the harness drops (none: device= is supported)
NAMESPACES = ("linalg.", "fft.", "special.", "masked.", "signal.", "sparse.", "torch.")

# Random ops: compared by distribution, never by value.
RANDOM_OPS = {
    "bernoulli",
    "cauchy",
    "exponential",
    "geometric",
    "log_normal",
    "multinomial",
    "normal",
    "uniform",
    "rand_like",
    "randn",
    "randn_like",
    "randint",
    "randint_like",
    "nn.functional.dropout",
    "nn.functional.dropout1d",
    "nn.functional.dropout2d",
    "nn.functional.dropout3d",
    "nn.functional.alpha_dropout",
    "nn.functional.feature_alpha_dropout",
    "nn.functional.rrelu",
    "nn.functional.fractional_max_pool2d",
    "nn.functional.fractional_max_pool3d",
}


def is_random(info, sample) -> bool:
    """Random ops, and samples of other ops that ask for randomness (attention's dropout_p)."""
    return info.name in RANDOM_OPS or bool(sample.kwargs.get("dropout_p", 0))


# Ops whose output is uninitialised memory (only shape and dtype are compared).
UNINITIALISED = {"empty", "empty_like", "new_empty", "empty_strided", "new_empty_strided"}


class Unsupported(Exception):
    """The sample needs something neuronet does not represent (a dtype, a generator object)."""


@dataclass
class Result:
    op: str
    dtype: str
    index: int
    sample: str
    status: str  # "pass", "fail", "n/a"
    message: str = ""


# ---- which ops are shared ------------------------------------------------------------------
class _TorchShim:
    """``torch`` as seen by a rebuilt op_db lambda: ``torch.X`` is ``neuronet.X``."""

    def __init__(self, namespace, path="torch"):
        self._ns = namespace
        self._path = path

    def __getattr__(self, name):
        if self._path == "torch" and name == "nn":
            return _TorchShim(types.SimpleNamespace(functional=F), "torch.nn")
        if self._path == "torch" and name == "Tensor":
            return nt.Tensor
        if not hasattr(self._ns, name):
            raise AttributeError(f"neuronet has no counterpart of {self._path}.{name}")
        return getattr(self._ns, name)


def _wrapper_set_seed(fn, *args, **kwargs):
    return fn(*args, **kwargs)  # seeding is done by the harness, once per sample


def opinfo_id(info) -> str:
    return info.name + (f".{info.variant_test_name}" if info.variant_test_name else "")


def _is_lambda(fn) -> bool:
    return isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>"


def _rebuilt_lambda(fn, torch_module=None):
    """The op_db lambda with ``torch`` meaning neuronet (or ``torch_module``), never reseeding."""
    shim = _TorchShim(nt) if torch_module is None else torch_module
    glb = {"torch": shim, "wrapper_set_seed": _wrapper_set_seed, "__builtins__": __builtins__}
    return types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)


def torch_callable(info):
    """PyTorch's op for ``info``; a lambda is rebuilt so that it does not reseed on each call."""
    import torch

    return _rebuilt_lambda(info.op, torch) if _is_lambda(info.op) else info.op


def _lambda_names(fn) -> list:
    """The ``torch.a.b`` / ``x.method`` names a lambda uses (to decide whether it is shared)."""
    import dis

    names = []
    chain = None
    for ins in dis.get_instructions(fn):
        if ins.opname in ("LOAD_GLOBAL",) and ins.argval == "torch":
            chain = ["torch"]
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and chain is not None:
            chain.append(ins.argval)
        else:
            if chain is not None and len(chain) > 1:
                names.append(".".join(chain))
            chain = None
            if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                names.append(f"Tensor.{ins.argval}")
    if chain is not None and len(chain) > 1:
        names.append(".".join(chain))
    return names


def _exists(dotted: str) -> bool:
    parts = dotted.split(".")
    if parts[0] == "Tensor":
        return _tensor_has(parts[1])
    obj = _TorchShim(nt)
    try:
        for p in parts[1:]:
            obj = getattr(obj, p)
    except AttributeError:
        return False
    return callable(obj) or isinstance(obj, type)


def resolve(info):
    """The neuronet callable for an OpInfo (same calling convention as ``info.op``), or None."""
    import torch

    name = info.name
    if _is_lambda(info.op):
        needed = [n for n in _lambda_names(info.op) if n != "torch.Tensor"]
        needed = [n for n in needed if not n.startswith("Tensor.") or n.count(".") == 1]
        if not needed or not all(_exists(n) for n in needed):
            return None
        return _rebuilt_lambda(info.op)
    if name.startswith("nn.functional."):
        fn = getattr(F, name[len("nn.functional.") :], None)
        return fn if callable(fn) else None
    if name.startswith(NAMESPACES) or (name.startswith("_") and not name.startswith("__")):
        return None  # namespaces neuronet does not have, and PyTorch's private aten ops
    if getattr(torch, name, None) is info.op or getattr(torch.Tensor, name, None) is not info.op:
        fn = getattr(nt, name, None)
        if callable(fn) and not isinstance(fn, (np.dtype, type)):
            return fn
    if _tensor_has(name):
        return getattr(nt.Tensor, name)
    return None


def _tensor_has(name: str) -> bool:
    """Whether Tensor instances have the attribute (not its metaclass: ``type.__ror__``)."""
    return any(name in vars(k) for k in nt.Tensor.__mro__ if k is not object)


def load_op_db() -> list:
    from torch.testing._internal.common_methods_invocations import op_db

    return list(op_db)


def shared_ops(op_db=None) -> list:
    """[(info, neuronet callable)] for every OpInfo neuronet shares."""
    op_db = load_op_db() if op_db is None else op_db
    out = []
    for info in op_db:
        fn = resolve(info)
        if fn is not None:
            out.append((info, fn))
    return out


def sample_dtypes(info) -> list:
    import torch

    supported = info.supported_dtypes("cpu")
    floats = [d for d in DTYPES if getattr(torch, d) in supported]
    if floats:
        return floats
    for d in ("int64", "bool"):
        if getattr(torch, d) in supported:
            return [d]
    return []


def samples(info, dtype: str, limit: int | None = MAX_SAMPLES) -> list:
    """op_db's samples for ``dtype`` (at most ``limit``, evenly spread), built deterministically."""
    import torch

    torch.manual_seed(0)
    tdtype = getattr(torch, dtype)
    grad = info.supports_autograd and tdtype.is_floating_point
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = list(info.sample_inputs("cpu", tdtype, requires_grad=grad))
    if limit is not None and len(found) > limit:
        keep = np.linspace(0, len(found) - 1, limit).round().astype(int)
        found = [found[i] for i in sorted(set(keep.tolist()))]
    return found


# ---- converting a torch sample to neuronet -------------------------------------------------
_NT_DTYPES = {"float32", "float64", "int32", "int64", "bool"}


def _dtype_name(tdtype) -> str:
    return str(tdtype).replace("torch.", "")


class _Converter:
    """torch values -> neuronet values; each torch tensor maps to exactly one neuronet tensor."""

    def __init__(self):
        self.pairs = {}  # id(torch tensor) -> (torch tensor, neuronet tensor)

    def __call__(self, value):
        import torch

        if isinstance(value, torch.Tensor):
            if id(value) in self.pairs:
                return self.pairs[id(value)][1]
            if _dtype_name(value.dtype) not in _NT_DTYPES:
                raise Unsupported(f"dtype {value.dtype}")
            if value.layout != torch.strided:
                raise Unsupported(f"layout {value.layout}")
            arr = value.detach().numpy().copy()
            ours = nt.Tensor(arr, requires_grad=bool(value.requires_grad))
            self.pairs[id(value)] = (value, ours)
            return ours
        if isinstance(value, torch.dtype):
            if _dtype_name(value) not in _NT_DTYPES:
                raise Unsupported(f"dtype {value}")
            return np.dtype(_dtype_name(value))
        if isinstance(value, torch.Size):
            return tuple(value)
        if isinstance(value, torch.device):
            return str(value)
        if isinstance(value, torch.Generator):
            raise Unsupported("torch.Generator argument")
        if isinstance(value, torch.nn.Module):  # a module argument (a distance function)
            return _module_counterpart(value)
        if isinstance(value, torch.memory_format):
            return value  # passed through: neuronet must accept and ignore it, or fail
        if isinstance(value, (list, tuple)):
            return type(value)(self(v) for v in value) if not hasattr(value, "_fields") else value
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items() if k not in DROPPED_KWARGS}
        return value

    def grad_pairs(self):
        return [(t, o) for t, o in self.pairs.values() if t.requires_grad]


def _module_counterpart(module):
    """neuronet's twin of a torch module passed as an argument (same hyperparameters)."""
    name = type(module).__name__
    if name == "PairwiseDistance":
        return nt.nn.PairwiseDistance(module.norm, module.eps, module.keepdim)
    raise Unsupported(f"module argument {name}")


def describe(sample) -> str:
    """A short, stable description of a sample: shapes/dtypes of tensors, other values as is."""
    import torch

    def show(v):
        if isinstance(v, torch.Tensor):
            s = "x".join(str(n) for n in v.shape) or "()"
            return f"T[{s}:{_dtype_name(v.dtype)}]"
        if isinstance(v, (list, tuple)):
            inner = ", ".join(show(x) for x in v)
            return f"[{inner}]" if isinstance(v, list) else f"({inner})"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}={show(x)}" for k, x in v.items()) + "}"
        if isinstance(v, float):
            return repr(round(v, 6))
        return repr(v)

    parts = [show(sample.input)] + [show(a) for a in sample.args]
    parts += [f"{k}={show(v)}" for k, v in sample.kwargs.items()]
    return ", ".join(parts)


# ---- comparing ----------------------------------------------------------------------------
def _flat(value) -> list:
    if isinstance(value, (tuple, list)):  # torch.Size too: compared entry by entry
        out = []
        for v in value:
            out.extend(_flat(v))
        return out
    return [value]


def _as_array(value):
    import torch

    if isinstance(value, nt.Tensor):
        return value.array
    if isinstance(value, torch.Tensor):
        value = value.detach()
        return (value.to_dense() if value.layout != torch.strided else value).numpy()
    return value


def compare(ours, theirs, dtype: str, what: str, check_dtype: bool = True) -> None:
    """Assert that ``ours`` (neuronet) equals ``theirs`` (torch): structure, dtypes and values."""
    import torch

    rtol, atol = TOLERANCES[dtype]
    ours_flat = _flat(ours)
    theirs_flat = _flat(theirs)
    if len(ours_flat) != len(theirs_flat):
        raise AssertionError(f"{what}: {len(ours_flat)} values, torch gives {len(theirs_flat)}")
    for k, (o, t) in enumerate(zip(ours_flat, theirs_flat)):
        label = f"{what}[{k}]" if len(ours_flat) > 1 else what
        if isinstance(t, torch.Tensor):
            if not isinstance(o, nt.Tensor):
                raise AssertionError(f"{label}: got {type(o).__name__}, torch gives a Tensor")
            a = o.array
            b = _as_array(t)
            if a.shape != b.shape:
                raise AssertionError(f"{label}: shape {a.shape}, torch {b.shape}")
            if check_dtype and str(a.dtype) != _dtype_name(t.dtype):
                raise AssertionError(f"{label}: dtype {a.dtype}, torch {t.dtype}")
            if a.dtype.kind == "f":
                ok = np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
                ok = ok and bool(np.all(np.isnan(a) == np.isnan(b)))
            else:
                ok = np.array_equal(a, b)
            if not ok:
                diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
                worst = np.nanmax(diff) if diff.size else 0.0
                raise AssertionError(f"{label}: values differ (max abs diff {worst:.3g})")
        else:
            o = _as_array(o)
            if isinstance(t, float) and isinstance(o, (float, np.floating)):
                if not np.isclose(o, t, rtol=rtol, atol=atol, equal_nan=True):
                    raise AssertionError(f"{label}: {o!r}, torch {t!r}")
            elif isinstance(o, np.ndarray):
                raise AssertionError(f"{label}: got a Tensor, torch gives {type(t).__name__}")
            elif o != t:
                raise AssertionError(f"{label}: {o!r}, torch {t!r}")


def _torch_grads(outputs, pairs, cots):
    import torch

    outs = [t for t in outputs]
    grads = torch.autograd.grad(
        outs, [t for t, _ in pairs], [torch.from_numpy(c) for c in cots], allow_unused=True
    )
    return grads


def _differentiable_outputs(ours_flat, theirs_flat) -> list:
    import torch

    return [
        (o, t)
        for o, t in zip(ours_flat, theirs_flat)
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point
    ]


def _double(value, memo: dict):
    """torch floating tensors as float64 leaves (same requires_grad), memoised by identity."""
    import torch

    if isinstance(value, torch.Tensor):
        if id(value) not in memo:
            d = value.detach().double() if value.is_floating_point() else value
            memo[id(value)] = d.requires_grad_(value.requires_grad) if d is not value else value
        return memo[id(value)]
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_double(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: _double(v, memo) for k, v in value.items()}
    return value


def run_sample(info, fn, sample, dtype: str, seed: int = 0, reference: str | None = None):
    """Run one sample through both frameworks; raise AssertionError (or the op's error) on a
    difference, ``Unsupported`` when neuronet cannot represent the sample.

    ``reference='float64'`` runs PyTorch in float64 on the same values (for ops whose float32
    PyTorch kernel is less accurate than neuronet's): neuronet's float32 results are compared
    with those, at float32 tolerances."""
    import torch

    convert = _Converter()
    inp = convert(sample.input)
    args = convert(list(sample.args))
    kwargs = convert(dict(sample.kwargs))
    t_inp, t_args, t_kwargs = sample.input, sample.args, sample.kwargs
    if reference == "float64":
        memo = {}
        t_inp = _double(t_inp, memo)
        t_args = _double(list(t_args), memo)
        t_kwargs = _double(dict(t_kwargs), memo)
        convert.pairs = {k: (memo.get(k, t), o) for k, (t, o) in convert.pairs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nt.manual_seed(seed)
        ours = fn(inp, *args, **kwargs)
        torch.manual_seed(seed)
        theirs = torch_callable(info)(t_inp, *t_args, **t_kwargs)
    if info.name in UNINITIALISED:
        ours = [o.shape if isinstance(o, nt.Tensor) else o for o in _flat(ours)]
        theirs = [tuple(t.shape) if isinstance(t, torch.Tensor) else t for t in _flat(theirs)]
    check = reference is None
    compare(ours, theirs, dtype, "output", check_dtype=check)
    if info.name in UNINITIALISED:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare_grads(ours, theirs, convert, dtype, seed, check)


def _compare_grads(ours, theirs, convert, dtype: str, seed: int, check_dtype=True) -> None:
    import torch

    pairs = convert.grad_pairs()
    outs = _differentiable_outputs(_flat(ours), _flat(theirs))
    if not pairs or not outs:
        return
    for o, _ in outs:
        if not (isinstance(o, nt.Tensor) and o.requires_grad):
            raise AssertionError("output does not require grad (torch's does)")
    rng = np.random.default_rng(seed)
    cots = [rng.standard_normal(t.shape).astype(str(o.dtype)) for o, t in outs]
    theirs_cots = [c.astype(_dtype_name(t.dtype)) for c, (_, t) in zip(cots, outs)]
    try:
        theirs_grads = _torch_grads([t for _, t in outs], pairs, theirs_cots)
    except RuntimeError as err:
        if "not implemented" in str(err):
            return  # torch has no backward for this form: only the outputs are compared
        raise
    ours_grads = nt.autograd.grad(
        [o for o, _ in outs], [o for _, o in pairs], [nt.Tensor(c) for c in cots], allow_unused=True
    )
    for k, (g_ours, g_theirs, (t, _)) in enumerate(zip(ours_grads, theirs_grads, pairs)):
        if g_theirs is None:
            g_theirs = torch.zeros_like(t)
        if g_ours is None:
            g_ours = nt.Tensor(np.zeros(t.shape, dtype=_dtype_name(t.dtype)))
        compare(g_ours, g_theirs, dtype, f"grad of tensor input {k}", check_dtype)


# ---- random ops: compared by distribution --------------------------------------------------
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b|."""
    a = np.sort(a.ravel())
    b = np.sort(b.ravel())
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


# Channel-wise random ops draw one mask per (sample, channel): the independent units of a draw
# are its leading dims, not its elements (so the KS test counts units, not correlated elements).
CHANNEL_RANDOM = {
    "nn.functional.dropout1d": 1,
    "nn.functional.dropout2d": 2,
    "nn.functional.dropout3d": 3,
    "nn.functional.feature_alpha_dropout": -2,  # one mask per (N, C): all dims after the second
}


def _unit_size(info, shape: tuple) -> int:
    if info.name == "nn.functional.scaled_dot_product_attention":
        # one dropout mask per attention weight: an output row (and each gradient row) mixes a
        # whole row or column of masks, so rows of the last dim are the independent units
        return shape[-1] if shape else 1
    spatial = CHANNEL_RANDOM.get(info.name)
    if spatial is None or not shape:
        return 1
    if spatial < 0:
        return int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return int(np.prod(shape[-spatial:])) if len(shape) > spatial else 1


def _draws(call, unit: int, n_min=4000, k_max=200):
    values = []
    total = 0
    first = None
    for _ in range(k_max):
        out = call()
        if first is None:
            first = out
        values.append(out)
        total += (out[0].size if out and hasattr(out[0], "size") else 1) / unit
        if total >= n_min:
            break
    return first, values


def _quantized(v: np.ndarray, dtype: str) -> np.ndarray:
    """Values rounded to 5 significant digits, and to 0 below the dtype's absolute tolerance
    (or a small fraction of the largest value), so that point masses computed in a different
    order (dropout's dropped value, a gradient that is 0 up to rounding) coincide for the KS
    test."""
    finite = np.abs(v[np.isfinite(v)])
    tiny = (1e-4 if dtype == "float32" else 1e-8) * finite.max() if finite.size else 0.0
    tiny = max(tiny, TOLERANCES[dtype][1])
    v = np.where(np.abs(v) <= tiny, 0.0, v)
    scale = 10.0 ** (np.floor(np.log10(np.where(v == 0, 1, np.abs(v)))) - 4)
    return np.where(np.isfinite(v), np.round(v / scale) * scale, v)


def run_random_sample(info, fn, sample, dtype: str, seed: int = 0) -> None:
    """Shapes and dtypes equal; pooled outputs (and gradients) alike in distribution (KS test at
    the 0.1% level; draws are seeded, so the verdict is deterministic)."""
    import torch

    def ours_call():
        convert = _Converter()
        inp = convert(_clone_input(sample.input))
        args = convert(list(sample.args))
        kwargs = convert(dict(sample.kwargs))
        out = _flat(fn(inp, *args, **kwargs))
        grads = _random_grads_ours(out, convert)
        return [_as_array(o) for o in out] + grads

    def theirs_call():
        inp = _clone_input(sample.input)
        args = [_clone_input(a) for a in sample.args]
        out = _flat(torch_callable(info)(inp, *args, **sample.kwargs))
        grads = _random_grads_theirs(out, [inp] + list(args))
        return [_as_array(o) for o in out] + grads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = _unit_size(info, tuple(getattr(sample.input, "shape", ())))
        nt.manual_seed(seed)
        first_ours, ours = _draws(ours_call, unit)
        torch.manual_seed(seed)
        first_theirs, theirs = _draws(theirs_call, unit)
    if len(first_ours) != len(first_theirs):
        raise AssertionError(f"{len(first_ours)} outputs/grads, torch {len(first_theirs)}")
    for k, (o, t) in enumerate(zip(first_ours, first_theirs)):
        o = np.asarray(o)
        t = np.asarray(t)
        if o.shape != t.shape or o.dtype != t.dtype:
            raise AssertionError(f"value {k}: {o.shape} {o.dtype}, torch {t.shape} {t.dtype}")
        a = np.concatenate([np.asarray(d[k], np.float64).ravel() for d in ours])
        b = np.concatenate([np.asarray(d[k], np.float64).ravel() for d in theirs])
        a = _quantized(a, dtype)
        b = _quantized(b, dtype)
        if a.size == 0:
            continue
        d = ks_statistic(a, b)
        n_a = a.size / unit
        n_b = b.size / unit
        critical = 1.95 * np.sqrt((n_a + n_b) / (n_a * n_b))
        if d > critical:
            raise AssertionError(f"value {k}: distributions differ (KS {d:.3f} > {critical:.3f})")


def _clone_input(v):
    import torch

    if isinstance(v, torch.Tensor):
        c = v.detach().clone()
        return c.requires_grad_(v.requires_grad)
    return v


def _random_grads_ours(out, convert):
    pairs = convert.grad_pairs()
    outs = [o for o in out if isinstance(o, nt.Tensor) and o.requires_grad]
    if not pairs or not outs:
        return []
    cots = [nt.Tensor(np.ones(o.shape, dtype=o.dtype)) for o in outs]
    grads = nt.autograd.grad(outs, [o for _, o in pairs], cots, allow_unused=True)
    return [g.array if g is not None else np.zeros(o.shape) for g, (_, o) in zip(grads, pairs)]


def _random_grads_theirs(out, inputs):
    import torch

    leaves = [t for t in inputs if isinstance(t, torch.Tensor) and t.requires_grad]
    outs = [o for o in out if isinstance(o, torch.Tensor) and o.requires_grad]
    if not leaves or not outs:
        return []
    cots = [torch.ones_like(o) for o in outs]
    grads = torch.autograd.grad(outs, leaves, cots, allow_unused=True)
    return [g.numpy() if g is not None else np.zeros(t.shape) for g, t in zip(grads, leaves)]


# ---- running an op over all its samples ----------------------------------------------------
def run_op(info, fn, dtype: str, limit: int | None = MAX_SAMPLES) -> list:
    """One ``Result`` per sample of ``info`` in ``dtype``."""
    results = []
    for i, sample in enumerate(samples(info, dtype, limit)):
        runner = run_random_sample if is_random(info, sample) else run_sample
        desc = describe(sample)
        try:
            runner(info, fn, sample, dtype, seed=i)
        except Unsupported as err:
            results.append(Result(opinfo_id(info), dtype, i, desc, "n/a", str(err)))
        except Exception as err:  # noqa: BLE001 - every failure is reported with its message
            msg = f"{type(err).__name__}: {err}".splitlines()[0][:300]
            results.append(Result(opinfo_id(info), dtype, i, desc, "fail", msg))
        else:
            results.append(Result(opinfo_id(info), dtype, i, desc, "pass"))
    return results


def _main() -> None:
    import argparse
    import collections
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default=None, help="regex of op_db ids to run")
    parser.add_argument("--limit", type=int, default=MAX_SAMPLES, help="samples per op (0: all)")
    parser.add_argument("--dtypes", default=",".join(DTYPES))
    parser.add_argument("-v", action="store_true", help="print every failing sample")
    args = parser.parse_args()
    op_db = load_op_db()
    shared = shared_ops(op_db)
    print(f"op_db: {len(op_db)} OpInfos, {len({i.name for i in op_db})} names")
    print(f"shared: {len(shared)} OpInfos, {len({i.name for i, _ in shared})} names")
    counts = collections.Counter()
    failing_ops = collections.defaultdict(list)
    for info, fn in shared:
        if args.ops and not re.search(args.ops, opinfo_id(info)):
            continue
        wanted = args.dtypes.split(",")
        for dtype in [d for d in sample_dtypes(info) if d in wanted or d not in DTYPES]:
            for r in run_op(info, fn, dtype, args.limit or None):
                counts[(dtype, r.status)] += 1
                if r.status == "fail":
                    failing_ops[r.op].append(r)
        sys.stdout.flush()
    for dtype in sorted({d for d, _ in counts}):
        ok = counts[(dtype, "pass")]
        bad = counts[(dtype, "fail")]
        na = counts[(dtype, "n/a")]
        print(
            f"{dtype}: {ok} of {ok + bad} samples match ({100 * ok / max(ok + bad, 1):.1f}%),"
            f" {na} not applicable"
        )
    print(f"ops failing at least one sample: {len(failing_ops)}")
    for op, rs in sorted(failing_ops.items()):
        first = rs[0]
        print(f"  {op}: {len(rs)} failing; first: [{first.dtype}] {first.sample}")
        print(f"      -> {first.message}")
        if args.v:
            for r in rs[1:]:
                print(f"      [{r.dtype}] {r.sample} -> {r.message}")


if __name__ == "__main__":
    _main()
