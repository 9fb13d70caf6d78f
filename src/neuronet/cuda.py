"""``neuronet.cuda``: what a PyTorch build without CUDA answers, so device-choosing code runs.

``is_available()`` is False and ``device_count()`` is 0, so
``device = 'cuda' if neuronet.cuda.is_available() else 'cpu'`` picks the CPU. Seeding calls are
silently accepted (PyTorch defers them until CUDA is used, which never happens); anything that
needs a GPU raises ``DeviceError``.
"""

from __future__ import annotations

from neuronet.device import check_device

__all__ = [
    "is_available",
    "device_count",
    "current_device",
    "get_device_name",
    "manual_seed",
    "manual_seed_all",
    "synchronize",
    "empty_cache",
    "is_bf16_supported",
]


def is_available() -> bool:
    """False: neuronet has no GPU backend."""
    return False


def device_count() -> int:
    return 0


def is_bf16_supported() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no GPU generator exists); seed with ``neuronet.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as ``manual_seed``."""


def empty_cache() -> None:
    """Nothing to free: there is no GPU memory cache."""


def current_device() -> int:
    check_device("cuda", "a computation")
    return 0


def get_device_name(device=None) -> str:
    check_device("cuda", "a computation")
    return ""


def synchronize(device=None) -> None:
    check_device("cuda", "a computation")
