"""Gradient buckets: which parameters' gradients travel together in one all-reduce.

Parameters are taken in *reverse* registration order -- roughly the order in which backward
finishes their gradients -- and packed into buckets of one dtype each. A bucket closes once it
holds ``bucket_bytes``; the first one is kept small (1 MiB, PyTorch's
``_DEFAULT_FIRST_BUCKET_BYTES``) so that communication starts as early as possible in the
backward pass.

Each bucket owns one flat buffer: the gradients at fixed offsets, then ``3 * world_size`` tag
slots. Before the all-reduce, rank r writes its step number, its count of forward passes and the
bucket's index into slots ``3r .. 3r + 2`` (all others zero), so after the sum every rank can
read what every other rank reduced in this message. A rank that skipped a step, accumulated a
different number of micro-batches (``no_sync`` on one rank only) or reduced a different bucket
here is named in the error (``check_tags``). With ``find_unused_parameters`` there is also one
"used" slot per parameter, summed the same way, so a parameter unused on every rank keeps
``grad = None`` as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from neuronet.distributed.errors import DistributedError

FIRST_BUCKET_BYTES = 1 << 20
_MODULUS = 1 << 23  # counters are tagged modulo this (exact even in float32)
_TAGS = 3  # slots per rank: step, forward passes, bucket index


class Bucket:
    """One bucket: its parameters, their offsets in ``buffer``, and the step's progress."""

    def __init__(self, index: int, dtype, params: list, names: list, world: int, used: bool):
        self.index = index
        self.dtype = np.dtype(dtype)
        self.params = params
        self.names = names
        self.offsets = []
        offset = 0
        for p in params:
            self.offsets.append(offset)
            offset += p.array.size
        self.numel = offset
        self.world = world
        self.tag_start = offset
        self.used_start = offset + _TAGS * world
        size = self.used_start + (len(params) if used else 0)
        self.buffer = np.zeros(size, self.dtype)
        self.track_used = used
        self.pending = len(params)  # gradients still to arrive this step
        self.request = None  # the in-flight all-reduce (MPI request), or a done-Event

    def view(self, i: int) -> np.ndarray:
        """The slice of ``buffer`` holding parameter ``i``'s gradient, shaped like it."""
        p = self.params[i]
        start = self.offsets[i]
        return self.buffer[start : start + p.array.size].reshape(p.array.shape)

    def reset(self) -> None:
        self.pending = len(self.params)
        self.request = None
        if self.track_used:
            self.buffer[self.used_start :] = 0

    def tag(self, rank: int, step: int, forwards: int) -> None:
        tags = self.buffer[self.tag_start : self.used_start]
        tags[:] = 0
        tags[_TAGS * rank : _TAGS * rank + _TAGS] = (
            step % _MODULUS,
            forwards % _MODULUS,
            self.index,
        )

    def check_tags(self, rank: int, step: int, forwards: int) -> None:
        """After the sum: every rank must have reduced this bucket of this step, after as many
        forward passes as this rank."""
        tags = self.buffer[self.tag_start : self.used_start].reshape(self.world, _TAGS)
        want = (step % _MODULUS, forwards % _MODULUS, self.index)
        for r in range(self.world):
            theirs = tuple(int(v) for v in tags[r])
            if theirs != want:
                raise DistributedError(
                    f"DistributedDataParallel: ranks reduced different gradients together: rank "
                    f"{rank} reduced bucket {self.index} of step {step} after {forwards} forward "
                    f"passes ({self.describe()}) while rank {r} reduced bucket {theirs[2]} of "
                    f"step {theirs[0]} after {theirs[1]} forward passes. Every rank must run the "
                    "same number of forward/backward steps (the same number of batches: use "
                    "DistributedSampler), use no_sync() alike, and build the same model"
                )

    def describe(self, limit: int = 4) -> str:
        names = ", ".join(self.names[:limit])
        more = f", ... {len(self.names) - limit} more" if len(self.names) > limit else ""
        return f"{len(self.names)} parameter(s): {names}{more}"

    def layout_rows(self) -> list[str]:
        return [
            f"bucket {self.index}: {n} {tuple(p.array.shape)} {self.dtype}"
            for n, p in zip(self.names, self.params)
        ]


def assign_buckets(named_params: list, bucket_bytes: int, world: int, track_used: bool) -> list:
    """Buckets over ``named_params`` (name, Parameter) pairs that require grad, reverse order."""
    todo = [(n, p) for n, p in named_params if p.requires_grad]
    open_: dict = {}  # dtype -> (names, params, bytes)
    closed = []  # (names, params, dtype) in closing order
    limit = min(FIRST_BUCKET_BYTES, bucket_bytes)
    for name, p in reversed(todo):
        dtype = p.array.dtype
        names, params, size = open_.get(dtype, ([], [], 0))
        names.append(name)
        params.append(p)
        size += p.array.nbytes
        if size >= limit:
            closed.append((names, params, dtype))
            open_.pop(dtype, None)
            limit = bucket_bytes
        else:
            open_[dtype] = (names, params, size)
    for dtype, (names, params, _) in open_.items():
        closed.append((names, params, dtype))
    return [
        Bucket(i, dtype, params, names, world, track_used)
        for i, (names, params, dtype) in enumerate(closed)
    ]
