"""Argument checks of the convolution ops (``conv.py``): tensors, groups, strides and padding.

Every message names the op, the shapes or values involved and the likely fix.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops._util import as_tuple


def check_tensors(op: str, spatial: int, input, weight, bias, transposed: bool = False):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(
            f"{op}: input and weight must be neuronet Tensors, got {type(input).__name__} and "
            f"{type(weight).__name__}; wrap arrays with neuronet.tensor(...)"
        )
    dims = ("L",) if spatial == 1 else ("H", "W")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(
            f"{op}: expected a {spatial + 1}-d (unbatched) or {spatial + 2}-d (batched) input "
            f"(N, C, {', '.join(dims)}), got shape {tuple(input.shape)}; reshape the input or use "
            f"the conv{'1' if spatial == 2 else '2'}d op that matches its rank"
        )
    kernel = ", ".join("k" + d for d in dims)
    layout = (
        "in_channels, out_channels/groups" if transposed else "out_channels, in_channels/groups"
    )
    if weight.ndim != spatial + 2:
        raise ValueError(
            f"{op}: expected a {spatial + 2}-d weight ({layout}, {kernel}), "
            f"got shape {tuple(weight.shape)}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}; use .float()")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != input.dtype:
            raise TypeError(
                f"{op}: input is {input.dtype} but {name} is {t.dtype}; convert one so they match "
                f"(e.g. module.to({str(input.dtype)!r}))"
            )


def check_groups(op: str, groups, channels: int, weight, per_group_axis: int, split_axis: int):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if weight.shape[split_axis] % groups:
        raise ValueError(
            f"{op}: weight of shape {tuple(weight.shape)} cannot be split into groups={groups} "
            f"(dimension {split_axis} is not divisible by {groups})"
        )
    expected = weight.shape[per_group_axis] * (groups if per_group_axis == 1 else 1)
    if channels != expected:
        how = "weight.shape[1] * groups" if per_group_axis == 1 else "weight.shape[0]"
        raise ValueError(
            f"{op}: input has {channels} channels but weight of shape {tuple(weight.shape)} with "
            f"groups={groups} expects {expected} ({how}); check in_channels against the data"
        )


def positive(op: str, name: str, value, spatial: int) -> tuple:
    out = as_tuple(value, spatial, name, op)
    if any(v < 1 for v in out):
        raise ValueError(f"{op}: {name} must be positive, got {value!r}")
    return out


def padding_pairs(op: str, padding, spatial: int, kernel, stride, dilation) -> tuple:
    """Per spatial dim (before, after) zero padding; 'same' puts the odd cell after."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * spatial
        if padding != "same":
            raise ValueError(
                f"{op}: invalid padding string {padding!r}; use 'same', 'valid', an int or a "
                f"tuple of {spatial} ints"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{op}: padding='same' is not supported for strided convolutions "
                f"(stride={stride}); use stride=1 or give the padding as numbers"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = as_tuple(padding, spatial, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)
