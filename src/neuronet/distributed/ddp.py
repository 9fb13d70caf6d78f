"""DistributedDataParallel: the same model on every rank, gradients averaged during backward."""

from __future__ import annotations

import contextlib

from neuronet.autograd.grad_mode import is_grad_enabled
from neuronet.autograd.tensor import Tensor
from neuronet.distributed import process_group as pg
from neuronet.distributed.buckets import assign_buckets
from neuronet.distributed.errors import DistributedError
from neuronet.distributed.reducer import Reducer
from neuronet.nn.module import Module

DEFAULT_PROGRESS = "thread"


class DistributedDataParallel(Module):
    """Data-parallel training: wrap the model on every rank; each rank feeds its own batch.

    At construction rank 0's parameters and buffers are broadcast to all ranks, and the ranks
    check that they built the same model and the same gradient buckets. In every training step
    each rank runs forward and backward on its own batch; gradients are summed across ranks in
    buckets *while backward runs* (see ``reducer.py``) and divided by the world size, so after
    ``loss.backward()`` every rank holds the gradient of the mean loss over all ranks' samples
    and ``optimizer.step()`` keeps the replicas identical. Two ranks with batch b train exactly
    as one process with batch 2b (up to rounding).

    Args:
        module: the model.
        device_ids, output_device, dim: accepted for PyTorch's signature; neuronet runs on the
            CPU, so they must be None, None and 0.
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to all ranks
            at the start of every forward, as PyTorch does (default True).
        process_group: an mpi4py communicator to use instead of the whole world (default).
        bucket_cap_mb: bucket size in MiB (default 25, PyTorch's); ``bucket_mb`` is the same.
        find_unused_parameters: after each forward, find the parameters it did not use and
            mark them ready, so models whose graph changes between steps do not stall (costs
            one walk over the graph per step).
        gradient_as_bucket_view: after each step ``param.grad`` is a view of its bucket (no
            copy back, and no second copy of the gradients in memory); the view is overwritten
            by the next synchronised backward, so copy a gradient you want to keep.
        progress: 'thread' (a communication thread) or 'test' (polling from the gradient
            hooks); see ``reducer.py``.
        timeout: seconds a gradient bucket may wait for the other ranks before the watchdog
            raises an error naming the rank and bucket (default: ``init(timeout=...)``, 600).

    Example (run with ``mpiexec -n 2 python script.py``)::

        import neuronet.distributed as dist
        dist.init()
        model = dist.DistributedDataParallel(make_model())
        sampler = dist.DistributedSampler(train_set, shuffle=True, seed=0)
        loader = DataLoader(train_set, batch_size=32, sampler=sampler)
        for epoch in range(10):
            sampler.set_epoch(epoch)
            for x, y in loader:
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()   # averaged gradients on return
                optimizer.step()

    Note:
        BatchNorm normalises with each rank's own batch statistics, as PyTorch's DDP does
        without SyncBatchNorm; use ``neuronet.distributed.SyncBatchNorm`` for statistics over
        all ranks. The state dict of the wrapper has PyTorch's ``module.`` prefix; save
        ``ddp.module.state_dict()`` for a checkpoint that loads into the bare model.
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=25,
        find_unused_parameters=False,
        *,
        gradient_as_bucket_view=False,
        bucket_mb=None,
        progress=None,
        timeout=None,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a neuronet.nn.Module, got "
                f"{type(module).__name__}"
            )
        if device_ids not in (None, [], ["cpu"]) or output_device not in (None, "cpu") or dim:
            raise ValueError(
                "DistributedDataParallel: neuronet runs on the CPU; leave device_ids, "
                "output_device and dim at their defaults (None, None, 0)"
            )
        group = pg._require("DistributedDataParallel")
        size_mb = bucket_cap_mb if bucket_mb is None else bucket_mb
        if not size_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be > 0, got {size_mb}")
        if not any(p.requires_grad for p in module.parameters()):
            raise ValueError(
                "DistributedDataParallel: the module has no parameter that requires grad; "
                "there is nothing to synchronize"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_bytes = int(size_mb * 1024 * 1024)
        self.progress = DEFAULT_PROGRESS if progress is None else progress
        self.timeout = group.timeout if timeout is None else float(timeout)
        comm = group.comm if process_group is None else process_group
        self.world_size = comm.Get_size()
        # The same buckets on every rank (checked), then rank 0's weights everywhere.
        buckets = assign_buckets(
            list(module.named_parameters()),
            self.bucket_bytes,
            self.world_size,
            find_unused_parameters,
        )
        rows = [row for b in buckets for row in b.layout_rows()]
        pg.check_same_everywhere("DistributedDataParallel: gradient bucket layout", rows, group)
        pg.broadcast_parameters(module)
        self.buckets = buckets
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.reducer = Reducer(
            buckets, comm.Dup(), group, self.progress, self.timeout, gradient_as_bucket_view
        )

    @property
    def require_backward_grad_sync(self) -> bool:
        """False inside ``no_sync()``: gradients then accumulate locally."""
        return self.reducer.sync

    @contextlib.contextmanager
    def no_sync(self):
        """Within this block, backward accumulates gradients locally without communicating;
        the first backward after it averages the accumulated sum (gradient accumulation).

        Example::

            with ddp.no_sync():
                loss_fn(ddp(x1), y1).backward()   # local only
            loss_fn(ddp(x2), y2).backward()       # averages the sum of both
        """
        old = self.reducer.sync
        self.reducer.sync = False
        try:
            yield
        finally:
            self.reducer.sync = old

    def forward(self, *args, **kwargs):
        reducer = self.reducer
        if reducer.in_step:
            missing = reducer.missing()
            raise DistributedError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                f"iteration before starting a new one; on rank {pg.GROUP.rank} these parameters "
                f"received no gradient: {', '.join(missing[:8])}"
                f"{' ...' if len(missing) > 8 else ''}. Your module has parameters that were "
                "not used in producing the loss: pass find_unused_parameters=True, or make sure "
                "every output takes part in the loss"
            )
        if self.broadcast_buffers and self.module.training:
            buffers = [b for b in self.module.buffers() if b.array.size]
            if buffers and self.world_size > 1:
                _broadcast_buffers(buffers)
        if is_grad_enabled():
            reducer.forwards += 1
        out = self.module(*args, **kwargs)
        if self.find_unused_parameters and reducer.sync and is_grad_enabled():
            used = _parameters_reached(out)
            for b in self.buckets:
                for p in b.params:
                    if id(p) not in used:
                        reducer.mark_unused(p)
        return out

    def extra_repr(self) -> str:
        return (
            f"world_size={self.world_size}, buckets={len(self.buckets)}, "
            f"bucket_cap_mb={self.bucket_bytes / 2**20:g}, progress={self.progress!r}"
        )


def _broadcast_buffers(buffers: list) -> None:
    import numpy as np

    by_dtype: dict = {}
    for b in buffers:
        by_dtype.setdefault(b.array.dtype.str, []).append(b)
    for group in by_dtype.values():
        flat = np.concatenate([b.array.reshape(-1) for b in group])
        pg.broadcast(flat, 0)
        offset = 0
        for b in group:
            n = b.array.size
            b.array[...] = flat[offset : offset + n].reshape(b.array.shape)
            offset += n


def _parameters_reached(out) -> set:
    """ids of the leaves the autograd graph of ``out`` reaches (the parameters it used)."""
    roots = []
    stack = [out]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            roots.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    used = set()
    seen = set()
    nodes = []
    for t in roots:
        if t._ctx is None:
            used.add(id(t))
        elif id(t._ctx) not in seen:
            seen.add(id(t._ctx))
            nodes.append(t._ctx)
    while nodes:
        ctx = nodes.pop()
        for t in ctx.inputs or ():
            if t is None:
                continue
            if t._ctx is None:
                used.add(id(t))
            elif id(t._ctx) not in seen:
                seen.add(id(t._ctx))
                nodes.append(t._ctx)
    return used
