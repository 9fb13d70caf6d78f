"""Image transforms, vectorised over a batch, seeded.

Every transform takes one image ``(C, H, W)`` or a batch ``(N, C, H, W)``, as a NumPy array or
a neuronet Tensor, and returns the same kind. On a batch, random transforms draw *independently
for each sample* (torchvision draws once for the whole tensor): one vectorised call augments a
batch. Random transforms take ``generator=``; without one they draw from
``neuronet.data.batch_generator()``, which inside a ``DataLoader`` is seeded by (epoch, batch),
so a seeded run augments identically every time, with or without prefetching.

Names and arguments follow ``torchvision.transforms``: ``Compose``, ``Normalize``,
``RandomCrop``, ``RandomHorizontalFlip``, ``ToTensor``, ``Lambda``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from neuronet.autograd.tensor import Tensor
from neuronet.data._rng import resolve_transform_generator
from neuronet.random import Generator

__all__ = ["Compose", "Normalize", "RandomCrop", "RandomHorizontalFlip", "ToTensor", "Lambda"]

_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _unwrap(x, name: str) -> tuple[np.ndarray, bool]:
    if isinstance(x, Tensor):
        return x.array, True
    if isinstance(x, np.ndarray):
        return x, False
    raise TypeError(f"{name}: expected a NumPy array or a neuronet Tensor, got {type(x).__name__}")


def _as_batch(arr: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """(C, H, W) -> (1, C, H, W); (N, C, H, W) unchanged. Returns (batch, was_single)."""
    if arr.ndim == 3:
        return arr[None], True
    if arr.ndim == 4:
        return arr, False
    raise ValueError(
        f"{name}: expected an image (C, H, W) or a batch (N, C, H, W), got shape {arr.shape}; "
        "flattened images must be reshaped first (e.g. load_digits(flatten=False))"
    )


def _rewrap(arr: np.ndarray, was_tensor: bool):
    return Tensor(arr) if was_tensor else arr


class Compose:
    """Apply ``transforms`` one after the other.

    Example:
        >>> import numpy as np
        >>> t = Compose([Normalize([0.5], [0.5]), RandomHorizontalFlip(p=0.0)])
        >>> t(np.ones((1, 2, 2), np.float32)).tolist()
        [[[1.0, 1.0], [1.0, 1.0]]]
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda:
    """Apply a user function ``fn(x)`` as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: fn should be callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', 'fn')})"


class Normalize:
    """Per-channel standardisation: ``y[c] = (x[c] - mean[c]) / std[c]``.

    Args:
        mean: one value per channel (or one for all).
        std: one value per channel (or one for all); must be non-zero.
        inplace: overwrite the input array instead of allocating a new one.

    Shape: (C, H, W) or (N, C, H, W), floating point; the dtype is kept (float32 stays float32).
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError("Normalize: mean and std must be sequences of numbers, one a channel")
        if (self.std == 0).any():
            raise ValueError(
                f"Normalize: std evaluated to zero ({self.std.tolist()}), leading to division by "
                "zero; use a non-zero std for every channel"
            )
        self.inplace = inplace

    def __call__(self, x):
        arr, was_tensor = _unwrap(x, "Normalize")
        if arr.dtype.kind != "f":
            raise TypeError(
                f"Normalize: expected a floating-point image, got dtype {arr.dtype}; convert "
                "first (ToTensor() scales uint8 images to float32 in [0, 1])"
            )
        if arr.ndim < 3:
            raise ValueError(
                f"Normalize: expected an image (C, H, W) or a batch (N, C, H, W), got shape "
                f"{arr.shape}"
            )
        channels = arr.shape[-3]
        for label, values in (("mean", self.mean), ("std", self.std)):
            if values.size not in (1, channels):
                raise ValueError(
                    f"Normalize: {label} has {values.size} values but the image has {channels} "
                    "channels; give one value per channel"
                )
        mean = self.mean.astype(arr.dtype).reshape(-1, 1, 1)
        std = self.std.astype(arr.dtype).reshape(-1, 1, 1)
        if self.inplace:
            np.subtract(arr, mean, out=arr)
            np.divide(arr, std, out=arr)
            return x
        return _rewrap((arr - mean) / std, was_tensor)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _pair(value, name: str, what: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    if isinstance(value, (tuple, list)) and len(value) == 1:
        return int(value[0]), int(value[0])
    raise ValueError(f"{name}: {what} must be an int or a pair (h, w), got {value!r}")


def _padding4(padding) -> tuple[int, int, int, int]:
    """torchvision's convention: int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        return p, p, p, p
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(
        f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, got {padding!r}"
    )


class RandomCrop:
    """Crop a random ``size`` window, after optional padding (each sample its own window).

    Args:
        size: output (h, w), or an int for a square.
        padding: added before cropping: int (all sides), (left/right, top/bottom) or
            (left, top, right, bottom), as torchvision.
        pad_if_needed: pad images smaller than ``size`` (by the shortfall on both sides).
        fill: the value of constant padding.
        padding_mode: 'constant', 'edge', 'reflect' or 'symmetric' (NumPy's ``np.pad`` modes).
        generator: a ``neuronet.Generator`` (default: ``batch_generator()``).

    The window's top-left corner is uniform over all positions that fit in the padded image.
    """

    def __init__(
        self,
        size,
        padding=None,
        pad_if_needed: bool = False,
        fill=0,
        padding_mode: str = "constant",
        generator: Generator | None = None,
    ):
        self.size = _pair(size, "RandomCrop", "size")
        if min(self.size) <= 0:
            raise ValueError(f"RandomCrop: size must be positive, got {self.size}")
        self.padding = None if padding is None else _padding4(padding)
        if self.padding is not None and min(self.padding) < 0:
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def _pad(self, batch: np.ndarray) -> np.ndarray:
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        h, w = self.size
        if self.pad_if_needed:
            short_h = max(0, h - (batch.shape[2] + top + bottom))
            short_w = max(0, w - (batch.shape[3] + left + right))
            top, bottom = top + short_h, bottom + short_h
            left, right = left + short_w, right + short_w
        if not (left or top or right or bottom):
            return batch
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(batch, widths, mode="constant", constant_values=self.fill)
        return np.pad(batch, widths, mode=self.padding_mode)

    def __call__(self, x):
        arr, was_tensor = _unwrap(x, "RandomCrop")
        batch, single = _as_batch(arr, "RandomCrop")
        padded = self._pad(batch)
        h, w = self.size
        n, _, height, width = padded.shape
        if height < h or width < w:
            raise ValueError(
                f"RandomCrop: required crop size {self.size} is larger than the (padded) input "
                f"image size {(height, width)}; pass padding= or pad_if_needed=True"
            )
        g = resolve_transform_generator(self.generator)
        top = g.integers(0, height - h + 1, (n,))
        left = g.integers(0, width - w + 1, (n,))
        if single:
            out = padded[0, :, top[0] : top[0] + h, left[0] : left[0] + w].copy()
        else:
            windows = sliding_window_view(padded, (h, w), axis=(2, 3))
            out = windows[np.arange(n), :, top, left]  # (N, C, h, w), one gather
        return _rewrap(out, was_tensor)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p`` (each sample of a batch independently).

    Args:
        p: probability of flipping.
        generator: a ``neuronet.Generator`` (default: ``batch_generator()``).
    """

    def __init__(self, p: float = 0.5, generator: Generator | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, x):
        arr, was_tensor = _unwrap(x, "RandomHorizontalFlip")
        batch, single = _as_batch(arr, "RandomHorizontalFlip")
        g = resolve_transform_generator(self.generator)
        flip = g.uniform((batch.shape[0],), dtype=np.float64) < self.p
        out = batch.copy()
        out[flip] = batch[flip, :, :, ::-1]
        return _rewrap(out[0] if single else out, was_tensor)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class ToTensor:
    """Images stored height-width-channel (as files and PIL give them) -> CHW float Tensors.

    ``(H, W)`` -> ``(1, H, W)``; ``(H, W, C)`` -> ``(C, H, W)``; ``(N, H, W, C)`` ->
    ``(N, C, H, W)``. ``uint8`` values are scaled to float32 in [0, 1] (divided by 255); float
    arrays keep their dtype and values. The result is a copy.
    """

    def __call__(self, x):
        arr, _ = _unwrap(x, "ToTensor")
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        elif arr.ndim == 4:
            arr = arr.transpose(0, 3, 1, 2)
        else:
            raise ValueError(
                f"ToTensor: expected (H, W), (H, W, C) or (N, H, W, C), got shape {arr.shape}"
            )
        if arr.dtype == np.uint8:
            out = arr.astype(np.float32)
            np.divide(out, np.float32(255), out=out)
            return Tensor(out)
        if arr.dtype.kind != "f":
            return Tensor(np.ascontiguousarray(arr, dtype=np.float32))
        return Tensor(np.ascontiguousarray(arr).copy())

    def __repr__(self) -> str:
        return "ToTensor()"
