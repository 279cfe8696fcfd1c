"""What runs inside a DataLoader worker process, and ``get_worker_info``.

A worker receives ``(task number, batch of indices)`` on its own index queue, builds the batch
with a fetcher and sends ``(task number, batch)`` back on the shared result queue, pickled in
the worker so that a batch that cannot be pickled becomes an error in the main process rather
than a silently dropped message (and a hang). ``None`` on the index queue means "exit".
"""

from __future__ import annotations

import os
import pickle
import queue
import random
import signal
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import random as _random
from .fetch import make_fetcher

__all__ = ["WorkerInfo", "get_worker_info"]

# How often an idle worker checks the shutdown event and that the main process is alive. The
# event matters when the iterator dies in a garbage cycle: the collector then closes the
# index queues' feeder threads before our finalizer runs, so its "None" may never arrive.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class WorkerInfo:
    """Who this worker is: ``id`` in ``0..num_workers-1``, its ``seed`` and its copy of the
    ``dataset``. Returned by :func:`get_worker_info` inside a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the current DataLoader worker, or ``None`` in the main
    process. Use it in ``IterableDataset.__iter__`` or a ``worker_init_fn`` to give each worker
    its own share of the data."""
    return _worker_info


class IterableEnd:
    """Sent by a worker whose iterable dataset is exhausted."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at a new epoch; echoed back once they have reset."""


class _KeyErrorMessage(str):
    # KeyError's str() is the repr of its argument, which would print the traceback's
    # newlines as "\n"; returning the text itself keeps it readable.
    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info, where: str) -> None:
        exc_type = exc_info[0]
        self.type_name = exc_type.__name__
        try:
            pickle.dumps(exc_type)
            self.exc_type = exc_type
        except Exception:  # a class defined inside a function: fall back to RuntimeError
            self.exc_type = RuntimeError
        self.traceback = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the worker's exception type, its message carrying the original traceback."""
        message = f"Caught {self.type_name} {self.where}.\nOriginal {self.traceback}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exc = self.exc_type(message)
        except Exception:  # the exception type needs other constructor arguments
            exc = None
        if exc is None:
            raise RuntimeError(message)
        raise exc


def _serialize(task: Any, data: Any, worker_id: int) -> bytes:
    try:
        return pickle.dumps((task, data), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        wrapped = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id} "
                                   "while pickling the batch for the main process")
        return pickle.dumps((task, wrapped), protocol=pickle.HIGHEST_PROTOCOL)


def _seed_everything(seed: int, base_seed: int, worker_id: int) -> None:
    # ember's default generator and Python's get base_seed + worker_id, as torch seeds its
    # own generator; NumPy's legacy global generator gets a well-mixed 128-bit state.
    _random.manual_seed(seed)
    random.seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))


def worker_loop(iterable: bool, dataset, index_queue, result_queue, done_event,
                auto_collation: bool, collate_fn, drop_last: bool, base_seed: int,
                init_fn, worker_id: int, num_workers: int, parent_pid: int) -> None:
    """The body of one worker process (see the module docstring for the protocol)."""
    global _worker_info
    # Ctrl-C in a terminal reaches the whole process group; the main process handles it and
    # shuts the workers down, so a worker printing its own KeyboardInterrupt is only noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    where = f"in DataLoader worker process {worker_id}"
    seed = base_seed + worker_id
    _seed_everything(seed, base_seed, worker_id)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)

    def new_fetcher():
        return make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)

    pending_error = fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = new_fetcher()
    except Exception:
        pending_error = ExceptionWrapper(sys.exc_info(), where)

    exhausted = False
    while True:
        try:
            message = index_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if done_event.is_set() or os.getppid() != parent_pid:  # the main process died
                break
            continue
        if message is None:
            break
        if isinstance(message, ResumeIteration):
            exhausted = False
            if pending_error is None:
                try:
                    fetcher = new_fetcher()
                except Exception:
                    pending_error = ExceptionWrapper(sys.exc_info(), where)
            result_queue.put(_serialize(message, None, worker_id))
            continue
        if done_event.is_set() or exhausted:
            continue  # shutting down, or nothing left: wait for the None
        task, index = message
        if pending_error is not None:
            data, pending_error = pending_error, None
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                if not iterable:
                    data = ExceptionWrapper(sys.exc_info(), where)
                else:
                    data, exhausted = IterableEnd(worker_id), True
            except Exception:
                data = ExceptionWrapper(sys.exc_info(), where)
        result_queue.put(_serialize(task, data, worker_id))
        del data, index, message  # free the batch before blocking for the next task
    # Unsent results are of no use once we are told to exit; do not wait to flush them.
    result_queue.cancel_join_thread()
    result_queue.close()
