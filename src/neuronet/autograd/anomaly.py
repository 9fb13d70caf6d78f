"""Anomaly detection: stop at the first op whose backward produces NaN or Inf.

``with detect_anomaly(): loss.backward()`` checks every gradient the engine computes and raises
naming the op (e.g. ``LogBackward``) and the gradient's shape. It slows backward down, so it is
off by default: use it while debugging, as PyTorch's ``torch.autograd.detect_anomaly``.
"""

from __future__ import annotations

from neuronet.autograd.engine import ANOMALY


class detect_anomaly:
    """Context manager (and decorator) that turns on NaN/Inf checks in backward."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.prev = ANOMALY.enabled

    def __enter__(self):
        self.prev = ANOMALY.enabled
        ANOMALY.enabled = self.enabled
        return self

    def __exit__(self, *exc):
        ANOMALY.enabled = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.enabled):
                return fn(*args, **kwargs)

        return wrapper
