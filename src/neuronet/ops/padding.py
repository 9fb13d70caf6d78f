"""Padding: ``pad(input, pad, mode='constant', value=None)``, PyTorch's ``F.pad``.

``pad`` lists (before, after) amounts starting from the LAST dim, as PyTorch (NumPy's ``np.pad``
lists dims first to last): ``(1, 2)`` pads the last dim with 1 element before and 2 after;
``(1, 1, 2, 2)`` also pads the second-to-last dim with 2 on each side.

Modes, for the row [1 2 3] padded by (2, 2):
- ``'constant'``: ``value`` (default 0) -> [0 0 1 2 3 0 0]; negative amounts crop.
- ``'reflect'``: mirror without repeating the edge -> [3 2 1 2 3 2 1] (needs pad < size).
- ``'replicate'``: repeat the edge -> [1 1 1 2 3 3 3] (any amount).
- ``'circular'``: wrap around -> [2 3 1 2 3 1 2] (needs pad <= size).
The non-constant modes pad the last 1, 2 or 3 dims of a batched input, as PyTorch requires.
Negative amounts crop, in every mode, as PyTorch: 'circular' crops first and wraps what is left
(pad (-1, 1) of [1 2 3 4] is [2 3 4 2]); the others pad first and then crop.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _along(ndim: int, dim: int, start, stop) -> tuple:
    """An index selecting ``start:stop`` along ``dim`` and everything along the other dims."""
    index = [slice(None)] * ndim
    index[dim] = slice(start, stop)
    return tuple(index)


class ConstantPad(Function):
    """y = x placed inside a block filled with ``value`` (negative amounts crop x);
    dL/dx = the block of dL/dy where x landed (0 for cropped elements of x).
    Saves: nothing (the slices only)."""

    @staticmethod
    def forward(ctx, x, pairs=(), value=0):
        out_shape = []
        src = []
        dst = []
        for n, (lo, hi) in zip(x.shape, pairs):
            out_shape.append(n + lo + hi)
            src.append(slice(max(-lo, 0), n - max(-hi, 0)))
            dst.append(slice(max(lo, 0), n + lo + hi - max(hi, 0)))
        out = np.full(out_shape, value, dtype=x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        ctx.meta = (x.shape, tuple(src), tuple(dst), any(lo < 0 or hi < 0 for lo, hi in pairs))
        return out

    @staticmethod
    def backward(ctx, grad_out):
        shape, src, dst, cropped = ctx.meta
        if not cropped:
            return (grad_out[dst],)
        grad = np.zeros(shape, dtype=grad_out.dtype)
        grad[src] = grad_out[dst]
        return (grad,)


class EdgePad(Function):
    """y = x padded from its own elements: mirrored ('reflect'), edge repeated ('replicate')
    or wrapped ('circular');  dL/dx = dL/dy with each padded border folded back (added) onto
    the elements it was copied from, one dim at a time.  Saves: nothing (shapes only)."""

    @staticmethod
    def forward(ctx, x, pairs=(), mode="reflect"):
        ctx.meta = (x.shape, pairs, mode)
        return np.pad(x, pairs, mode=_NUMPY_MODE[mode])

    @staticmethod
    def backward(ctx, grad_out):
        shape, pairs, mode = ctx.meta
        grad = grad_out
        ndim = len(shape)
        for d, (lo, hi) in enumerate(pairs):
            if lo == 0 and hi == 0:
                continue
            n = shape[d]
            core = grad[_along(ndim, d, lo, lo + n)].copy()
            before = grad[_along(ndim, d, 0, lo)]
            after = grad[_along(ndim, d, lo + n, lo + n + hi)]
            if mode == "reflect":
                core[_along(ndim, d, 1, lo + 1)] += np.flip(before, d)
                core[_along(ndim, d, n - 1 - hi, n - 1)] += np.flip(after, d)
            elif mode == "replicate":
                core[_along(ndim, d, 0, 1)] += before.sum(axis=d, keepdims=True)
                core[_along(ndim, d, n - 1, n)] += after.sum(axis=d, keepdims=True)
            else:  # circular
                core[_along(ndim, d, n - lo, n)] += before
                core[_along(ndim, d, 0, hi)] += after
            grad = core
        return (grad,)


def _pairs(pad, shape: tuple, op: str) -> tuple:
    """PyTorch's flat last-dim-first ``pad`` as NumPy's (before, after) pair per dim."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ValueError(f"{op}: padding length must be divisible by 2, got {pad}")
    if len(pad) // 2 > len(shape):
        raise ValueError(
            f"{op}: padding {pad} covers {len(pad) // 2} dims but the input has only "
            f"{len(shape)} (shape {shape})"
        )
    pairs = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        pairs[len(shape) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return tuple(pairs)


def _check_edge_pad(pairs: tuple, pad: tuple, shape: tuple, mode: str) -> None:
    n = len(pad) // 2
    if n not in (1, 2, 3) or len(shape) not in (n + 1, n + 2):
        raise ValueError(
            f"pad: mode '{mode}' with a padding of length {len(pad)} needs a {n + 1}-D or "
            f"{n + 2}-D input (batch and channel dims in front), got shape {shape}; use "
            "(left, right) for 2-D/3-D inputs, 4 amounts for 3-D/4-D, 6 for 4-D/5-D"
        )
    for d, (lo, hi) in enumerate(pairs):
        if shape[d] + lo + hi < 0:
            raise ValueError(
                f"pad: negative padding ({lo}, {hi}) at dim {d} would leave a negative size "
                f"(input shape {shape}); negative amounts can crop at most the whole dim"
            )
        if mode == "replicate":
            continue  # any amount: the edge repeats
        limit = shape[d] - 1 if mode == "reflect" else shape[d]
        if max(lo, hi) > max(limit, 0):
            rule = "less than" if mode == "reflect" else "at most"
            raise ValueError(
                f"pad: in mode '{mode}' the padding must be {rule} the size of the dim it pads, "
                f"but got padding ({lo}, {hi}) at dim {d} of an input of shape {shape}"
            )


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad ``input`` by the amounts in ``pad`` (last dim first, as PyTorch's ``F.pad``).

    Example:
        >>> import neuronet as nt
        >>> nt.functional.pad(nt.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
        [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: expected a Tensor, got {type(input).__name__}")
    shape = input.array.shape
    pairs = _pairs(pad, shape, "pad")
    if mode == "constant":
        for d, ((lo, hi), n) in enumerate(zip(pairs, shape)):
            if n + lo + hi < 0:
                raise ValueError(
                    f"pad: the size {n} of dim {d} plus padding ({lo}, {hi}) is negative; "
                    "negative padding can crop at most the whole dim"
                )
        return ConstantPad.apply(input, pairs=pairs, value=0 if value is None else value)
    if mode not in _NUMPY_MODE:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if value is not None and value != 0:
        raise ValueError(f"pad: mode '{mode}' does not take a value argument (got {value})")
    _check_edge_pad(pairs, tuple(pad), shape, mode)
    # Negative amounts crop, as in torch: 'circular' crops first and wraps what is left; the
    # other modes pad by the positive amounts first and crop the result.
    grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
    crop = tuple((min(lo, 0), min(hi, 0)) for lo, hi in pairs)
    out = input
    if mode == "circular" and any(map(any, crop)):
        out = ConstantPad.apply(out, pairs=crop, value=0)
    if any(map(any, grow)):
        out = EdgePad.apply(out, pairs=grow, mode=mode)
    if mode != "circular" and any(map(any, crop)):
        out = ConstantPad.apply(out, pairs=crop, value=0)
    return out


__all__ = ["pad"]
