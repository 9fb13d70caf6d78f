"""Learning-rate schedules, PyTorch-compatible (``neuronet.optim.lr_scheduler``).

Each scheduler writes ``group["lr"]`` from a closed form (``schedules.py``) and says in
``interval`` whether the training loop steps it per batch (``"step"``: OneCycleLR, CyclicLR,
warmup_cosine) or per epoch (``"epoch"``: the rest).
"""

from __future__ import annotations

from neuronet.optim.lr_scheduler import schedules  # noqa: F401
from neuronet.optim.lr_scheduler.base import LRScheduler
from neuronet.optim.lr_scheduler.cosine import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    OneCycleLR,
)
from neuronet.optim.lr_scheduler.cyclic import CyclicLR
from neuronet.optim.lr_scheduler.decay import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from neuronet.optim.lr_scheduler.plateau import ReduceLROnPlateau
from neuronet.optim.lr_scheduler.sequential import SequentialLR, warmup_cosine

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "warmup_cosine",
]
