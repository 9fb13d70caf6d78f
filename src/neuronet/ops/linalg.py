"""Linear algebra used by models: tensordot, inner, vdot, mv, kron, trace, the fused
multiply-adds (addmm, addmv, addr, baddbmm, addbmm) and the nuclear norm.

The multiply-adds are compositions of ``matmul`` and element-wise ops, PyTorch's definitions:
``beta * input + alpha * (product)``, with ``input`` ignored when beta == 0 (so a NaN in it does
not propagate), and ``input`` broadcast to the product's shape. Their gradients are exact (those
of the parts).
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.arithmetic import add, mul
from neuronet.ops.matmul import bmm, matmul, mm, outer
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.shape import expand, reshape


def _check(t, op: str, name: str = "input") -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    return t


class Tensordot(Function):
    """y = sum over the paired axes of a and b (np.tensordot);
    dL/da = tensordot(dL/dy, b) over b's free axes, transposed back to a's axis order;
    dL/db likewise with a.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b, axes_a=(), axes_b=()):
        ctx.save_for_backward(a, b)
        ctx.axes = (axes_a, axes_b)
        return np.asarray(np.tensordot(a, b, axes=(axes_a, axes_b)))

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        axes_a, axes_b = ctx.axes
        free_a = [d for d in range(a.ndim) if d not in axes_a]
        free_b = [d for d in range(b.ndim) if d not in axes_b]
        n_free_a = len(free_a)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            g_axes = list(range(n_free_a, grad_out.ndim))
            # (free_a..., b's contracted axes in increasing order) -> a's axis order
            grad = np.tensordot(grad_out, b, axes=(g_axes, free_b))
            paired = [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
            grad_a = np.transpose(grad, np.argsort(free_a + paired))
        if ctx.needs_input_grad[1]:
            g_axes = list(range(n_free_a))
            # (a's contracted axes in increasing order..., free_b...) -> b's axis order
            grad = np.tensordot(a, grad_out, axes=(free_a, g_axes))
            paired = [axes_b[axes_a.index(i)] for i in sorted(axes_a)]
            grad_b = np.transpose(grad, np.argsort(paired + free_b))
        return grad_a, grad_b


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` axes of a with the first ``dims`` axes of b, or the axis lists
    ``dims=([a axes], [b axes])``.

    Example:
        >>> import neuronet as nt
        >>> nt.tensordot(nt.ones(2, 3), nt.ones(3, 4), dims=1).shape
        (2, 4)
    """
    _check(a, "tensordot", "a")
    _check(b, "tensordot", "b")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims must be in [0, {min(a.ndim, b.ndim)}], got {dims}")
        axes_a = tuple(range(a.ndim - dims, a.ndim))
        axes_b = tuple(range(dims))
    else:
        axes_a, axes_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        axes_a = tuple(d % a.ndim for d in axes_a)
        axes_b = tuple(d % b.ndim for d in axes_b)
    for i, j in zip(axes_a, axes_b):  # a contracted dim of size 1 pairs with any size (torch)
        if a.shape[i] == 1 and b.shape[j] != 1:
            b = _sum(b, dim=j, keepdim=True)
        elif b.shape[j] == 1 and a.shape[i] != 1:
            a = _sum(a, dim=i, keepdim=True)
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError(
            f"tensordot: the contracted dims of a {a.shape} (axes {axes_a}) and b {b.shape} "
            f"(axes {axes_b}) must pair up with equal sizes"
        )
    return Tensordot.apply(a, b, axes_a=axes_a, axes_b=axes_b)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims (a 0-d operand multiplies)."""
    _check(input, "inner")
    _check(other, "inner", "other")
    if input.ndim == 0 or other.ndim == 0:
        return mul(input, other)
    return tensordot(input, other, dims=([-1], [-1]))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Dot product of two 1-D tensors (the same as ``dot`` for real numbers)."""
    from neuronet.ops.matmul import dot

    return dot(input, other)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix (n, m) times vector (m,)."""
    if _check(input, "mv").ndim != 2 or _check(vec, "mv", "vec").ndim != 1:
        raise ValueError(
            f"mv: expected a 2-D matrix and a 1-D vector, got {input.shape}, {vec.shape}"
        )
    return matmul(input, vec)


class Kron(Function):
    """y = kron(a, b): y[i*B + j] = a[i] * b[j] along every dim (B = b's size there);
    with y viewed as (a0, b0, a1, b1, ...):  dL/da = sum over the b axes of dL/dy * b,
    dL/db = sum over the a axes of dL/dy * a.  Saves: a, b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.kron(a, b)

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved
        n = grad_out.ndim
        a_full = a.reshape((1,) * (n - a.ndim) + a.shape)
        b_full = b.reshape((1,) * (n - b.ndim) + b.shape)
        interleaved = [m for pair in zip(a_full.shape, b_full.shape) for m in pair]
        g = grad_out.reshape(interleaved)
        a_axes = tuple(range(0, 2 * n, 2))
        b_axes = tuple(range(1, 2 * n, 2))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            b_view = np.expand_dims(b_full, a_axes)
            grad_a = (g * b_view).sum(axis=b_axes).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            a_view = np.expand_dims(a_full, b_axes)
            grad_b = (g * a_view).sum(axis=a_axes).reshape(b.shape)
        return grad_a, grad_b


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: every element of input times the whole of other, in blocks."""
    _check(input, "kron")
    _check(other, "kron", "other")
    return Kron.apply(input, other)


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor (of min(rows, cols) elements)."""
    if _check(input, "trace").ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got shape {input.shape}")
    from neuronet.ops.diagonal import diagonal

    return _sum(diagonal(input))


def _scaled(t: Tensor, factor) -> Tensor:
    return t if factor == 1 else mul(t, factor)


def _multiply_add(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    _check(input, op)
    try:
        shape = np.broadcast_shapes(input.shape, product.shape)
    except ValueError:
        shape = None
    if shape != product.shape:
        raise ValueError(
            f"{op}: input of shape {input.shape} cannot be broadcast to the product's shape "
            f"{product.shape}"
        )
    if beta == 0:  # input is ignored, as torch (NaN and inf in it do not propagate)
        return _scaled(product, alpha)
    return add(_scaled(expand(input, product.shape), beta), _scaled(product, alpha))


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), for 2-D mat1, mat2."""
    return _multiply_add("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    return _multiply_add("addmv", input, mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    return _multiply_add("addr", input, outer(vec1, vec2), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _multiply_add("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    return _multiply_add("addbmm", input, _sum(bmm(batch1, batch2), dim=0), beta, alpha)


class NuclearNorm(Function):
    """y = sum of the singular values of each matrix (the last two dims);
    dL/dx = dL/dy * U V^T (from x = U diag(s) V^T; exact where x has full rank).
    Saves: U V^T."""

    @staticmethod
    def forward(ctx, x):
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        ctx.save_for_backward(u @ vt)
        return np.asarray(s.sum(axis=-1))

    @staticmethod
    def backward(ctx, grad_out):
        (uv,) = ctx.saved
        return (grad_out[..., None, None] * uv,)


def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The nuclear norm (sum of singular values) over the two dims ``dim``."""
    if _check(input, "norm").ndim < 2:
        raise ValueError(f"norm: p='nuc' needs at least 2 dims, got shape {input.shape}")
    d0, d1 = (d % input.ndim for d in dim)
    rest = [d for d in range(input.ndim) if d not in (d0, d1)]
    from neuronet.ops.shape import permute

    y = NuclearNorm.apply(permute(input, *rest, d0, d1))
    if keepdim:
        shape = list(input.shape)
        shape[d0] = 1
        shape[d1] = 1
        y = reshape(y, tuple(shape))
    return y


__all__ = [
    "tensordot",
    "inner",
    "vdot",
    "mv",
    "kron",
    "trace",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "addbmm",
]
