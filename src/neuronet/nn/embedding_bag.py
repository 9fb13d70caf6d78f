"""EmbeddingBag: sums, means or maxima of bags of embedding rows (``F.embedding_bag``)."""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.tensor import Tensor
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops.embedding_bag import embedding_bag


class EmbeddingBag(Module):
    """Reduce bags of embedding rows without materialising them: each row of a 2-D input is a
    bag, or a 1-D input is cut into bags at ``offsets``.

    Args:
        num_embeddings, embedding_dim: the table's size.
        max_norm, norm_type: rows looked up are renormalised to max_norm (in place).
        scale_grad_by_freq: divide gradients by how often each index occurs.
        mode: 'mean' (default), 'sum' or 'max'.
        sparse: accepted; the gradient is dense.
        include_last_offset: offsets has B + 1 entries, the last being the input's length.
        padding_idx: entries with this index are left out of every bag.

    Shape: input (B, L), or (total,) with offsets (B,) -> (B, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialised N(0, 1) (the padding row 0).
    """

    weight: Parameter

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight=None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = backend.as_dtype(dtype) or backend.DEFAULT_DTYPE
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("EmbeddingBag: padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            self.weight = Parameter(
                np.asarray(_weight.array if isinstance(_weight, Tensor) else _weight)
            )

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1); the padding row is zero."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets=None, per_sample_weights=None) -> Tensor:
        return embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"


__all__ = ["EmbeddingBag"]
