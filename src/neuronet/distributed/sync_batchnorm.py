"""SyncBatchNorm: batch normalization whose statistics are those of the batch over all ranks.

Under ``DistributedDataParallel`` a plain BatchNorm normalises each rank's batch with that
rank's own mean and variance (as PyTorch's DDP does). With small per-rank batches those
statistics are noisy; SyncBatchNorm all-reduces them, so 2 ranks x batch b normalise exactly as
1 process x batch 2b does -- at the price of two small all-reduces per layer in forward and one
in backward.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.function import Function
from neuronet.autograd.tensor import Tensor
from neuronet.distributed import process_group as pg
from neuronet.nn.normalization import _BatchNorm


def _all_sum(values: np.ndarray, comm) -> np.ndarray:
    if comm is None:
        return pg.all_reduce(values, "sum")
    comm.Allreduce(pg.GROUP.MPI.IN_PLACE, values, op=pg.GROUP.MPI.SUM)
    return values


class SyncBatchNormFunction(Function):
    """Batch normalization with statistics over every rank's batch; x viewed as (N, C, S).

    n    = sum over ranks of N * S
    mean = (sum over ranks and (N, S) of x) / n                 (all-reduce 1: C sums and n)
    var  = (sum over ranks and (N, S) of (x - mean)^2) / n      (all-reduce 2: C sums)
    y    = (x - mean) / sqrt(var + eps) * weight + bias

    dL/dx      = inv_std * (g - S_g / n - x_hat * S_gx / n),  g = dL/dy * weight,
                 S_g  = sum over ranks and (N, S) of g,
                 S_gx = sum over ranks and (N, S) of g * x_hat   (all-reduce 3, in backward)
    dL/dweight = this rank's sum of dL/dy * x_hat;   dL/dbias = this rank's sum of dL/dy
                 (DistributedDataParallel then averages them like every other gradient)

    Running statistics, when given, are updated in place with the unbiased variance over all
    ranks, var * n / (n - 1). Sums travel in float64. Saves: x_hat, inv_std, weight.
    """

    @staticmethod
    def forward(
        ctx,
        x,
        weight,
        bias,
        running_mean=None,
        running_var=None,
        momentum=0.1,
        eps=1e-5,
        comm=None,
    ):
        c = x.shape[1]
        x3 = x.reshape(x.shape[0], c, -1)
        sums = np.empty(c + 1, np.float64)
        sums[:c] = np.einsum("ncs->c", x3)
        sums[c] = x3.shape[0] * x3.shape[2]
        _all_sum(sums, comm)
        n = sums[c]
        mean = (sums[:c] / n).astype(x.dtype)
        x_hat = x3 - mean.reshape(1, c, 1)
        squares = np.einsum("ncs,ncs->c", x_hat, x_hat).astype(np.float64)
        var = _all_sum(squares, comm) / n
        inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(1, c, 1)
        x_hat *= inv_std
        y = x_hat if weight is None else x_hat * weight.reshape(1, c, 1)
        if bias is not None:
            y = y + bias.reshape(1, c, 1)
        elif y is x_hat:
            y = x_hat.copy()
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean
            running_var *= 1.0 - momentum
            running_var += (momentum * n / (n - 1)) * var.astype(x.dtype)
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.n = n
        ctx.comm = comm
        ctx.x_shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad_out):
        x_hat, inv_std, weight = ctx.saved
        c = x_hat.shape[1]
        grad_y = grad_out.reshape(x_hat.shape)
        sums = np.empty(2 * c, np.float64)
        sums[:c] = np.einsum("ncs->c", grad_y)  # this rank's dL/dbias
        sums[c:] = np.einsum("ncs,ncs->c", grad_y, x_hat)  # this rank's dL/dweight
        need = ctx.needs_input_grad
        grad_bias = sums[:c].astype(x_hat.dtype) if len(need) > 2 and need[2] else None
        grad_weight = sums[c:].astype(x_hat.dtype) if need[1] else None
        grad_x = None
        if need[0]:
            _all_sum(sums, ctx.comm)
            w = np.ones(c) if weight is None else weight.astype(np.float64)
            mean_g = (w * sums[:c] / ctx.n).astype(x_hat.dtype).reshape(1, c, 1)
            mean_gx = (w * sums[c:] / ctx.n).astype(x_hat.dtype).reshape(1, c, 1)
            g = grad_y if weight is None else grad_y * weight.reshape(1, c, 1)
            grad_x = (inv_std * (g - mean_g - x_hat * mean_gx)).reshape(ctx.x_shape)
        return grad_x, grad_weight, grad_bias


class SyncBatchNorm(_BatchNorm):
    """Batch normalization with the statistics of the whole batch over all ranks.

    Training mode all-reduces each channel's sum and squared deviations, so every rank
    normalises with the mean and variance of all ranks' samples (and all ranks keep the same
    running statistics). Eval mode, and a process that is not part of a group of two or more
    ranks, behave exactly as ``BatchNorm``. Arguments, parameters and buffers are
    ``BatchNorm1d``'s; ``process_group`` is an mpi4py communicator (default: all ranks).

    Shape: input (N, C, *); output the same.

    Build one directly, or turn every BatchNorm of a model into one with
    ``SyncBatchNorm.convert_sync_batchnorm(model)`` before wrapping it in
    ``DistributedDataParallel``.
    """

    _ranks = (2, 3, 4, 5)
    _layout = "an input (N, C, *)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group=None,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _synchronised(self) -> bool:
        if not self.training or not pg.is_initialized():
            return False
        comm = self.process_group
        return (pg.GROUP.size if comm is None else comm.Get_size()) > 1

    def forward(self, input: Tensor) -> Tensor:
        if not self._synchronised():
            return super().forward(input)
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        stats = {}
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            self.num_batches_tracked._version += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.array)
            stats = {"running_mean": self.running_mean.array, "running_var": self.running_var.array}
        out = SyncBatchNormFunction.apply(
            input,
            self.weight,
            self.bias,
            momentum=float(factor),
            eps=float(self.eps),
            comm=self.process_group,
            **stats,
        )
        if stats:
            self.running_mean._version += 1
            self.running_var._version += 1
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm that shares its
        parameters and buffers (returns ``module`` itself, changed, unless it is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
            )
            for name in ("weight", "bias"):
                if getattr(module, name) is not None:
                    setattr(sync, name, getattr(module, name))
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                sync._buffers[name] = module._buffers[name]
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child, process_group)
            if converted is not child:
                module.add_module(name, converted)
        return module
