"""Matrix products: matmul (the ``@`` operator), mm, bmm, dot, outer, and the fused
``linear(input, weight, bias) = input @ weight.T + bias``.

``matmul`` follows NumPy/PyTorch: 1-D x 1-D is a dot product (0-d result); a 1-D first operand
is treated as a row vector (1, k) and a 1-D second operand as a column vector (k, 1), the added
dim being removed from the result; for more dims the leading (batch) dims broadcast. Every
product goes to BLAS through NumPy; operands of different float dtypes are an error, as in
PyTorch (no silent float64 upcast).

``linear`` keeps PyTorch's weight layout (out_features, in_features) and flattens all leading
dims into one GEMM, forward and backward.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import unbroadcast


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b, as one 2-D GEMM when b is a matrix and a has batch dims."""
    if b.ndim == 2 and a.ndim > 2:
        rows = a.reshape(int(np.prod(a.shape[:-1])), a.shape[-1])  # (no -1: k may be 0)
        return (rows @ b).reshape(a.shape[:-1] + (b.shape[1],))
    return np.asarray(np.matmul(a, b))


class MatMul(Function):
    """y = a @ b (batched, broadcasting; 1-D operands promoted as NumPy);
    dL/da = dL/dy @ b^T,  dL/db = a^T @ dL/dy (each summed over its broadcast batch dims).
    Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim == 2 and b.ndim == 2:
            return a @ b
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        if a.ndim == 2 and b.ndim == 2:  # the common case, without the general bookkeeping
            grad_a = grad_out @ b.T if ctx.needs_input_grad[0] else None
            grad_b = a.T @ grad_out if ctx.needs_input_grad[1] else None
            return grad_a, grad_b
        if a.ndim == 1 and b.ndim == 1:
            grad_a = grad_out * b if ctx.needs_input_grad[0] else None
            grad_b = grad_out * a if ctx.needs_input_grad[1] else None
            return grad_a, grad_b
        a2 = a[None, :] if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = b[:, None] if b.ndim == 1 else b  # (k,) -> (k, 1)
        grad = grad_out
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(_matmul(grad, np.swapaxes(b2, -1, -2)), a2.shape)
            grad_a = grad_a.reshape(a.shape)
        if ctx.needs_input_grad[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # sum over the batch inside one GEMM
                rows = int(np.prod(a2.shape[:-1]))
                grad_b = a2.reshape(rows, a2.shape[-1]).T @ grad.reshape(rows, grad.shape[-1])
            else:
                grad_b = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), grad), b2.shape)
            grad_b = grad_b.reshape(b.shape)
        return grad_a, grad_b


class Linear(Function):
    """y = x @ W^T + b  (x: (*, in), W: (out, in), b: (out,));
    with X = x flattened to (N, in) and G = dL/dy flattened to (N, out):
    dL/dx = G @ W,  dL/dW = G^T @ X,  dL/db = sum of G over rows.  Saves: x, W.

    y is C-ordered whether or not a graph is recorded."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        y = x.reshape(-1, x.shape[-1]) @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved
        grad_rows = grad_out.reshape(-1, weight.shape[0])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_rows @ weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = grad_rows.T @ x.reshape(-1, x.shape[-1])
        if ctx.needs_input_grad[2]:
            grad_b = grad_rows.sum(axis=0)
        return grad_x, grad_w, grad_b


class Outer(Function):
    """y[i, j] = a[i] * b[j];  dL/da = dL/dy @ b,  dL/db = dL/dy^T @ a.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply.outer(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        grad_a = grad_out @ b if ctx.needs_input_grad[0] else None
        grad_b = grad_out.T @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


# ---- validation --------------------------------------------------------------------------
def _pair(op: str, input, other) -> None:
    for t in (input, other):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__}")
    if input.array.dtype != other.array.dtype and (
        input.array.dtype.kind == "f" or other.array.dtype.kind == "f"
    ):
        raise TypeError(
            f"{op}: both operands must have the same dtype, got {input.dtype} and {other.dtype}; "
            "convert one with .float() or .double()"
        )


def _batch_ok(a: tuple, b: tuple) -> bool:
    return all(m == n or m == 1 or n == 1 for m, n in zip(a[::-1], b[::-1]))


def _mismatch(op: str, a_shape: tuple, b_shape: tuple, k_a: int, k_b: int) -> ValueError:
    return ValueError(
        f"{op}: shapes {a_shape} and {b_shape} cannot be multiplied ({k_a} != {k_b}); the last "
        "dim of the first operand must equal the second-to-last dim of the second (or its only "
        "dim if it is 1-D). Did you mean to transpose one of them?"
    )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    _pair("matmul", input, other)
    a_shape = input.array.shape
    b_shape = other.array.shape
    if not a_shape or not b_shape:
        raise ValueError(
            f"matmul: both arguments need at least 1 dim, got shapes {a_shape} and {b_shape}; "
            "use mul (*) to scale by a scalar"
        )
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if a_shape[-1] != k_b:
        raise _mismatch("matmul", a_shape, b_shape, a_shape[-1], k_b)
    if len(a_shape) > 2 and len(b_shape) > 2 and not _batch_ok(a_shape[:-2], b_shape[:-2]):
        raise ValueError(
            f"matmul: batch dims {a_shape[:-2]} and {b_shape[:-2]} of shapes {a_shape} and "
            f"{b_shape} cannot be broadcast together"
        )
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only; use matmul for vectors or batches)."""
    _pair("mm", input, mat2)
    if input.array.ndim != 2 or mat2.array.ndim != 2:
        raise ValueError(
            f"mm: expected 2-D tensors, got shapes {input.shape} and {mat2.shape}; use matmul "
            "for 1-D or batched operands"
        )
    if input.shape[1] != mat2.shape[0]:
        raise _mismatch("mm", input.shape, mat2.shape, input.shape[1], mat2.shape[0])
    return MatMul.apply(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (b, n, k) and (b, k, m) tensors (same batch size, no broadcasting)."""
    _pair("bmm", input, mat2)
    if input.array.ndim != 3 or mat2.array.ndim != 3:
        raise ValueError(f"bmm: expected 3-D tensors, got shapes {input.shape} and {mat2.shape}")
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(
            f"bmm: batch sizes differ: shapes {input.shape} and {mat2.shape}; use matmul to "
            "broadcast batch dims"
        )
    if input.shape[2] != mat2.shape[1]:
        raise _mismatch("bmm", input.shape, mat2.shape, input.shape[2], mat2.shape[1])
    return MatMul.apply(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    _pair("dot", input, other)
    if input.array.ndim != 1 or other.array.ndim != 1 or input.shape != other.shape:
        raise ValueError(
            f"dot: expected two 1-D tensors of the same length, got {input.shape} and {other.shape}"
        )
    return MatMul.apply(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    _pair("outer", input, vec2)
    if input.array.ndim != 1 or vec2.array.ndim != 1:
        raise ValueError(f"outer: expected 1-D tensors, got shapes {input.shape} and {vec2.shape}")
    return Outer.apply(input, vec2)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias, for input (*, in_features), weight (out, in), bias (out,)."""
    _pair("linear", input, weight)
    if weight.array.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}"
        )
    if input.array.ndim == 0 or input.shape[-1] != weight.shape[1]:
        got = input.shape[-1] if input.array.ndim else "no"
        raise ValueError(
            f"linear: input of shape {input.shape} has {got} features in its last dim but weight "
            f"of shape {weight.shape} expects {weight.shape[1]} (weight is (out_features, "
            "in_features))"
        )
    if bias is not None:
        _pair("linear", input, bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias must have shape ({weight.shape[0]},) to match weight "
                f"{weight.shape}, got {bias.shape}"
            )
    return Linear.apply(input, weight, bias)


__all__ = ["matmul", "mm", "bmm", "dot", "outer", "linear"]
