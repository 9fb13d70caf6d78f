"""One explicit table binding Tensor methods and operators to the op functions.

``autograd/tensor.py`` knows nothing about ops; this file is the only place where ``x + y``,
``x.sum()`` or ``x.relu()`` become calls into ``neuronet.ops``. To add a method, import the op
function and add one line to the table of its family.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops import activation as _activation
from neuronet.ops import arithmetic as A
from neuronet.ops import indexing as _indexing
from neuronet.ops import matmul as _matmul
from neuronet.ops import reduction as _reduction
from neuronet.ops import shape as _shape
from neuronet.ops import softmax as _softmax
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
    "var": _reduction.var,
    "std": _reduction.std,
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
    "cumsum": _reduction.cumsum,
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
    "split": _shape.split,
    "chunk": _shape.chunk,
    "unbind": _shape.unbind,
    "flip": _shape.flip,
    "repeat": _shape.repeat,
    "tril": _shape.tril,
    "triu": _shape.triu,
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


def bind() -> None:
    for table in TABLES:
        for name, fn in table.items():
            setattr(Tensor, name, fn)


bind()


# ---- issue 19: the op families added for PyTorch's op surface (an appended block) -------------
def _bind_issue19() -> None:
    from neuronet.ops import rearranging

    Tensor.unfold = rearranging.unfold_dimension


_bind_issue19()
