"""Datasets in PyTorch's two styles, and the ways of combining and splitting them.

A map-style :class:`Dataset` has ``__getitem__(index)`` and ``__len__``; an
:class:`IterableDataset` has ``__iter__`` (streams, generated data). ``TensorDataset``,
``Subset``, ``ConcatDataset``, ``ChainDataset`` and ``random_split`` follow ``torch.utils.data``.

ember adds one optional method to the map-style protocol, ``fetch_batch(indices)``: a dataset
that can gather a whole batch with one NumPy fancy-index returns what
``default_collate([self[i] for i in indices])`` would return (or ``NotImplemented`` when it
cannot, e.g. because a transform is set). The DataLoader uses it only with ``default_collate``,
which takes the per-item Python loop out of the hot path for in-memory data.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from .. import random as _random
from ..creation import from_numpy
from ..tensor import Tensor, _make

T_co = TypeVar("T_co", covariant=True)

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "Subset",
           "TensorDataset", "random_split"]


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``."""

    def __getitem__(self, index) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A dataset that is a stream: subclasses define ``__iter__``.

    With ``DataLoader(num_workers=n)`` every worker process iterates its own copy of the dataset,
    so without care each sample appears ``n`` times. Split the stream in ``__iter__`` using
    :func:`ember.data.get_worker_info` (it is ``None`` in the main process)::

        def __iter__(self):
            info = ember.data.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return itertools.islice(self.source(), start, None, step)
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[T_co]) -> ChainDataset:
        return ChainDataset([self, other])


def _defining_class(cls: type, name: str) -> int | None:
    """Position in ``cls.__mro__`` of the first class whose own dict defines ``name``."""
    for i, klass in enumerate(cls.__mro__):
        if name in vars(klass):
            return i
    return None


def batch_fetcher(dataset) -> Callable[[Sequence[int]], Any] | None:
    """``dataset.fetch_batch`` when it is safe to use in place of per-item ``__getitem__``.

    A subclass that overrides ``__getitem__`` (to add an augmentation, say) without also
    overriding ``fetch_batch`` must not be bypassed, so the method is used only when it is
    defined at the same level of the class hierarchy as ``__getitem__`` or below it.
    """
    cls = type(dataset)
    fetch_at = _defining_class(cls, "fetch_batch")
    if fetch_at is None:
        return None
    getitem_at = _defining_class(cls, "__getitem__")
    if getitem_at is not None and getitem_at < fetch_at:
        return None
    return dataset.fetch_batch


def _index_array(indices: Sequence[int], length: int, owner: str) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    if idx.ndim != 1:
        raise TypeError(f"{owner}.fetch_batch: expected a flat sequence of int indices")
    if idx.size and (idx.min() < -length or idx.max() >= length):
        bad = int(idx[(idx < -length) | (idx >= length)][0])
        raise IndexError(f"{owner}: index {bad} is out of range for a dataset of size {length}")
    return idx


class TensorDataset(Dataset[tuple]):
    """Samples are the rows of tensors of equal first size: ``ds[i] == (t[i] for t in tensors)``.

    Example::

        ds = TensorDataset(x, y)      # x: [N, 784], y: [N]
        xi, yi = ds[0]
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} must be an ember.Tensor, "
                                f"got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; every tensor "
                                 "needs a first dimension to index samples along")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError("TensorDataset: size mismatch between tensors: the first "
                             f"dimensions are {sizes}; all must be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def fetch_batch(self, indices: Sequence[int]) -> list[Tensor]:
        """``default_collate([self[i] for i in indices])`` with one gather per tensor."""
        idx = _index_array(indices, len(self), "TensorDataset")
        # A tensor that requires grad goes through the indexing op so the batch stays on the
        # graph, as stacking its rows would.
        return [t[from_numpy(idx)] if t.requires_grad else _make(t._data[idx])
                for t in self.tensors]


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        """The samples at ``indices`` (the batched protocol of ``torch.utils.data``)."""
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def fetch_batch(self, indices: Sequence[int]):
        """The collated batch through the wrapped dataset's ``fetch_batch``, when it has one."""
        fetch = batch_fetcher(self.dataset)
        if fetch is None:
            return NotImplemented
        mapping = np.asarray(self.indices, dtype=np.int64)
        return fetch(mapping[_index_array(indices, len(mapping), "Subset")])


class ConcatDataset(Dataset[T_co]):
    """Map-style datasets one after the other: indices run through the first, then the next."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        if not isinstance(datasets, Iterable):
            raise TypeError(f"ConcatDataset: datasets must be an iterable of datasets, got "
                            f"{type(datasets).__name__}")
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset; "
                                "use ChainDataset to chain streams")
            if not hasattr(d, "__len__"):
                raise TypeError(f"ConcatDataset: datasets[{i}] has no length (a "
                                f"{type(d).__name__}); it needs __len__ and __getitem__")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: index {idx} is out of range for length {n}")
            idx += n
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {n}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other (lazily)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset, got "
                                f"{type(d).__name__}")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


def _split_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        # Fractions, as torch: floor each share, then hand out the remainder one item at a
        # time from the first split on.
        sizes = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and "
                                 f"1, got {frac}")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this "
                              "might result in an empty dataset", stacklevel=3)
        return sizes
    for i, size in enumerate(lengths):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise ValueError("random_split: lengths must be non-negative ints or fractions "
                             f"summing to 1, got {size!r} at index {i}")
    if total != n:
        raise ValueError(f"random_split: sum of input lengths ({total}) does not equal the "
                         f"length of the input dataset ({n})")
    return [int(s) for s in lengths]


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: _random.Generator | None = None) -> list[Subset[T_co]]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    Args:
        lengths: sizes (ints summing to ``len(dataset)``) or fractions summing to 1; with
            fractions each split gets ``floor(len * fraction)`` items and the remainder is
            handed out one item at a time starting with the first split, as in PyTorch.
        generator: an ``ember.Generator`` for a reproducible split (default generator if None).

    Example::

        train, val = random_split(ds, [0.8, 0.2], generator=ember.Generator().manual_seed(0))
    """
    if not isinstance(lengths, Sequence) or isinstance(lengths, (str, bytes)) or not lengths \
            or not all(isinstance(v, (int, float, np.integer, np.floating)) for v in lengths):
        raise TypeError(f"random_split: lengths must be a non-empty sequence of ints or "
                        f"fractions, got {lengths!r}")
    sizes = _split_lengths(len(dataset), lengths)
    order = _random.resolve(generator).permutation(sum(sizes)).tolist()
    return [Subset(dataset, order[end - size:end])
            for end, size in zip(itertools.accumulate(sizes), sizes)]
