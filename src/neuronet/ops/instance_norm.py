"""Instance normalization: each (sample, channel) normalised over its own spatial positions.

    y[n, c] = (x[n, c] - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]
Reference: Ulyanov et al., 2016, https://arxiv.org/abs/1607.08022.

With ``use_input_stats=True`` (training, or no running statistics) this is ``group_norm`` with
one group per channel, whose fused backward gives the exact gradient; running statistics, when
given, are updated in place as PyTorch does: running = (1 - momentum) running + momentum *
(the average over the batch of the per-instance means, and of the unbiased per-instance
variances). With ``use_input_stats=False`` the running statistics normalise, as ``batch_norm``
in eval mode.
"""

from __future__ import annotations

import numpy as np

from neuronet.autograd.tensor import Tensor
from neuronet.ops.batch_norm import batch_norm
from neuronet.ops.normalization import group_norm


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization of (N, C, *) input (see the module docstring and
    ``nn.InstanceNorm1d/2d/3d``)."""
    op = "instance_norm"
    if not isinstance(input, Tensor) or input.ndim < 3:
        got = input.shape if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expected an input of shape (N, C, *) with spatial dims, got {got}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[:2]
    spatial = int(np.prod(input.shape[2:]))
    if spatial <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element when training, got input of shape "
            f"{tuple(input.shape)}"
        )
    if running_mean is not None and running_var is not None:
        x = input.array.reshape(n, c, spatial)
        mean = x.mean(axis=2).mean(axis=0)
        var = x.var(axis=2, ddof=1).mean(axis=0)
        running_mean.array[...] = (1 - momentum) * running_mean.array + momentum * mean
        running_var.array[...] = (1 - momentum) * running_var.array + momentum * var
        running_mean._version += 1
        running_var._version += 1
    return group_norm(input, c, weight, bias, eps)


__all__ = ["instance_norm"]
