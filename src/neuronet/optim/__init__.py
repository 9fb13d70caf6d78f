"""Optimizers, learning-rate schedules and the large-batch scaling rule (``neuronet.optim``).

    from neuronet import optim
    opt = optim.AdamW(model.parameters(), lr=3e-4)
    sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=500, total_steps=10_000)

Gradient clipping lives in ``neuronet.nn.utils`` (``clip_grad_norm_``), as in PyTorch.
Importing this package loads only NumPy; numba (for the fused update kernels) is loaded on the
first ``step()`` when installed and ``neuronet.backend.fast.numba`` is on.
"""

from __future__ import annotations

from neuronet.optim import lr_scheduler  # noqa: F401
from neuronet.optim.adadelta import Adadelta
from neuronet.optim.adagrad import Adagrad
from neuronet.optim.adam import Adam
from neuronet.optim.adam_variants import Adamax, NAdam, RAdam
from neuronet.optim.adamw import AdamW
from neuronet.optim.factory import make_optimizer
from neuronet.optim.lamb import LAMB
from neuronet.optim.optimizer import Optimizer
from neuronet.optim.rmsprop import RMSprop
from neuronet.optim.rprop import Rprop
from neuronet.optim.scaling import scale_lr
from neuronet.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "Adamax",
    "AdamW",
    "LAMB",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_scheduler",
    "make_optimizer",
    "scale_lr",
]
