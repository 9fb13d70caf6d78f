"""One explicit table binding Tensor methods and operators to the op functions.

``autograd/tensor.py`` knows nothing about ops; this file is the only place where ``x + y``,
``x.sum()`` or ``x.relu()`` become calls into ``neuronet.ops``. To add a method, import the op
function and add one line to the table of its family.
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops import arithmetic as A


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

TABLES = [_ARITHMETIC]


def bind() -> None:
    for table in TABLES:
        for name, fn in table.items():
            setattr(Tensor, name, fn)


bind()
