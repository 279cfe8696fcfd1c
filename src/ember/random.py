"""Random number generation: :class:`Generator` and the default generator.

A Generator wraps NumPy's PCG64 bit generator. ``ember.manual_seed(s)`` reseeds the default
one, so seeded runs are reproducible; pass ``generator=`` to any random function to use your own.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A source of random numbers, like ``torch.Generator``.

    Example::

        g = ember.Generator().manual_seed(0)
        x = ember.randn(3, generator=g)
    """

    def __init__(self, device: str = "cpu"):
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._seed = int(seed) % (2**64)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The full state (a dict); ``set_state`` restores it exactly."""
        return {"seed": self._seed, "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict) -> Generator:
        self._seed = state["seed"]
        self._rng.bit_generator.state = state["bit_generator"]
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The NumPy generator underneath (for kernels that draw directly)."""
        return self._rng


default_generator = Generator().manual_seed(0x5EED)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def resolve(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s or the default one."""
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator._rng


# ------------------------------------------------------------------------ draw kernels
# ``kernel(numpy_generator, *args) -> ndarray``: what ember.ops.random_draw.draw runs (and a
# compiled function re-runs) to make a random tensor.


def uniform_kernel(rng, shape, dtype, low=0.0, high=1.0):
    values = rng.random(shape, dtype=np.float64)
    if low != 0.0 or high != 1.0:
        values = values * (high - low) + low
    return values.astype(dtype, copy=False)


def normal_kernel(rng, shape, dtype, mean=0.0, std=1.0):
    values = rng.standard_normal(shape, dtype=np.float64)
    if mean != 0.0 or std != 1.0:
        values = values * std + mean
    return values.astype(dtype, copy=False)


def integers_kernel(rng, shape, dtype, low, high):
    return rng.integers(low, high, shape, dtype=np.int64).astype(dtype, copy=False)


def permutation_kernel(rng, n, dtype):
    return rng.permutation(n).astype(dtype)
