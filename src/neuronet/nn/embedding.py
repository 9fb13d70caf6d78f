"""Embedding: a learnable lookup table from integer ids to vectors (word embeddings)."""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor
from neuronet.device import check_device
from neuronet.nn import init
from neuronet.nn.module import Module
from neuronet.nn.parameter import Parameter
from neuronet.ops import embedding as ops


def _dtype(dtype, device) -> np.dtype:
    check_device(device, "a layer's parameters")
    return backend.as_dtype(dtype) or backend.DEFAULT_DTYPE


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by integers.

    y[..., :] = weight[input[...], :]

    The gradient of a row is the sum of the output gradients of every position that looked it up.
    The ``padding_idx`` row gets no gradient and starts at zero, so padding tokens map to a
    fixed zero vector.

    Args:
        num_embeddings: the vocabulary size (rows of the table).
        embedding_dim: the size of each vector.
        padding_idx: a row that receives no gradient and is initialised to zeros (negative
            values count from the end).
        max_norm: rows looked up whose norm exceeds it are rescaled to it, in place.
        norm_type: the p of the p-norm for max_norm. Default 2.
        scale_grad_by_freq: divide gradients by the frequency of each index in the batch.
        sparse: must be False (neuronet's gradients are dense).
        dtype: weight dtype (float32 default); device: 'cpu' only.

    Shape: input (*) of int64/int32 indices; output (*, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialised from N(0, 1) (PyTorch; Keras uses
            U(-0.05, 0.05)), with the padding_idx row zeroed.

    Example:
        >>> import neuronet as nt
        >>> emb = nt.nn.Embedding(10, 3, padding_idx=0)
        >>> emb(nt.tensor([[1, 2, 0]])).shape
        (1, 3, 3)
    """

    weight: Parameter

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = _dtype(dtype, device)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx={padding_idx} must be within num_embeddings="
                    f"{num_embeddings} (in [{-num_embeddings}, {num_embeddings - 1}])"
                )
            padding_idx = padding_idx % num_embeddings
        if sparse:
            raise NotImplementedError(
                "Embedding: sparse=True is not supported; neuronet computes a dense gradient "
                "for the weight (pass sparse=False)"
            )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(
                np.empty((num_embeddings, embedding_dim), dtype=dtype), requires_grad=not _freeze
            )
            self.reset_parameters()
        else:
            data = _weight.array if isinstance(_weight, Tensor) else np.asarray(_weight)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {data.shape}, expected "
                    f"({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(data, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1); the padding_idx row set to zeros."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        try:
            return ops.embedding(
                input,
                self.weight,
                self.padding_idx,
                self.max_norm,
                self.norm_type,
                self.scale_grad_by_freq,
                self.sparse,
            )
        except (IndexError, TypeError) as err:  # name the layer in the op's message
            raise self.relabel(err) from None

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is the 2-D ``embeddings`` (a Tensor or array).

        ``freeze=True`` (the default, as PyTorch) sets ``weight.requires_grad = False``. The
        weight shares memory with ``embeddings`` (as PyTorch). The padding_idx row is *not*
        zeroed: pretrained values are kept.

        Example:
            >>> import neuronet as nt
            >>> emb = nt.nn.Embedding.from_pretrained(nt.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> emb(nt.tensor([1])).tolist()
            [[3.0, 4.0]]
        """
        data = embeddings.array if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D (num_embeddings, "
                f"embedding_dim), got shape {data.shape}"
            )
        rows, cols = data.shape
        return cls(
            rows,
            cols,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=data,
            _freeze=freeze,
        )


__all__ = ["Embedding"]
