"""``DataLoader``: batches from a dataset, shuffled or not, in this process or in workers.

Arguments, defaults and errors are ``torch.utils.data.DataLoader``'s. ``pin_memory`` and
``pin_memory_device`` are accepted for portability and ignored (there is no accelerator).
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import numpy as np

from .. import random as _random
from .collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .fetch import make_fetcher
from .multiprocess import MultiProcessIter
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

T_co = TypeVar("T_co", covariant=True)

__all__ = ["DataLoader"]


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: the dataset itself decides what comes next."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


def _check_context(context, num_workers: int):
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start "
                             f"method in {methods!r}, but got multiprocessing_context="
                             f"{context!r}")
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        "string specifying the start method, but got multiprocessing_context="
                        f"{context!r}")
    return context


class _SingleProcessIter:
    """Iterates the batches in the calling process (``num_workers=0``)."""

    def __init__(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = make_fetcher(loader._iterable, loader.dataset, loader._auto_collation,
                                     loader.collate_fn, loader.drop_last)
        self._loader_len = loader.__len__

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))

    def __len__(self) -> int:
        return self._loader_len()


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader(Generic[T_co]):
    """Iterates over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Args:
        batch_size: samples per batch; ``None`` turns batching off (each sample is passed
            through ``collate_fn``, by default :func:`default_convert`).
        shuffle: a new random order every epoch (drawn from ``generator``).
        sampler / batch_sampler: custom index order / custom batches of indices.
        num_workers: worker processes building batches in parallel (0: in this process).
        collate_fn: list of samples -> batch (default :func:`default_collate`).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        timeout: seconds to wait for a batch from the workers before a RuntimeError (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: start method ('fork', 'spawn', ...) or context; default 'fork'
            where available, else 'spawn' (which needs a picklable dataset and collate_fn).
        generator: ``ember.Generator`` for the shuffle order and the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the workers alive from one epoch to the next.
        in_order: yield batches in sampler order; ``False`` yields whichever is ready first.

    Each worker seeds ember's default generator and Python's ``random`` with
    ``base_seed + worker_id`` (``base_seed`` is drawn from ``generator`` each epoch), so
    random augmentations differ between workers and are reproducible under a seed.

    Example::

        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True,
                            generator=ember.Generator().manual_seed(0))
        for xb, yb in loader:
            ...
    """

    def __init__(self, dataset: Dataset[T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | None = None,
                 batch_sampler: Sampler | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context=None, generator: _random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if not (hasattr(dataset, "__getitem__") or hasattr(dataset, "__iter__")):
            raise TypeError("DataLoader: dataset must be a map-style dataset (with __getitem__) "
                            f"or an iterable one (with __iter__), got {type(dataset).__name__}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
            raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             f"num_workers=0 to disable multiprocessing (got {num_workers})")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in "
                             "multiprocessing; let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and (isinstance(prefetch_factor, bool)
                                              or not isinstance(prefetch_factor, int)
                                              or prefetch_factor < 1):
            raise ValueError("DataLoader: prefetch_factor option should be a positive int, got "
                             f"{prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if generator is not None and not isinstance(generator, _random.Generator):
            raise TypeError("DataLoader: generator must be an ember.Generator, got "
                            f"{type(generator).__name__}")

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            # An IterableDataset decides its own order; these options have no meaning for it.
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterable = iterable
        self._iterator: MultiProcessIter | None = None
        self._initialized = True

    def __setattr__(self, name: str, value) -> None:
        if name in _FROZEN and getattr(self, "_initialized", False):
            raise ValueError(f"DataLoader: {name} attribute should not be set after "
                             "DataLoader is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> Iterator:
        # One draw per epoch, as torch: the workers' seeds change from epoch to epoch.
        base_seed = int(_random.resolve(self.generator).integers(0, 2**62))
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return MultiProcessIter(self, base_seed)
        if self._iterator is None or self._iterator._shutdown:
            self._iterator = MultiProcessIter(self, base_seed)
        else:
            self._iterator.reset(self, base_seed)
        return self._iterator

    def __len__(self) -> int:
        """Batches per epoch (for an IterableDataset: from ``len(dataset)`` if it has one)."""
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as torch
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)
