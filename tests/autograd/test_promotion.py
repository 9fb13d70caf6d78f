"""Type promotion of arithmetic, checked against torch 2.13 over the whole table: tensors with
dimensions, 0-d tensors and Python numbers, of every dtype, under + - * / ** (and the reflected
forms), including the errors PyTorch raises (bool subtraction, bool ** bool)."""

from __future__ import annotations

import itertools
import operator

import numpy as np
import pytest

import neuronet as nt

DTYPES = ["bool", "int32", "int64", "float32", "float64"]
NUMBERS = [True, 2, 2.5]
OPS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,
}


def _operands(lib):
    dims = [lib.ones(3, dtype=getattr(lib, d)) for d in DTYPES]
    zero_d = [lib.ones((), dtype=getattr(lib, d)) for d in DTYPES]
    return dims + zero_d + NUMBERS


def _label(value):
    if isinstance(value, (bool, int, float)):
        return repr(value)
    return f"{str(value.dtype).split('.')[-1]}{list(value.shape)}"


def _outcome(fn, a, b):
    try:
        return str(fn(a, b).dtype).split(".")[-1]
    except (RuntimeError, NotImplementedError, TypeError):
        return "error"


def test_promotion_table_matches_torch(torch):
    pairs = [
        (i, j)
        for i, j in itertools.product(range(13), repeat=2)
        if i < 10 or j < 10  # at least one tensor
    ]
    ours = _operands(nt)
    theirs = _operands(torch)
    mismatches = []
    checked = 0
    for (i, j), (name, fn) in itertools.product(pairs, OPS.items()):
        expected = _outcome(fn, theirs[i], theirs[j])
        got = _outcome(fn, ours[i], ours[j])
        checked += 1
        if got != expected:
            mismatches.append(
                f"{_label(theirs[i])} {name} {_label(theirs[j])}: {got} != {expected}"
            )
    assert checked == 800
    assert not mismatches, f"{len(mismatches)} of 800 differ:\n" + "\n".join(mismatches)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: nt.tensor([1, 2]) * 0.5, np.float32),
        (lambda: nt.tensor([1, 2]) / nt.tensor([2, 4]), np.float32),
        (lambda: nt.tensor([True]) / 2, np.float32),
        (lambda: nt.tensor([1, 2]) + nt.tensor([1.0], dtype="float32"), np.float32),
        (lambda: nt.ones(2) + nt.tensor(1.5, dtype="float64"), np.float32),
        (lambda: nt.tensor([1, 2]) + nt.tensor(1.5, dtype="float64"), np.float64),
        (lambda: nt.tensor([1, 2], dtype="int32") + np.int64(3), np.int32),
        (lambda: nt.tensor([1, 2]) * np.float64(2.5), np.float32),
    ],
)
def test_issue_examples(make, expected):
    assert make().dtype == expected


def test_promoted_operand_still_gets_its_gradient():
    x = nt.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = x * nt.tensor([3.0, 4.0], dtype="float64")  # float64 result: x is cast, differentiably
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_bool_subtraction_is_refused_with_torchs_hint():
    with pytest.raises(RuntimeError, match=r"logical_not"):
        nt.tensor([True]) - 1
    with pytest.raises(RuntimeError, match=r"logical_xor"):
        nt.tensor([True]) - nt.tensor([False])
