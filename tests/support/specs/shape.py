"""Specs for ops/shape.py (views, cast, clone), ops/joining.py (cat, stack, split, chunk,
unbind), ops/rearranging.py (flip, repeat, tril, triu) and ops/padding.py."""

from __future__ import annotations

import numpy as np

import neuronet as nt
import neuronet.functional as F
from support.op_specs import OpSpec


def _normal(*shapes):
    def make(rng, dtype):
        return [rng.standard_normal(s).astype(dtype) for s in shapes]

    return make


def _same(fn):
    """A call written once that works on both neuronet and torch tensors."""
    return fn, fn


def _torch(name, *args, **kwargs):
    def call(*tensors):
        import torch

        return getattr(torch, name)(*tensors, *args, **kwargs)

    return call


def _torch_pad(pad, **kwargs):
    def call(x):
        import torch

        return torch.nn.functional.pad(x, pad, **kwargs)

    return call


def _torch_cast(x):
    import torch

    return x.to(torch.float64)


def _pad(pad, mode="constant", value=None, shape=(2, 3, 4)):
    return OpSpec(
        "pad",
        lambda x: F.pad(x, pad, mode=mode, value=value),
        _torch_pad(pad, mode=mode, value=value),
        _normal(shape),
    )


SPECS = [
    OpSpec("cast", lambda x: nt.ops.shape.cast(x, np.float64), _torch_cast, _normal((3, 4))),
    OpSpec(
        "reshape", lambda x: nt.reshape(x, (4, -1)), _torch("reshape", (4, -1)), _normal((2, 6))
    ),
    OpSpec("reshape", *_same(lambda x: x.reshape(-1)), _normal((2, 3, 2))),
    OpSpec("reshape", *_same(lambda x: x.reshape(3, 1, 2, 2)), _normal((2, 6))),
    OpSpec("view", lambda x: nt.view(x, 2, 2, 3), lambda x: x.view(2, 2, 3), _normal((4, 3))),
    OpSpec("view", *_same(lambda x: x.view((-1, 4))), _normal((2, 3, 4))),
    OpSpec("flatten", nt.flatten, _torch("flatten"), _normal((2, 3, 4))),
    OpSpec("flatten", *_same(lambda x: x.flatten(1)), _normal((2, 3, 4))),
    OpSpec("flatten", *_same(lambda x: x.flatten(0, -2)), _normal((2, 3, 4, 2))),
    OpSpec("unflatten", *_same(lambda x: x.unflatten(1, (2, -1))), _normal((3, 6))),
    OpSpec("squeeze", nt.squeeze, _torch("squeeze"), _normal((1, 3, 1, 2))),
    OpSpec("squeeze", *_same(lambda x: x.squeeze(-2)), _normal((3, 1, 2))),
    OpSpec("squeeze", *_same(lambda x: x.squeeze((0, 1))), _normal((1, 3, 1))),
    OpSpec("unsqueeze", *_same(lambda x: x.unsqueeze(0)), _normal((3, 2))),
    OpSpec("unsqueeze", *_same(lambda x: x.unsqueeze(-1)), _normal((3, 2))),
    OpSpec("permute", *_same(lambda x: x.permute(2, 0, 1)), _normal((2, 3, 4))),
    OpSpec(
        "permute",
        lambda x: nt.permute(x, (1, -1, 0)),
        _torch("permute", (1, -1, 0)),
        _normal((2, 3, 4)),
    ),  # fmt: skip
    OpSpec("transpose", *_same(lambda x: x.transpose(0, -1)), _normal((2, 3, 4))),
    OpSpec(
        "transpose", lambda x: nt.transpose(x, 1, 0), _torch("transpose", 1, 0), _normal((2, 3))
    ),  # fmt: skip
    OpSpec("t", nt.t, _torch("t"), _normal((2, 3))),
    OpSpec("Tensor.T", *_same(lambda x: x.T), _normal((2, 3))),
    OpSpec("Tensor.mT", *_same(lambda x: x.mT), _normal((4, 2, 3))),
    OpSpec("movedim", *_same(lambda x: x.movedim(0, -1)), _normal((2, 3, 4))),
    OpSpec(
        "movedim",
        lambda x: nt.movedim(x, (0, 1), (2, 0)),
        _torch("movedim", (0, 1), (2, 0)),
        _normal((2, 3, 4)),
    ),  # fmt: skip
    OpSpec("expand", *_same(lambda x: x.expand(2, 3, 4)), _normal((3, 1))),
    OpSpec("expand", *_same(lambda x: x.expand(-1, 4)), _normal((3, 1))),
    OpSpec(
        "broadcast_to",
        lambda x: nt.broadcast_to(x, (2, 3, 4)),
        _torch("broadcast_to", (2, 3, 4)),
        _normal((1, 4)),
    ),  # fmt: skip
    OpSpec(
        "cat",
        lambda a, b, c: nt.cat([a, b, c], 1),
        lambda a, b, c: _torch("cat", 1)([a, b, c]),
        _normal((2, 1, 3), (2, 2, 3), (2, 4, 3)),
    ),  # fmt: skip
    OpSpec(
        "cat",
        lambda a, b: nt.concat((a, b)),
        lambda a, b: _torch("cat")((a, b)),
        _normal((2, 3), (1, 3)),
        covers=("concat",),
    ),  # fmt: skip
    OpSpec(
        "stack",
        lambda a, b: nt.stack([a, b], -1),
        lambda a, b: _torch("stack", -1)([a, b]),
        _normal((2, 3), (2, 3)),
    ),  # fmt: skip
    OpSpec(
        "stack",
        lambda a, b, c: nt.stack([a, b, c]),
        lambda a, b, c: _torch("stack")([a, b, c]),
        _normal((4,), (4,), (4,)),
    ),  # fmt: skip
    OpSpec("split", lambda x: nt.split(x, 2, 1), _torch("split", 2, 1), _normal((3, 5))),
    OpSpec("split", *_same(lambda x: x.split([1, 3], dim=-1)), _normal((2, 4))),
    OpSpec("split", lambda x: nt.split(x, 2)[1], lambda x: x.split(2)[1], _normal((5, 2))),
    OpSpec("chunk", lambda x: nt.chunk(x, 3, 1), _torch("chunk", 3, 1), _normal((2, 7))),
    OpSpec("chunk", *_same(lambda x: x.chunk(2)), _normal((4, 3))),
    OpSpec("unbind", nt.unbind, _torch("unbind"), _normal((3, 4))),
    OpSpec("unbind", *_same(lambda x: x.unbind(-1)[1]), _normal((2, 3))),
    OpSpec("flip", lambda x: nt.flip(x, (0, 2)), _torch("flip", (0, 2)), _normal((2, 3, 4))),
    OpSpec("clone", *_same(lambda x: x.clone() * 2.0), _normal((2, 3))),
    OpSpec("flip", *_same(lambda x: x.flip(-1)), _normal((2, 3))),
    OpSpec("repeat", *_same(lambda x: x.repeat(2, 3)), _normal((2, 3))),
    OpSpec("repeat", *_same(lambda x: x.repeat(2, 1, 3)), _normal((3, 2))),
    OpSpec("tril", nt.tril, _torch("tril"), _normal((4, 4))),
    OpSpec("tril", lambda x: nt.tril(x, -1), _torch("tril", -1), _normal((2, 3, 4))),
    OpSpec("triu", lambda x: nt.triu(x, 1), _torch("triu", 1), _normal((3, 4))),
    OpSpec("triu", *_same(lambda x: x.triu()), _normal((2, 4, 3))),
    _pad((1, 2)),
    _pad((1, 1, 2, 0), value=0.5),
    _pad((0, 0, 0, 0, 1, 1)),
    _pad((-1, 2, 1, -2)),
    _pad((2, 1), mode="reflect"),
    _pad((1, 2, 2, 1), mode="reflect"),
    _pad((3, 2), mode="replicate"),
    _pad((1, 0, 2, 3), mode="replicate"),
    _pad((4, 2), mode="circular"),
    _pad((1, 2, 3, 1), mode="circular"),
    _pad((1, 1, 1, 2, 2, 1), mode="reflect", shape=(1, 2, 3, 4, 3)),
]
