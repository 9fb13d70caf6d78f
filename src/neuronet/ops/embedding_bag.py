"""embedding_bag: sums, means or maxima of bags of embedding rows, without materialising the
rows of each bag.

A bag is a row of a 2-D ``input`` (B, L), or, for a 1-D input, the entries from offsets[b] to
offsets[b + 1] (the last bag runs to the end, or ``include_last_offset`` makes the last offset
the end). For bag b with entries e (weights w_e, 1 without ``per_sample_weights``):
    'sum'   y[b] = sum over e of w_e W[idx_e]
    'mean'  y[b] = (1 / |b|) sum over e of W[idx_e]
    'max'   y[b] = max over e of W[idx_e]            (per embedding dim)
Entries equal to ``padding_idx`` are left out (and not counted by 'mean'); an empty bag gives
zeros.
Gradients: dL/dW[k] gets w_e dL/dy[b] (or dL/dy[b] / |b|) for every entry e of bag b with
idx_e = k; for 'max' only the entry holding the maximum (the first on ties) gets it;
dL/dw_e = <W[idx_e], dL/dy[b]>. ``scale_grad_by_freq`` divides each entry's contribution to
dL/dW by how often its index occurs in the input.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.ops.embedding import _renorm_rows


class EmbeddingBag(Function):
    """y[b] = reduce over the entries e of bag b of w_e * W[idx_e] ('sum', 'mean', 'max');
    see the module docstring for dL/dW and dL/dw.  Saves: idx, bag ids, the scale of each
    entry, the weights (for dL/dw) and, for 'max', the winning entry of each (bag, dim)."""

    @staticmethod
    def forward(
        ctx, weight, per_sample_weights, idx=None, bags=None, n_bags=0, mode="sum", freq=None
    ):
        d = weight.shape[1]
        rows = weight[idx]
        out = np.zeros((n_bags, d), dtype=weight.dtype)
        counts = np.bincount(bags, minlength=n_bags).astype(weight.dtype)
        winner = None
        if mode == "max":
            out[:] = -np.inf
            np.maximum.at(out, bags, rows)
            out[counts == 0] = 0
            hit = rows == out[bags]
            order = np.arange(len(idx))[:, None] * np.ones((1, d), dtype=np.int64)
            first = np.full((n_bags, d), len(idx), dtype=np.int64)
            np.minimum.at(first, bags, np.where(hit, order, len(idx)))
            winner = first
            scale = None
        else:
            scale = np.ones(len(idx), dtype=weight.dtype)
            if per_sample_weights is not None:
                scale = per_sample_weights.astype(weight.dtype)
            if mode == "mean":
                scale = scale / np.maximum(counts, 1)[bags]
            np.add.at(out, bags, rows * scale[:, None])
        ctx.save_for_backward(weight, idx, bags, scale, winner)
        ctx.mode = mode
        ctx.freq = freq
        return out

    @staticmethod
    def backward(ctx, grad_out):
        weight, idx, bags, scale, winner = ctx.saved
        grad_w = grad_psw = None
        if ctx.needs_input_grad[0]:
            grad_w = np.zeros_like(weight)
            if ctx.mode == "max":
                b, dim = np.nonzero(winner < len(idx))
                np.add.at(grad_w, (idx[winner[b, dim]], dim), grad_out[b, dim])
            else:
                rows = grad_out[bags] * scale[:, None]
                if ctx.freq is not None:  # scale_grad_by_freq: / how often the index occurs
                    rows = rows / ctx.freq[idx].astype(rows.dtype)[:, None]
                np.add.at(grad_w, idx, rows)
        if ctx.needs_input_grad[1]:
            grad_psw = np.sum(weight[idx] * grad_out[bags], axis=1)
        return grad_w, grad_psw


def _bags(op, input, offsets, include_last_offset) -> tuple:
    """(flat input position of each entry in bag order, bag id of each, number of bags)."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: offsets must be None for a 2-D input (each row is a bag)")
        n_bags, length = input.shape
        return np.arange(n_bags * length), np.repeat(np.arange(n_bags), length), n_bags
    if input.ndim != 1 or offsets is None:
        raise ValueError(f"{op}: expected a 2-D input (B, L), or a 1-D input with offsets")
    starts = (offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets)).astype(int)
    if starts.ndim != 1 or (starts.size and starts[0] != 0):
        raise ValueError(f"{op}: offsets must be a 1-D tensor starting at 0, got {starts}")
    if include_last_offset:
        ends = starts[1:]
        starts = starts[:-1]
    else:
        ends = np.append(starts[1:], input.numel())
    if np.any(ends < starts) or (ends.size and ends[-1] > input.numel()):
        raise ValueError(f"{op}: offsets must be increasing and within the input's length")
    parts = [np.arange(s, e) for s, e in zip(starts, ends)]
    positions = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return positions.astype(np.int64), np.repeat(np.arange(len(starts)), ends - starts), len(starts)


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Bags of embedding rows reduced by 'sum', 'mean' (the default) or 'max'; see the module
    docstring and ``nn.EmbeddingBag``. ``sparse=True`` is accepted; the gradient is dense."""
    op = "embedding_bag"
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must be an integer tensor of indices")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D (num_embeddings, embedding_dim) tensor")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"{op}: per_sample_weights is only supported for mode='sum', got {mode!r}")
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ValueError(
            f"{op}: per_sample_weights {per_sample_weights.shape} must match input {input.shape}"
        )
    positions, bags, n_bags = _bags(op, input, offsets, include_last_offset)
    idx = input.array.reshape(-1)[positions].astype(np.int64)
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"{op}: indices must be in [0, {num - 1}]")
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    keep = np.ones(idx.size, dtype=bool)
    if padding_idx is not None:
        keep = idx != int(padding_idx) % num
    psw = None
    if per_sample_weights is not None:
        from neuronet.ops.indexing import getitem
        from neuronet.ops.shape import reshape

        psw = getitem(reshape(per_sample_weights, -1), positions[keep])
    freq = np.bincount(idx, minlength=num) if scale_grad_by_freq else None
    return EmbeddingBag.apply(
        weight, psw, idx=idx[keep], bags=bags[keep], n_bags=n_bags, mode=mode, freq=freq
    )


__all__ = ["embedding_bag"]
