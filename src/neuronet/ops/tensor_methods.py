"""One explicit table binding Tensor methods and operators to the op functions.

This file is the one place where ``x + y``, ``x.sum()`` or ``x.relu()`` become calls into
``neuronet.ops``: ``autograd/tensor.py`` defines no computing method itself (its conversions,
``.to()`` and ``.float()``, import the cast op when called). To add a method, import the op
function and add one line to the table of its family.
"""

from __future__ import annotations

import numpy as np

from neuronet import creation as _creation
from neuronet import sampling as _sampling
from neuronet.autograd.tensor import Tensor
from neuronet.ops import activation as _activation
from neuronet.ops import arithmetic as A
from neuronet.ops import cumulative as _cumulative
from neuronet.ops import indexing as _indexing
from neuronet.ops import joining as _joining
from neuronet.ops import matmul as _matmul
from neuronet.ops import rearranging as _rearranging
from neuronet.ops import reduction as _reduction
from neuronet.ops import shape as _shape
from neuronet.ops import softmax as _softmax
from neuronet.ops import statistics as _statistics
from neuronet.ops import unary as _unary


def _reflected(fn):
    def method(self, other):
        return fn(other, self)

    return method


_ARITHMETIC = {
    "__add__": A.add,
    "__radd__": _reflected(A.add),
    "__sub__": A.sub,
    "__rsub__": _reflected(A.sub),
    "__mul__": A.mul,
    "__rmul__": _reflected(A.mul),
    "__truediv__": A.div,
    "__rtruediv__": _reflected(A.div),
    "__pow__": A.pow,
    "__rpow__": _reflected(A.pow),
    "__neg__": A.neg,
    "__eq__": A.eq,
    "__ne__": A.ne,
    "__lt__": A.lt,
    "__le__": A.le,
    "__gt__": A.gt,
    "__ge__": A.ge,
    "add": A.add,
    "sub": A.sub,
    "mul": A.mul,
    "div": A.div,
    "neg": A.neg,
    "pow": A.pow,
    "eq": A.eq,
    "ne": A.ne,
    "lt": A.lt,
    "le": A.le,
    "gt": A.gt,
    "ge": A.ge,
}

_SOFTMAX = {"softmax": _softmax.softmax, "log_softmax": _softmax.log_softmax}

TABLES = [_ARITHMETIC, _SOFTMAX]


def _where_method(self, condition, other):
    return _indexing.where(condition, self, other)


def _mT(self):
    if self.ndim < 2:
        raise ValueError(f"mT needs a tensor with at least 2 dims, got shape {self.shape}")
    return _shape.transpose(self, -2, -1)


# Primitive ops (unary, activation, reduction, shape, indexing, matmul), as torch.Tensor has them.
_PRIMITIVES = {
    "exp": _unary.exp,
    "log": _unary.log,
    "log1p": _unary.log1p,
    "sqrt": _unary.sqrt,
    "rsqrt": _unary.rsqrt,
    "sin": _unary.sin,
    "cos": _unary.cos,
    "erf": _unary.erf,
    "abs": _unary.abs,
    "__abs__": _unary.abs,
    "square": _unary.square,
    "sign": _unary.sign,
    "clamp": _unary.clamp,
    "clip": _unary.clip,
    "maximum": _unary.maximum,
    "minimum": _unary.minimum,
    "relu": _activation.relu,
    "sigmoid": _activation.sigmoid,
    "tanh": _activation.tanh,
    "sum": _reduction.sum,
    "mean": _reduction.mean,
    "prod": _reduction.prod,
    "var": _statistics.var,
    "std": _statistics.std,
    "logsumexp": _reduction.logsumexp,
    "norm": _reduction.norm,
    "max": _reduction.max,
    "min": _reduction.min,
    "amax": _reduction.amax,
    "amin": _reduction.amin,
    "argmax": _reduction.argmax,
    "argmin": _reduction.argmin,
    "all": _reduction.all,
    "any": _reduction.any,
    "cumsum": _cumulative.cumsum,
    "reshape": _shape.reshape,
    "view": _shape.view,
    "reshape_as": lambda self, other: _shape.reshape(self, other.shape),
    "view_as": lambda self, other: _shape.view(self, other.shape),
    "flatten": _shape.flatten,
    "unflatten": _shape.unflatten,
    "squeeze": _shape.squeeze,
    "unsqueeze": _shape.unsqueeze,
    "permute": _shape.permute,
    "transpose": _shape.transpose,
    "t": _shape.t,
    "T": property(lambda self: _shape.permute(self, tuple(reversed(range(self.ndim))))),
    "mT": property(_mT),
    "movedim": _shape.movedim,
    "expand": _shape.expand,
    "expand_as": lambda self, other: _shape.expand(self, other.shape),
    "broadcast_to": _shape.broadcast_to,
    "contiguous": lambda self, memory_format=None: self,
    "clone": _shape.clone,
    "split": _joining.split,
    "chunk": _joining.chunk,
    "unbind": _joining.unbind,
    "flip": _rearranging.flip,
    "repeat": _rearranging.repeat,
    "tril": _rearranging.tril,
    "triu": _rearranging.triu,
    "__getitem__": _indexing.getitem,
    "gather": _indexing.gather,
    "scatter_add": _indexing.scatter_add,
    "index_select": _indexing.index_select,
    "masked_fill": _indexing.masked_fill,
    "where": _where_method,
    "matmul": _matmul.matmul,
    "__matmul__": _matmul.matmul,
    "__rmatmul__": _reflected(_matmul.matmul),
    "mm": _matmul.mm,
    "bmm": _matmul.bmm,
    "dot": _matmul.dot,
    "outer": _matmul.outer,
}

TABLES.append(_PRIMITIVES)

# PyTorch's factory methods: a new tensor of self's dtype (x.new_zeros(2, 3)).
_FACTORIES = {
    "new_tensor": _creation.new_tensor,
    "new_zeros": _creation.new_zeros,
    "new_ones": _creation.new_ones,
    "new_empty": _creation.new_empty,
    "new_full": _creation.new_full,
}

TABLES.append(_FACTORIES)

# Random draws, without gradient (neuronet/sampling.py): the in-place fills of custom
# initialisation and probs.multinomial(n).
_SAMPLING = {
    "uniform_": _sampling.uniform_,
    "normal_": _sampling.normal_,
    "multinomial": _sampling.multinomial,
}

TABLES.append(_SAMPLING)


def bind() -> None:
    for table in TABLES:
        for name, fn in table.items():
            setattr(Tensor, name, fn)


bind()


# ---- issue 19: the op families added for PyTorch's op surface (an appended block) -------------
def _inplace_from(fn, name: str, form: str):
    """An in-place method (``x //= y``, ``x.remainder_(y)``): the out-of-place result written
    into self's storage, if its dtype can be cast to self's (PyTorch's rule). Under autograd
    the graph follows the change as for ``add_`` (``autograd/inplace.py``)."""

    def method(self, *args, **kwargs):
        from neuronet.autograd.grad_mode import no_grad
        from neuronet.autograd.inplace import modify

        def fast():
            with no_grad():
                result = fn(self, *args, **kwargs)
            if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
                raise RuntimeError(
                    f"{name}: result type {result.dtype} can't be cast to the desired output "
                    f"type {self.dtype}; use the out-of-place form ({form})"
                )
            if result.shape != self.shape:
                raise RuntimeError(
                    f"{name}: output with shape {list(self.shape)} doesn't match the broadcast "
                    f"shape {list(result.shape)}"
                )
            np.copyto(self.array, result.array, casting="same_kind")

        others = tuple(a for a in args if isinstance(a, Tensor))
        return modify(self, name, lambda old: fn(old, *args, **kwargs), fast, others)

    method.__name__ = name
    return method


def _issue19_table() -> dict:
    from neuronet.ops import counting as cnt
    from neuronet.ops import cumulative as cum
    from neuronet.ops import diagonal as dg
    from neuronet.ops import division as dv
    from neuronet.ops import exp_log as el
    from neuronet.ops import joining as jn
    from neuronet.ops import linalg as la
    from neuronet.ops import logical as lg
    from neuronet.ops import pointwise as pw
    from neuronet.ops import quantile as qt
    from neuronet.ops import rearranging as ra
    from neuronet.ops import rounding as rd
    from neuronet.ops import scatter as sc
    from neuronet.ops import selection as sel
    from neuronet.ops import sorting as srt
    from neuronet.ops import statistics as st
    from neuronet.ops import trigonometry as tr

    table = {
        "__floordiv__": dv.floor_divide,
        "__rfloordiv__": _reflected(dv.floor_divide),
        "__mod__": dv.remainder,
        "__rmod__": _reflected(dv.remainder),
        "__ifloordiv__": _inplace_from(dv.floor_divide, "//=", "x = x // y"),
        "__imod__": _inplace_from(dv.remainder, "%=", "x = x % y"),
        "floor_divide_": _inplace_from(dv.floor_divide, "floor_divide_", "x.floor_divide(y)"),
        "remainder_": _inplace_from(dv.remainder, "remainder_", "x.remainder(y)"),
        "fmod_": _inplace_from(dv.fmod, "fmod_", "x.fmod(y)"),
        "__rdiv__": _reflected(A.div),  # PyTorch keeps Python 2's name of __rtruediv__
        "unfold": ra.unfold_dimension,
        "arcsin": tr.asin,
        "arccos": tr.acos,
        "arctan": tr.atan,
        "arctan2": tr.atan2,
        "clamp_min": pw.clamp_min,
        "clamp_max": pw.clamp_max,
        "divide": A.div,
        "multiply": A.mul,
        "subtract": A.sub,
        "H": property(lambda self: _shape.permute(self, tuple(reversed(range(self.ndim))))),
        "mH": property(_mT),
        "adjoint": _mT,
        "positive": lambda self: self,
        "conj": lambda self: self,
        "resolve_conj": lambda self: self,
        "resolve_neg": lambda self: self,
    }
    modules = (dv, rd, tr, el, lg, pw, la, dg, ra, sc, sel, cnt, srt, qt, cum, st, jn)
    for module in modules:  # every public function whose torch.Tensor twin is a method
        for name in module.__all__:
            if name in _TENSOR_METHODS and name not in table:
                table[name] = getattr(module, name)
    return table


# The torch.Tensor methods among the new functions (the others are functions only, as in torch:
# tensordot, einsum, cdist, meshgrid, hstack, block_diag, tril_indices, ...).
_TENSOR_METHODS = set(
    """floor ceil round trunc frac floor_divide remainder fmod true_divide tan asin acos atan atan2
    sinh cosh asinh acosh atanh log2 log10 exp2 expm1 reciprocal logit xlogy logaddexp logaddexp2
    isnan isinf isposinf isneginf isfinite signbit logical_and logical_or logical_xor logical_not
    isclose allclose equal lerp hypot copysign heaviside nan_to_num addcmul addcdiv inner kron
    trace addmm addmv addr baddbmm addbmm mv vdot diag diagonal diag_embed diagflat roll tile
    repeat_interleave narrow select rot90 fliplr flipud ravel scatter scatter_reduce index_add
    index_copy index_fill index_put put masked_scatter take take_along_dim masked_select
    nonzero argwhere count_nonzero bincount histc unique unique_consecutive tensor_split hsplit
    vsplit dsplit sort argsort msort topk kthvalue median nanmedian mode quantile nanquantile
    cumprod cummax cummin logcumsumexp diff std_mean var_mean aminmax nansum nanmean""".split()
)

_ISSUE19 = _issue19_table()
TABLES.append(_ISSUE19)
for _name, _fn in _ISSUE19.items():
    setattr(Tensor, _name, _fn)


# ---- in-place forms of element-wise and indexing ops: x.clamp_(0, 1), x.index_add_(0, i, s) ----
# Each is its out-of-place op written into self's storage (``_inplace_from``: PyTorch's casting
# rule, and the graph follows the change as for add_).
_INPLACE_FORMS = """abs neg exp expm1 log log1p sqrt rsqrt square reciprocal sin cos erf sigmoid
tanh relu sign floor ceil round trunc frac clamp clamp_min clamp_max clip nan_to_num lerp addcmul
addcdiv hypot atan2 copysign masked_fill index_add index_fill index_copy scatter
scatter_add""".split()


def _inplace_table() -> dict:
    import neuronet.functional as F

    return {f"{n}_": _inplace_from(getattr(F, n), f"{n}_", f"x.{n}(...)") for n in _INPLACE_FORMS}


_INPLACE = _inplace_table()
TABLES.append(_INPLACE)
for _name, _fn in _INPLACE.items():
    setattr(Tensor, _name, _fn)
