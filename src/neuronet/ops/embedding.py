"""Embedding: a lookup table of rows, y[...] = weight[index[...]], with a scatter-add backward.

The backward adds each output row's gradient into the weight row it came from. An index that
appears k times receives the sum of k gradient rows, so the scatter must accumulate duplicates
(plain ``out[idx] += g`` would keep only one of them). ``np.add.at`` does this but slowly; here
the indices are sorted once and the rows are added in rounds: round r adds, for every index, its
r-th occurrence, so within a round the indices are unique and one vectorised ``+=`` is exact.
Indices that occur more than a few times (a padding token, a frequent word) finish with one
segment sum over their sorted block (``np.add.reduceat``). With numba on
(``backend.fast.numba``), ``embedding`` takes ``ops/fast/embedding.py``'s ``CompiledEmbedding``,
whose kernel does the same scatter-add in one pass over the rows.
"""

from __future__ import annotations

import numpy as np

from neuronet import backend
from neuronet.autograd.function import Function
from neuronet.autograd.grad_mode import no_grad
from neuronet.autograd.tensor import Tensor

_ROUNDS = 8  # occurrences added round by round; the rest of a frequent index's rows by reduceat


def _scatter_add_rows(out: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """out[index[i]] += rows[i] for every i, duplicates accumulated (index 1-D, rows 2-D)."""
    n = index.size
    if n == 0:
        return
    order = np.argsort(index, kind="stable")
    sorted_index = index[order]
    first = np.empty(n, dtype=bool)  # True where a run of equal indices starts
    first[0] = True
    np.not_equal(sorted_index[1:], sorted_index[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rank = np.arange(n) - starts[np.cumsum(first) - 1]  # occurrence number within the run
    for r in range(_ROUNDS):
        pick = order[rank == r]
        if pick.size == 0:
            return
        out[index[pick]] += rows[pick]
    rest = rank >= _ROUNDS  # a frequent index's remaining occurrences, contiguous when sorted
    if not rest.any():
        return
    rest_pos = np.flatnonzero(rest)
    rest_index = sorted_index[rest_pos]
    run_start = np.flatnonzero(np.r_[True, rest_index[1:] != rest_index[:-1]])
    sums = np.add.reduceat(rows[order[rest_pos]], run_start, axis=0)
    out[rest_index[run_start]] += sums


class Embedding(Function):
    """y[..., :] = weight[index[...], :];  dL/dweight[k] = sum of dL/dy[i] over all i with
    index[i] = k (zero for the padding row; divided by the count of k in the batch when
    scale_grad_by_freq). No gradient for the integer index.

    Saves: index.
    """

    @staticmethod
    def forward(ctx, index, weight, padding_idx=None, scale_grad_by_freq=False):
        ctx.save_for_backward(index)
        ctx.weight_shape = weight.shape
        ctx.padding_idx = padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return np.take(weight, index, axis=0)

    @staticmethod
    def backward(ctx, grad_out):
        (index,) = ctx.saved
        if not ctx.needs_input_grad[1]:
            return None, None
        flat, rows = grad_rows(ctx, index, grad_out)
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad_out.dtype)
        _scatter_add_rows(grad_weight, flat, rows)
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return None, grad_weight


def grad_rows(ctx, index: np.ndarray, grad_out: np.ndarray) -> tuple:
    """(the indices flattened, dL/dy as one row per index), rows scaled by 1/count when
    ``scale_grad_by_freq``."""
    flat = index.reshape(-1)
    rows = grad_out.reshape(flat.size, ctx.weight_shape[1])
    if ctx.scale_grad_by_freq:
        counts = np.bincount(flat, minlength=ctx.weight_shape[0])
        rows = rows / counts[flat].astype(rows.dtype)[:, None]
    return flat, rows


def _renorm_rows(weight: Tensor, index: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the rows of ``weight`` used by ``index`` whose norm exceeds max_norm
    (PyTorch's ``embedding_renorm_``: scale = max_norm / (norm + 1e-7))."""
    rows = np.unique(index)
    w = weight.array
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if not over.any():
        return
    rows = rows[over]
    scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
    with no_grad():
        w[rows] *= scale[:, None]
    weight._version += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) by the integer ``input``.

    Args:
        input: int64 or int32 indices of any shape, each in [0, num_embeddings).
        weight: (num_embeddings, embedding_dim).
        padding_idx: this row gets no gradient (so it stays what it is, e.g. zeros); negative
            values count from the end.
        max_norm: rows looked up whose ``norm_type``-norm exceeds max_norm are rescaled to it,
            in place in ``weight`` (as PyTorch does).
        scale_grad_by_freq: divide each row's gradient by how often its index occurs in input.
        sparse: not supported (neuronet's gradients are dense); must be False.

    Shape: input (*) -> output (*, embedding_dim).
    See ``nn.Embedding``, which owns the weight (initialised N(0, 1), as PyTorch).
    """
    op = "embedding"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be Tensors")
    if input.dtype not in (np.int64, np.int32):
        raise TypeError(
            f"{op}: input must hold integer indices (int64 or int32), got dtype {input.dtype}; "
            "convert it with .long()"
        )
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape "
            f"{tuple(weight.shape)}"
        )
    if sparse:
        raise NotImplementedError(
            f"{op}: sparse=True is not supported; neuronet computes a dense gradient for the "
            "weight (pass sparse=False)"
        )
    num = weight.shape[0]
    index = input.array
    if index.size:
        low = int(index.min())
        high = int(index.max())
        if low < 0 or high >= num:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}: index {bad} is out of range for an embedding with num_embeddings={num} "
                f"(valid indices are 0..{num - 1}); check the vocabulary size or the data"
            )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(
                f"{op}: padding_idx={padding_idx} must be within num_embeddings={num} "
                f"(in [{-num}, {num - 1}])"
            )
        padding_idx = int(padding_idx) % num
    if max_norm is not None:
        _renorm_rows(weight, index, float(max_norm), float(norm_type))
    params = {"padding_idx": padding_idx, "scale_grad_by_freq": bool(scale_grad_by_freq)}
    if backend.fast.numba:
        return fast_embedding.CompiledEmbedding.apply(input, weight, **params)
    return Embedding.apply(input, weight, **params)


# The fast path subclasses the Function above (same contract), so it is imported after it.
from neuronet.ops.fast import embedding as fast_embedding  # noqa: E402

__all__ = ["embedding"]
