"""Samplers: the order in which a DataLoader visits a map-style dataset, as in PyTorch.

``SequentialSampler`` and ``RandomSampler`` also hand ``BatchSampler`` their whole order as one
NumPy array, so batching a permutation is a slice per batch rather than a Python loop per index.
Randomness comes from an ``ember.Generator``: with ``generator=None`` a fresh seed is drawn from
the default generator at every ``iter()`` (so ``ember.manual_seed`` makes runs reproducible and
every epoch gets a new order); with a generator, its state advances from epoch to epoch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized

import numpy as np

from .. import random as _random

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")
    return int(value)


def _sized(value, name: str, owner: str):
    """``value`` if it has a length (a dataset, a list of indices); TypeError otherwise."""
    if not hasattr(value, "__len__"):
        raise TypeError(f"{owner}: {name} must have a length (a dataset or a sequence), got "
                        f"{type(value).__name__}")
    return value


def _bool(value, name: str, owner: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} should be a boolean value, but got {name}={value!r}")
    return value


def _epoch_rng(generator: _random.Generator | None) -> np.random.Generator:
    """The NumPy generator for one pass: ``generator``'s, or one seeded from the default."""
    if generator is None:
        seed = int(_random.resolve(None).integers(0, 2**63 - 1))
        return np.random.Generator(np.random.PCG64(seed))
    return _random.resolve(generator)


class Sampler:
    """Base class: subclasses define ``__iter__`` over indices (and ``__len__`` if known)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = _sized(data_source, "data_source", "SequentialSampler")

    def order(self) -> np.ndarray:
        """All indices of one pass as an int64 array."""
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` draws with replacement.

    Args:
        replacement: draw with replacement (then ``num_samples`` may exceed the dataset size).
        num_samples: samples per pass (default ``len(data_source)``); without replacement and
            larger than the dataset, whole permutations are concatenated, as in PyTorch.
        generator: an ``ember.Generator`` (see the module docstring for ``None``).
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None,
                 generator: _random.Generator | None = None) -> None:
        self.data_source = data_source
        if not isinstance(replacement, bool):
            raise TypeError("RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _positive_int(self.num_samples, "num_samples", "RandomSampler")

    @property
    def num_samples(self) -> int:
        # The dataset may grow or shrink between passes, as in PyTorch.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def order(self) -> np.ndarray:
        """The indices of one pass (a fresh draw at each call) as an int64 array."""
        n, k = len(self.data_source), self.num_samples
        rng = _epoch_rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[:k % n])
        return np.concatenate(parts).astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (a new order every pass)."""

    def __init__(self, indices: Sequence[int],
                 generator: _random.Generator | None = None) -> None:
        self.indices = _sized(indices, "indices", "SubsetRandomSampler")
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _epoch_rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: _random.Generator | None = None) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        self.replacement = _bool(replacement, "replacement", "WeightedRandomSampler")
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("WeightedRandomSampler: weights must be a sequence of numbers, got "
                            f"{weights!r}") from None
        if w.ndim != 1:
            raise ValueError("WeightedRandomSampler: weights should be a 1d sequence but given "
                             f"weights have shape {tuple(w.shape)}")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights")
        self.weights = w
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = _epoch_rng(self.generator)
        p = self.weights / self.weights.sum()
        return iter(rng.choice(len(p), size=self.num_samples, replace=self.replacement,
                               p=p).tolist())

    def __len__(self) -> int:
        return self.num_samples


# Samplers whose iteration is exactly ``order()``; a subclass overriding __iter__ is not.
_ORDER_ITERS = (SequentialSampler.__iter__, RandomSampler.__iter__)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example::

        list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        # [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Sampler | Sequence[int], batch_size: int,
                 drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        self.drop_last = _bool(drop_last, "drop_last", "BatchSampler")

    def __iter__(self) -> Iterator[list[int]]:
        bs = self.batch_size
        if getattr(type(self.sampler), "__iter__", None) in _ORDER_ITERS:
            order = self.sampler.order()
            stop = len(order) - len(order) % bs if self.drop_last else len(order)
            for start in range(0, stop, bs):
                yield order[start:start + bs].tolist()
            return
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
