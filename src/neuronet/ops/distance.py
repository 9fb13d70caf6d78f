"""Distances and similarities: cdist, pdist, pairwise_distance, cosine_similarity, normalize.

All are compositions of differentiable ops (broadcast difference, then ``norm``), so their
gradients are those of PyTorch's vector norm: for p = 2, (x - y) / d with 0 where d == 0; for
p = inf, the gradient goes to the largest |x - y| entries; for p = 0, it is 0.

- ``cdist(x1, x2, p)``: every row of x1 against every row of x2, d[i, j] = ||x1[i] - x2[j]||_p
  (leading batch dims broadcast). PyTorch may compute p = 2 through a matrix product
  (``compute_mode``); neuronet always forms the differences, which is exact and the same up to
  rounding.
- ``pdist(x, p)``: the condensed distances ||x[i] - x[j]||_p for i < j, in row-major order.
- ``pairwise_distance(x1, x2, p, eps)``: ||x1 - x2 + eps||_p over the last dim (PyTorch adds eps to
  the difference, not to the norm).
- ``cosine_similarity(x1, x2, dim, eps)``: sum(x1/|x1| * x2/|x2|) over dim, each norm clamped at
  eps. As in PyTorch the clamp does not take part in the gradient (it is applied under no-grad).
- ``normalize(x, p, dim, eps)``: x / max(||x||_p, eps) over dim.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._promote import promote
from neuronet.ops.arithmetic import add, div, mul, sub
from neuronet.ops.indexing import getitem
from neuronet.ops.reduction import norm
from neuronet.ops.reduction import sum as _sum
from neuronet.ops.shape import expand, unsqueeze
from neuronet.ops.unary import clamp


def _check(t, op: str, name: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}; use .float()")
    return t


def _p(p, op: str, negative: bool = False) -> float:
    if (
        isinstance(p, bool)
        or not isinstance(p, (int, float, np.number))
        or (p < 0 and not negative)
    ):
        kind = "a number" if negative else "a non-negative number (or inf)"
        raise ValueError(f"{op}: p must be {kind}, got {p!r}")
    return float(p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """p-norm distance between each row of x1 (*, P, M) and each row of x2 (*, R, M): (*, P, R).

    Example:
        >>> import neuronet as nt
        >>> nt.cdist(nt.tensor([[0.0, 0.0]]), nt.tensor([[3.0, 4.0], [0.0, 1.0]])).tolist()
        [[5.0, 1.0]]
    """
    _check(x1, "cdist", "x1")
    _check(x2, "cdist", "x2")
    p = _p(p, "cdist")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist: expected x1 (*, P, M) and x2 (*, R, M) with the same M, got {x1.shape} and "
            f"{x2.shape}"
        )
    if compute_mode not in (
        None,
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    ):
        raise ValueError(f"cdist: {compute_mode!r} is not a valid value for compute_mode")
    x1, x2 = promote(x1, x2, op="cdist")
    diff = sub(unsqueeze(x1, -2), unsqueeze(x2, -3))  # (*, P, R, M)
    if diff.array.size == 0:
        from neuronet.ops._empty import EmptyResult

        return EmptyResult.apply(x1, x2, shape=diff.shape[:-1])
    return norm(diff, p, dim=-1)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all pairs of rows i < j of a 2-D input, as one 1-D tensor."""
    _check(input, "pdist", "input")
    p = _p(p, "pdist")
    if input.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D input (N, M), got shape {input.shape}")
    i, j = np.triu_indices(input.shape[0], k=1)
    diff = sub(getitem(input, i), getitem(input, j))
    if diff.array.size == 0:
        from neuronet.ops._empty import EmptyResult

        return EmptyResult.apply(input, shape=diff.shape[:-1])
    return norm(diff, p, dim=-1)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (broadcasting)."""
    _check(x1, "pairwise_distance", "x1")
    _check(x2, "pairwise_distance", "x2")
    p = _p(p, "pairwise_distance", negative=True)
    diff = add(sub(x1, x2), eps)
    if diff.ndim == 0:
        return norm(diff, p, dim=0, keepdim=keepdim)
    return norm(diff, p, dim=-1, keepdim=keepdim)


def _no_grad_clamp_min(t: Tensor, eps: float) -> Tensor:
    """t clamped at eps in value, with t's gradient (PyTorch's clamp_min_ under no_grad)."""
    shift = np.maximum(t.array, eps) - t.array
    return add(t, Tensor(shift.astype(t.dtype)))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim`` (broadcasting), in [-1, 1].

    Example:
        >>> import neuronet as nt
        >>> nt.cosine_similarity(nt.tensor([[1.0, 0.0]]), nt.tensor([[1.0, 1.0]])).tolist()
        [0.7071067690849304]
    """
    _check(x1, "cosine_similarity", "x1")
    _check(x2, "cosine_similarity", "x2")
    x1, x2 = promote(x1, x2, op="cosine_similarity")
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1 = expand(x1, shape) if x1.shape != shape else x1
    x2 = expand(x2, shape) if x2.shape != shape else x2
    n1 = _no_grad_clamp_min(norm(x1, 2, dim=dim, keepdim=True), eps)
    n2 = _no_grad_clamp_min(norm(x2, 2, dim=dim, keepdim=True), eps)
    return _sum(mul(div(x1, n1), div(x2, n2)), dim=dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p over dim, eps): unit vectors along ``dim``."""
    _check(input, "normalize", "input")
    denominator = clamp(
        norm(input, _p(p, "normalize", negative=True), dim=dim, keepdim=True), min=eps
    )
    return div(input, denominator)


__all__ = ["cdist", "pdist", "pairwise_distance", "cosine_similarity", "normalize"]
