"""Rearranging channels and pixels: pixel_shuffle, pixel_unshuffle, channel_shuffle.

    pixel_shuffle(x, r):    (*, C r^2, H, W) -> (*, C, H r, W r)
        out[..., c, h r + i, w r + j] = x[..., c r^2 + i r + j, h, w]
        (Shi et al., 2016, https://arxiv.org/abs/1609.05158)
    pixel_unshuffle(x, r):  the inverse, (*, C, H r, W r) -> (*, C r^2, H, W)
    channel_shuffle(x, g):  (N, g k, *) -> (N, k g, *), channel (i, j) -> (j, i)
        (Zhang et al., ShuffleNet, 2017, https://arxiv.org/abs/1707.01083)
Each is a reshape, a permutation and a reshape, so the gradient is the same rearrangement
reversed (exact compositions).
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops.shape import permute, reshape


def _check(input, op: str, min_ndim: int) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.ndim < min_ndim:
        raise ValueError(f"{op}: expected at least {min_ndim} dims, got shape {input.shape}")
    return input


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r). See ``nn.PixelShuffle``.

    Example:
        >>> import neuronet as nt
        >>> nt.functional.pixel_shuffle(nt.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
        [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    _check(input, "pixel_shuffle", 3)
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if r <= 0 or c % (r * r):
        raise ValueError(
            f"pixel_shuffle: the channel dim ({c}) must be divisible by upscale_factor**2 "
            f"({r}**2 = {r * r})"
        )
    n = len(lead)
    x = reshape(input, tuple(lead) + (c // (r * r), r, r, h, w))
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
    return reshape(permute(x, order), tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    _check(input, "pixel_unshuffle", 3)
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if r <= 0 or h % r or w % r:
        raise ValueError(
            f"pixel_unshuffle: height ({h}) and width ({w}) must be divisible by "
            f"downscale_factor ({r})"
        )
    n = len(lead)
    x = reshape(input, tuple(lead) + (c, h // r, r, w // r, r))
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
    return reshape(permute(x, order), tuple(lead) + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups. See ``nn.ChannelShuffle``."""
    _check(input, "channel_shuffle", 3)
    n, c = input.shape[:2]
    g = int(groups)
    if g <= 0 or c % g:
        raise ValueError(
            f"channel_shuffle: the number of channels ({c}) must be divisible by groups ({g})"
        )
    rest = tuple(input.shape[2:])
    x = reshape(input, (n, g, c // g) + rest)
    x = permute(x, (0, 2, 1) + tuple(range(3, 3 + len(rest))))
    return reshape(x, (n, c) + rest)


__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]
