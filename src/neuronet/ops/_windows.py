"""Sliding windows for pooling: their geometry, tap views and first-maximum scans.

The pooling window of output pixel (oh, ow) covers the padded-input cells
(oh*sh + i*dh, ow*sw + j*dw) for kernel taps 0 <= i < kH, 0 <= j < kW. Tap (i, j) of all windows
at once is one strided view with the output's shape, so every pooling op is a loop over the
kH*kW taps of whole-array NumPy operations (see ``pooling.py``). Adaptive pools
(``adaptive_pooling.py``) use bins [floor(i*L/n), ceil((i+1)*L/n)) instead of a fixed kernel.
"""

from __future__ import annotations

import numpy as np


class Windows:
    """Pooling geometry of one 2-d call: padded sizes, output sizes and the tap views."""

    def __init__(self, in_hw, kernel, stride, pads, dilation, out_hw):
        self.H, self.W = in_hw
        self.kH, self.kW = kernel
        self.sh, self.sw = stride
        self.ph, self.pw = pads
        self.dh, self.dw = dilation
        self.OH, self.OW = out_hw
        # ceil_mode can need extra cells past the right/bottom padding; they are padding too.
        self.Hp = max(self.H + 2 * self.ph, (self.OH - 1) * self.sh + self.dh * (self.kH - 1) + 1)
        self.Wp = max(self.W + 2 * self.pw, (self.OW - 1) * self.sw + self.dw * (self.kW - 1) + 1)

    def pad(self, x: np.ndarray, value) -> np.ndarray:
        """x (N, C, H, W) -> (N, C, Hp, Wp) filled with ``value`` around it (x itself if no pad)."""
        if (self.Hp, self.Wp) == (self.H, self.W):
            return x
        out = np.full(x.shape[:2] + (self.Hp, self.Wp), value, dtype=x.dtype)
        out[:, :, self.ph : self.ph + self.H, self.pw : self.pw + self.W] = x
        return out

    def unpad(self, padded: np.ndarray) -> np.ndarray:
        if (self.Hp, self.Wp) == (self.H, self.W):
            return padded
        inner = padded[:, :, self.ph : self.ph + self.H, self.pw : self.pw + self.W]
        return np.ascontiguousarray(inner)

    def taps(self, padded: np.ndarray):
        """Yield (k, view): view[n, c, oh, ow] = padded[n, c, oh*sh + i*dh, ow*sw + j*dw]."""
        for i in range(self.kH):
            for j in range(self.kW):
                h0 = i * self.dh
                w0 = j * self.dw
                yield (
                    i * self.kW + j,
                    padded[
                        :,
                        :,
                        h0 : h0 + (self.OH - 1) * self.sh + 1 : self.sh,
                        w0 : w0 + (self.OW - 1) * self.sw + 1 : self.sw,
                    ],
                )

    def tiles(self) -> bool:
        """True when windows never overlap (each input cell is in at most one window)."""
        return self.sh >= self.dh * (self.kH - 1) + 1 and self.sw >= self.dw * (self.kW - 1) + 1

    def blocks(self) -> bool:
        """True for the common fast case: stride == kernel, no dilation, no padding of any kind.

        The windows are then the blocks of a reshape (N, C, OH, kH, OW, kW) of the input (its
        last H % kH rows and W % kW columns, if any, belong to no window).
        """
        return (
            (self.dh, self.dw) == (1, 1)
            and (self.sh, self.sw) == (self.kH, self.kW)
            and (self.Hp, self.Wp) == (self.H, self.W)
        )

    def covered(self) -> bool:
        """True when every padded cell is in exactly one window (a backward needs no zeros)."""
        return self.blocks() and (self.OH * self.kH, self.OW * self.kW) == (self.H, self.W)

    def stacked(self, x: np.ndarray) -> np.ndarray:
        """For ``blocks()``: the taps as one contiguous (kH*kW, N, C, OH, OW) array."""
        n, c = x.shape[:2]
        blocks = x[:, :, : self.OH * self.kH, : self.OW * self.kW].reshape(
            n, c, self.OH, self.kH, self.OW, self.kW
        )
        stack = np.ascontiguousarray(blocks.transpose(3, 5, 0, 1, 2, 4))
        return stack.reshape(self.kH * self.kW, n, c, self.OH, self.OW)

    def flat_index(self, tap: np.ndarray) -> np.ndarray:
        """Index h*W + w in the unpadded input of the cell that ``tap`` (N, C, OH, OW) names."""
        i, j = np.divmod(tap.astype(np.int64), self.kW)
        h = np.arange(self.OH).reshape(-1, 1) * self.sh - self.ph + i * self.dh
        w = np.arange(self.OW) * self.sw - self.pw + j * self.dw
        return (h * self.W + w).astype(np.int64)


def first_max(make_taps, n_taps: int) -> tuple:
    """(max, index of the first maximal tap) over the taps, (k, view) pairs from make_taps().

    A later tap wins only if strictly greater, so ties keep the first. A NaN wins over any
    number (PyTorch's ``val > max || isnan(val)``); since NaN is rare, the first scan only
    notices it (np.maximum propagates NaN) and a second, NaN-aware scan runs only then.
    """
    dtype = np.uint8 if n_taps <= 256 else np.int32
    best, arg = scan_taps(make_taps(), dtype, nan_aware=False)
    if np.isnan(best).any():
        best, arg = scan_taps(make_taps(), dtype, nan_aware=True)
    return best, arg


def first_max_stacked(stack: np.ndarray) -> tuple:
    """``_first_max`` over the rows of a contiguous (K, ...) stack of taps."""
    best = stack.max(axis=0)
    if np.isnan(best).any():
        return first_max(lambda: enumerate(stack), stack.shape[0])
    arg = np.full(best.shape, stack.shape[0] - 1, dtype=np.uint8 if len(stack) <= 256 else np.int32)
    equal = np.empty(best.shape, dtype=bool)
    for k in range(stack.shape[0] - 2, -1, -1):  # the first tap equal to the max wins
        np.equal(stack[k], best, out=equal)
        np.copyto(arg, k, where=equal)
    return best, arg


def scan_taps(taps, dtype, nan_aware: bool) -> tuple:
    best = arg = better = None
    for k, view in taps:
        if best is None:
            best = view.copy()
            arg = np.zeros(best.shape, dtype=dtype)
            better = np.empty(best.shape, dtype=bool)
            continue
        np.greater(view, best, out=better)
        if nan_aware:
            better |= np.isnan(view)
            np.copyto(best, view, where=better)
        else:
            np.maximum(best, view, out=best)
        np.copyto(arg, k, where=better)
    return best, arg


def bins(size: int, out: int) -> tuple:
    """Adaptive pooling bins: [floor(i*size/out), ceil((i+1)*size/out)) for i < out."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    return start, end


def averaging_matrix(size: int, out: int, dtype) -> np.ndarray:
    """A (out, size) matrix whose row i averages bin i: A[i, p] = 1/len(bin i) inside it."""
    start, end = bins(size, out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def bin_members(size: int, out: int) -> np.ndarray:
    """(out, longest bin) input positions of each bin, short bins padded with their last cell."""
    start, end = bins(size, out)
    longest = int((end - start).max()) if out else 1
    return np.minimum(start[:, None] + np.arange(longest), (end - 1)[:, None])
