"""Random numbers: a seedable ``Generator`` and the process-wide default one.

Every random op (``rand``, ``randn``, ``randint``, dropout, initializers, shuffling) takes
``generator=``; without it, it draws from the default generator that ``manual_seed`` resets.
Same seed, same numbers, always (NumPy's PCG64 underneath). A generator's state is a plain
JSON-serialisable dict, so checkpoints can store it without pickle.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A source of random numbers with its own state.

    Example:
        >>> g = Generator().manual_seed(0)
        >>> a = g.normal((2,))
        >>> b = Generator().manual_seed(0).normal((2,))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, seed: int | None = None):
        self._seed = seed
        self._rng = None  # made on first use: numpy.random costs ~12 ms to import

    @property
    def rng(self) -> np.random.Generator:
        """The NumPy generator underneath (PCG64)."""
        if self._rng is None:
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._rng

    @rng.setter
    def rng(self, value) -> None:
        self._rng = value

    def manual_seed(self, seed: int) -> Generator:
        """Reset to the sequence determined by ``seed`` and return self."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"manual_seed: the seed must fit in 64 bits, got {seed}")
        seed = int(seed) % 2**64  # a negative seed wraps around, as in PyTorch
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(int(seed)))
        return self

    def initial_seed(self) -> int | None:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as a JSON-serialisable dict."""
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        """Restore a state from ``get_state``."""
        self.rng.bit_generator.state = state

    # Array-level draws used across the library (float32 unless asked otherwise).
    def uniform(self, shape, low=0.0, high=1.0, dtype=np.float32) -> np.ndarray:
        x = self.rng.random(shape, dtype=np.float64 if dtype == np.float64 else np.float32)
        if low != 0.0 or high != 1.0:
            x = x * (high - low) + low
        return x.astype(dtype, copy=False)

    def normal(self, shape, mean=0.0, std=1.0, dtype=np.float32) -> np.ndarray:
        x = self.rng.standard_normal(shape, dtype=np.float64 if dtype == np.float64 else np.float32)
        if std != 1.0 or mean != 0.0:
            x = x * std + mean
        return x.astype(dtype, copy=False)

    def integers(self, low, high, shape) -> np.ndarray:
        return self.rng.integers(low, high, size=shape, dtype=np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and so every random op that gets no ``generator=``)."""
    return default_generator.manual_seed(seed)


def get_rng_state() -> dict:
    """The default generator's state (JSON-serialisable)."""
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)


def resolve(generator: Generator | None) -> Generator:
    """The given generator, or the default one."""
    return default_generator if generator is None else generator
