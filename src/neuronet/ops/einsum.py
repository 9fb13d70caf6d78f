"""einsum: Einstein summation over any number of operands, e.g. ``einsum('bij,bjk->bik', a, b)``.

Each operand gets one subscript letter per dim (upper and lower case); ``...`` stands for the
leading dims, which broadcast. Letters in the output (after ``->``) are kept in that order; every
other letter is summed over. Without ``->`` the output is the letters that occur once, in
alphabetical order (after the ``...`` dims), as PyTorch and NumPy. A letter repeated inside one
operand takes its diagonal (``'ii->i'``).

The gradient of operand k is itself an einsum: the output gradient and the other operands,
contracted back to operand k's letters. Letters only operand k has (summed in the forward) are
broadcast back; repeated letters put the gradient on their diagonal.
"""

from __future__ import annotations

import string

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor

_LETTERS = string.ascii_letters


def _parse(equation: str, shapes: list) -> tuple:
    """(input subscripts, output subscripts) with ``...`` expanded to explicit letters."""
    equation = equation.replace(" ", "")
    if "->" in equation:
        lhs, out = equation.split("->")
        explicit = True
    else:
        lhs, out = equation, ""
        explicit = False
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(inputs)} operands, got {len(shapes)}"
        )
    used = set(equation) - set(".,->")
    free = [c for c in _LETTERS if c not in used]
    ell_dims = 0
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            ell_dims = max(ell_dims, len(shape) - (len(sub) - 3))
    ell = "".join(free[:ell_dims])
    expanded = []
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            n = len(shape) - (len(sub) - 3)
            sub = sub.replace("...", ell[ell_dims - n :] if n else "")
        if len(sub) != len(shape) or any(c not in _LETTERS for c in sub):
            raise ValueError(
                f"einsum: subscripts {sub!r} do not fit an operand of shape {tuple(shape)} "
                f"(equation {equation!r}); give one letter per dim, or '...'"
            )
        expanded.append(sub)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts = {c: "".join(expanded).count(c) for c in set("".join(expanded))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, out


def _grad_of(k: int, subs: list, out: str, arrays: list, grad_out: np.ndarray) -> np.ndarray:
    """d(einsum)/d(operand k) contracted with grad_out."""
    target = subs[k]
    shape = arrays[k].shape
    unique = "".join(dict.fromkeys(target))
    others = [s for i, s in enumerate(subs) if i != k] + [out]
    operands = [a for i, a in enumerate(arrays) if i != k] + [grad_out]
    present = "".join(c for c in unique if any(c in s for s in others))
    grad = np.einsum(",".join(others) + "->" + present, *operands, optimize=len(operands) > 2)
    sizes = {c: n for c, n in zip(target, shape)}
    grad = grad.reshape([sizes[c] if c in present else 1 for c in unique])
    grad = np.broadcast_to(grad, [sizes[c] for c in unique])
    if unique == target:
        return np.ascontiguousarray(grad)
    full = np.zeros(shape, dtype=grad_out.dtype)
    np.einsum(target + "->" + unique, full)[...] = grad  # a writable view of the diagonal
    return full


class Einsum(Function):
    """y = einsum(subscripts, x_1, ..., x_n);
    dL/dx_k = einsum(the other operands and dL/dy -> x_k's subscripts), broadcast over letters
    only x_k has and placed on the diagonal of repeated letters.  Saves: the operands."""

    @staticmethod
    def forward(ctx, *arrays, subs=(), out=""):
        ctx.save_for_backward(*arrays)
        ctx.subs = subs
        ctx.out = out
        spec = ",".join(subs) + "->" + out
        return np.asarray(np.einsum(spec, *arrays, optimize=len(arrays) > 2))

    @staticmethod
    def backward(ctx, grad_out):
        arrays = list(ctx.saved)
        return tuple(
            _grad_of(k, list(ctx.subs), ctx.out, arrays, grad_out) if need else None
            for k, need in enumerate(ctx.needs_input_grad)
        )


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (see the module docstring); operands may also be given as one list.

    Example:
        >>> import neuronet as nt
        >>> a = nt.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> nt.einsum("ij,jk->ik", a, a).tolist()
        [[7.0, 10.0], [15.0, 22.0]]
        >>> nt.einsum("ii", a).item()
        5.0
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the first argument must be the equation string, got {equation!r}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum: operand {i} is a {type(t).__name__}, expected a Tensor")
    floats = [t.dtype for t in operands if t.dtype.kind == "f"]
    if floats and len({t.dtype for t in operands}) > 1:
        from neuronet.ops.shape import cast

        target = np.result_type(*floats)
        operands = tuple(cast(t, target) for t in operands)
    subs, out = _parse(equation, [t.shape for t in operands])
    sizes = {}
    for sub, t in zip(subs, operands):
        for c, n in zip(sub, t.shape):
            if sizes.get(c, 1) != n and n != 1 and sizes.get(c, 1) != 1:
                raise ValueError(
                    f"einsum: subscript {c!r} has size {sizes[c]} in one operand and {n} in "
                    f"another (equation {equation!r}); sizes must match or be 1"
                )
            if c not in sizes or sizes[c] == 1:
                sizes[c] = n
    operands = [_broadcast(t, sub, sizes) for sub, t in zip(subs, operands)]
    return Einsum.apply(*operands, subs=tuple(subs), out=out)


def _broadcast(t: Tensor, sub: str, sizes: dict) -> Tensor:
    """Size-1 dims of a letter that is larger elsewhere broadcast, as in torch."""
    target = tuple(sizes[c] for c in sub)
    if target == t.shape:
        return t
    from neuronet.ops.shape import expand

    return expand(t, target)


__all__ = ["einsum"]
