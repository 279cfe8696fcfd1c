"""Turning one entry of the batch sampler into one batch, in the main process or a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .collate import default_collate
from .dataset import batch_fetcher


class MapFetcher:
    """Fetches ``dataset[i]`` for each index of a batch (or one index) and collates."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        # The one-gather path is only equal to the per-item one under default_collate.
        self._gather = (batch_fetcher(dataset)
                        if auto_collation and collate_fn is default_collate else None)
        getitems = getattr(dataset, "__getitems__", None)
        self._getitems = getitems if callable(getitems) else None

    def fetch(self, index) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self._gather is not None:
            batch = self._gather(index)
            if batch is not NotImplemented:
                return batch
        if self._getitems is not None:
            return self.collate_fn(self._getitems(index))
        dataset = self.dataset
        return self.collate_fn([dataset[i] for i in index])


class IterableFetcher:
    """Takes the next ``len(index)`` samples of an iterable dataset (or the next one)."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index) -> Any:
        """The next batch; raises StopIteration when the stream is done."""
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        samples = []
        for _ in range(len(index)):
            try:
                samples.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def make_fetcher(iterable: bool, dataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool):
    kind = IterableFetcher if iterable else MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)
