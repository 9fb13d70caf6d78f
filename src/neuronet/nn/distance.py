"""Distance layers: CosineSimilarity and PairwiseDistance (no parameters)."""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.nn.module import Module
from neuronet.ops import distance as D


class CosineSimilarity(Module):
    """cos(x1, x2) along ``dim``, each norm clamped at eps. Shape: (*, D, *) -> (*, *)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return D.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dim. Shape: (N, D) -> (N,) (or (N, 1) with keepdim)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return D.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


__all__ = ["CosineSimilarity", "PairwiseDistance"]
