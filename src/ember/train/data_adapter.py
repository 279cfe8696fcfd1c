"""Turning what ``fit``/``evaluate``/``predict`` accept into batches.

Two kinds of input:

- **arrays**: ``x`` (and ``y``) are ember tensors or NumPy arrays, or tuples/lists/dicts of
  them (several model inputs). They are batched here, shuffled with ember's default generator
  (so ``ember.manual_seed`` makes a run repeatable). NumPy floating arrays become the default
  dtype (float32) and NumPy integer arrays int64, as a Keras user expects of ``fit(x, y)``;
  ember tensors are used as they are.
- **an iterable of batches**: an ``ember.data.DataLoader`` or any iterable yielding
  ``(inputs, targets)`` pairs; ``len()`` is used for the progress bar when it exists.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..creation import randperm
from ..dtypes import get_default_dtype
from ..errors import ShapeError
from ..tensor import Tensor, _make


def _is_leaf(v: Any) -> bool:
    return isinstance(v, (Tensor, np.ndarray))


def is_array_input(x: Any) -> bool:
    """True when ``x`` is an array or a tuple/list/dict of arrays (not an iterable of batches)."""
    if _is_leaf(x):
        return True
    if isinstance(x, (tuple, list)) and x:
        return all(_is_leaf(v) for v in x)
    if isinstance(x, dict) and x:
        return all(_is_leaf(v) for v in x.values())
    return False


def map_structure(fn, value: Any) -> Any:
    """Apply ``fn`` to every array in a (nested) tuple/list/dict."""
    if isinstance(value, tuple):
        return tuple(map_structure(fn, v) for v in value)
    if isinstance(value, list):
        return [map_structure(fn, v) for v in value]
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return fn(value) if _is_leaf(value) else value


def leaves(value: Any) -> list:
    """The arrays of a (nested) tuple/list/dict, in order."""
    out: list = []
    map_structure(out.append, value)
    return out


def _convert(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        return a.astype(get_default_dtype().np, copy=False)
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    return a


def to_host(value: Any) -> np.ndarray:
    """The NumPy array a batch is cut from (a tensor's own data, a converted ndarray)."""
    if isinstance(value, Tensor):
        return value._data
    return _convert(value)


def to_tensor(value: Any) -> Any:
    """A batch element as an ember tensor (NumPy arrays converted as in ``fit``)."""
    if isinstance(value, np.ndarray):
        return _make(_convert(value))
    return value


def check_batch_size(batch_size: Any, owner: str) -> int:
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
            or batch_size < 1:
        raise ValueError(f"{owner}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _num_samples(arrays: list, what: str, owner: str) -> int:
    sizes = {a.shape[0] if a.ndim else None for a in arrays}
    if None in sizes:
        raise ShapeError(f"{owner}: {what} must have a batch dimension, got a 0-d array")
    if len(sizes) > 1:
        raise ShapeError(f"{owner}: the arrays of {what} have different numbers of samples: "
                         f"{', '.join(str(a.shape[0]) for a in arrays)}")
    return sizes.pop()


class ArrayBatches:
    """Batches ``(x, y)`` cut from in-memory arrays (``y`` may be None)."""

    def __init__(self, x: Any, y: Any, batch_size: int, shuffle: bool, owner: str):
        self.x = map_structure(to_host, x)
        self.y = None if y is None else map_structure(to_host, y)
        self.n = _num_samples(leaves(self.x), "x", owner)
        if self.y is not None:
            ny = _num_samples(leaves(self.y), "y", owner)
            if ny != self.n:
                raise ShapeError(f"{owner}: x and y must have the same number of samples, but "
                                 f"x has {self.n} and y has {ny}")
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def split(self, validation_split: float, owner: str) -> tuple[ArrayBatches, ArrayBatches]:
        """The first and the LAST ``validation_split`` of the samples, before any shuffling
        (Keras' rule: the validation samples are the same in every epoch)."""
        at = int(math.floor(self.n * (1.0 - validation_split)))
        if at == 0 or at == self.n:
            raise ValueError(f"{owner}: validation_split={validation_split} leaves "
                             f"{'no training' if at == 0 else 'no validation'} samples out of "
                             f"{self.n}")
        return self._take(slice(None, at), self.shuffle), self._take(slice(at, None), False)

    def _take(self, index: slice, shuffle: bool) -> ArrayBatches:
        part = object.__new__(ArrayBatches)
        part.x = map_structure(lambda a: a[index], self.x)
        part.y = None if self.y is None else map_structure(lambda a: a[index], self.y)
        part.n = leaves(part.x)[0].shape[0]
        part.batch_size, part.shuffle = self.batch_size, shuffle
        return part

    def __iter__(self) -> Iterator[tuple]:
        bs = self.batch_size
        order = randperm(self.n)._data if self.shuffle else None
        for start in range(0, self.n, bs):
            index = slice(start, start + bs) if order is None else order[start:start + bs]
            xb = map_structure(lambda a, i=index: _make(a[i]), self.x)
            yb = None if self.y is None else map_structure(lambda a, i=index: _make(a[i]),
                                                           self.y)
            yield xb, yb


class IterableBatches:
    """Batches from a DataLoader or any iterable; NumPy arrays in them become tensors."""

    def __init__(self, data: Iterable, owner: str):
        if not isinstance(data, Iterable):
            raise TypeError(f"{owner}: x must be an ember tensor, a NumPy array or an iterable "
                            f"of (inputs, targets) batches such as a DataLoader, got "
                            f"{type(data).__name__}")
        self.data = data

    def __len__(self) -> int:
        return len(self.data)  # type: ignore[arg-type]

    def length(self) -> int | None:
        try:
            return len(self.data)  # type: ignore[arg-type]
        except TypeError:
            return None

    def __iter__(self) -> Iterator[Any]:
        for batch in self.data:
            yield map_structure(to_tensor, batch)


def num_batches(batches: ArrayBatches | IterableBatches, steps: int | None) -> int | None:
    """How many batches a pass yields (None when the iterable has no length)."""
    if steps is not None:
        return steps
    return len(batches) if isinstance(batches, ArrayBatches) else batches.length()


class Epochs:
    """Hands out one epoch's batches; with ``steps`` set, an epoch is ``steps`` batches and the
    next epoch continues where this one stopped, restarting the data when it runs out (Keras'
    ``steps_per_epoch``)."""

    def __init__(self, batches: ArrayBatches | IterableBatches, steps: int | None, owner: str):
        if steps is not None and (not isinstance(steps, (int, np.integer)) or steps < 1):
            raise ValueError(f"{owner}: steps must be a positive int or None, got {steps!r}")
        self.batches = batches
        self.steps = steps
        self.owner = owner
        self._it: Iterator | None = None

    def __iter__(self) -> Iterator[Any]:
        if self.steps is None:
            count = 0
            for batch in self.batches:
                count += 1
                yield batch
            if count == 0:
                warnings.warn(f"{self.owner}: the data yielded no batches (a generator can be "
                              "iterated only once; pass a DataLoader or steps_per_epoch)",
                              stacklevel=4)
            return
        for _ in range(self.steps):
            batch = self._next()
            if batch is None:
                warnings.warn(f"{self.owner}: the data ran out after fewer than steps="
                              f"{self.steps} batches", stacklevel=4)
                return
            yield batch

    def _next(self) -> Any:
        for _attempt in range(2):
            if self._it is None:
                self._it = iter(self.batches)
            try:
                return next(self._it)
            except StopIteration:
                self._it = None
        return None


def unpack(batch: Any, owner: str) -> tuple[Any, Any]:
    """``(x, y)`` of one batch: a pair, or inputs alone (``y`` is then None)."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
        raise ValueError(f"{owner}: a batch must be (inputs, targets), got a "
                         f"{type(batch).__name__} of {len(batch)} elements (override "
                         "train_step/test_step to take other layouts)")
    return batch, None


def batch_size_of(x: Any) -> int:
    """The number of samples in a batch of inputs (its first array's first dimension)."""
    for leaf in leaves(x):
        return leaf.shape[0] if leaf.ndim else 1
    return 1
