"""The DataLoader iterator with worker processes (``num_workers > 0``).

The main process owns the batch sampler. It keeps ``prefetch_factor * num_workers`` tasks in
flight, handing them to the live workers in turn, and yields results in task order (holding
early arrivals) unless ``in_order=False``. Workers are shut down when the iterator is exhausted,
deleted or garbage-collected, or when an error or KeyboardInterrupt leaves ``__next__``: each
gets a ``None``, is joined, and is terminated if it has not exited within a few seconds.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import queue
import time

from .worker import ExceptionWrapper, IterableEnd, ResumeIteration, worker_loop

# How long shutdown waits for a worker to exit by itself before terminating it.
JOIN_SECONDS = 5.0
# How often a blocked __next__ checks that the workers are alive.
STATUS_CHECK_SECONDS = 1.0


def default_context() -> multiprocessing.context.BaseContext:
    """'fork' where the platform has it (workers start in milliseconds and inherit the
    dataset without pickling it), else 'spawn'."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class MultiProcessIter:
    """Iterates a DataLoader's batches, built by worker processes."""

    def __init__(self, loader, base_seed: int) -> None:
        self._iterable = loader._iterable
        self._batch_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        try:
            self._length = len(loader)
        except TypeError:  # an IterableDataset without __len__
            self._length = None
        ctx = loader.multiprocessing_context or default_context()
        self._index_queues, self._workers = [], []
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._shutdown = False
        auto_collation = loader._auto_collation
        collate_fn = loader.collate_fn
        try:
            for worker_id in range(self._num_workers):
                index_queue = ctx.Queue()
                index_queue.cancel_join_thread()  # never block our exit on undelivered tasks
                worker = ctx.Process(
                    target=worker_loop, daemon=True,
                    args=(self._iterable, loader.dataset, index_queue, self._result_queue,
                          self._done_event, auto_collation, collate_fn, loader.drop_last,
                          base_seed, loader.worker_init_fn, worker_id, self._num_workers,
                          os.getpid()))
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self._shutdown_workers()
            raise
        self._start_epoch()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the workers (for monitoring and tests)."""
        return [w.pid for w in self._workers]

    def _start_epoch(self) -> None:
        self._sampler_iter = iter(self._batch_sampler)
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        self._tasks = {}  # task -> (worker,) while in flight, (worker, data) once arrived early
        self._send_idx = self._rcvd_idx = self._outstanding = 0
        for _ in range(self._prefetch):
            self._put_task()

    def reset(self, loader, base_seed: int) -> None:
        """Start a new epoch on the same (persistent) workers."""
        self._batch_sampler = loader._index_sampler
        for index_queue in self._index_queues:
            index_queue.put(ResumeIteration())
        acknowledged = 0
        while acknowledged < self._num_workers:  # drop what is left of the previous epoch
            task, _ = self._get_result()
            acknowledged += isinstance(task, ResumeIteration)
        self._start_epoch()

    def __iter__(self) -> MultiProcessIter:
        return self

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError("this DataLoader has no length")
        return self._length

    def _put_task(self) -> None:
        if self._outstanding >= self._prefetch:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._active[worker_id]:
                break
        else:
            return  # every worker has finished its share of an iterable dataset
        self._index_queues[worker_id].put((self._send_idx, index))
        self._tasks[self._send_idx] = (worker_id,)
        self._outstanding += 1
        self._send_idx += 1

    def _get_result(self):
        """The next ``(task, data)`` from any worker, honouring ``timeout``."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = STATUS_CHECK_SECONDS if deadline is None else min(
                STATUS_CHECK_SECONDS, deadline - time.monotonic())
            try:
                payload = self._result_queue.get(timeout=max(wait, 0.0))
                return pickle.loads(payload)
            except queue.Empty:
                pass
            dead = [w.pid for w, active in zip(self._workers, self._active)
                    if active and not w.is_alive()]
            if dead:
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) "
                                   "exited unexpectedly")
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_data(self):
        while True:
            # Skip tasks that will never arrive: their worker's iterable dataset has ended.
            while self._rcvd_idx < self._send_idx:
                info = self._tasks.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._active[info[0]]:
                        break
                    del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:  # arrived earlier, out of order
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            task, data = self._get_result()
            if isinstance(task, ResumeIteration):
                continue
            self._outstanding -= 1
            if isinstance(data, IterableEnd):
                self._active[data.worker_id] = False
                self._tasks.pop(task, None)
                self._put_task()
                continue
            if task != self._rcvd_idx:
                if self._in_order:
                    self._tasks[task] += (data,)
                    continue
                del self._tasks[task]
                return self._process(data)
            del self._tasks[task]
            self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._put_task()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def __next__(self):
        if self._shutdown:
            raise StopIteration
        try:
            return self._next_data()
        except StopIteration:
            if not self._persistent:
                self._shutdown_workers()
            raise
        except BaseException:  # worker error, timeout, KeyboardInterrupt: leave no processes
            self._shutdown_workers()
            raise

    def _shutdown_workers(self) -> None:
        if getattr(self, "_shutdown", True):  # done already, or __init__ failed early
            return
        self._shutdown = True
        self._done_event.set()
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + JOIN_SECONDS
        for worker in self._workers:
            worker.join(timeout=max(deadline - time.monotonic(), 0.0))
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for q in self._index_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self) -> None:
        self._shutdown_workers()
