"""DataLoader with worker processes: equality with num_workers=0, seeding, worker info,
errors surfaced with the worker's traceback, timeouts, and shutdown leaving no processes."""

import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import ember
from ember.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info

from ._procs import alive, live_children, wait_until


@pytest.fixture(autouse=True)
def no_leftover_workers():
    before = set(live_children())
    yield
    assert wait_until(lambda: set(live_children()) <= before), \
        f"worker processes left running: {set(live_children()) - before}"
    multiprocessing.active_children()  # reap
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("Process")]


def make_ds(n=23):
    return TensorDataset(ember.arange(n * 2, dtype=ember.float32).reshape(n, 2), ember.arange(n))


class Squares(Dataset):
    def __len__(self):
        return 11

    def __getitem__(self, i):
        return {"x": np.full(2, i, np.float32), "y": i, "s": float(i) ** 2}


class WhoAmI(Dataset):
    """Each item reports the worker that built it and a draw from the worker's generators."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return (info.id, info.num_workers, info.seed, ember.rand(1).item(),
                float(np.random.rand()), type(info.dataset).__name__)


class Failing(Dataset):
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 7:
            raise self.exc
        return i


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a} {b}")


class Slow(Dataset):
    def __init__(self, seconds):
        self.seconds = seconds

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(self.seconds)
        return i


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Unpicklable(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return lambda: i


class Sharded(IterableDataset):
    """range(n), split between workers by position, as the docs tell users to do."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class TorchSharded(torch.utils.data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def batches_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, dict):
            assert x.keys() == y.keys()
            for k in x:
                np.testing.assert_array_equal(x[k].numpy(), y[k].numpy())
                assert x[k].dtype is y[k].dtype
        else:
            for s, t in zip(x, y):
                np.testing.assert_array_equal(s.numpy(), t.numpy())
                assert s.dtype is t.dtype


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_workers_give_the_same_batches_as_one_process(workers):
    def run(num_workers):
        loader = DataLoader(make_ds(), batch_size=4, shuffle=True, num_workers=num_workers,
                            generator=ember.Generator().manual_seed(9))
        return [list(loader), list(loader)]  # two epochs

    single, multi = run(0), run(workers)
    for a, b in zip(single, multi):
        batches_equal(a, b)
    assert [t[1].tolist() for t in single[0]] != [t[1].tolist() for t in single[1]]


def test_workers_with_per_item_collate_and_drop_last():
    kwargs = dict(batch_size=3, drop_last=True)
    single = list(DataLoader(Squares(), **kwargs))
    multi = list(DataLoader(Squares(), num_workers=2, **kwargs))
    batches_equal(single, multi)
    assert len(multi) == len(DataLoader(Squares(), num_workers=2, **kwargs)) == 3


def test_worker_info_and_per_worker_seeds():
    assert get_worker_info() is None

    def run():
        loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2,
                            generator=ember.Generator().manual_seed(1))
        return [row for batch in loader for row in zip(*[c if isinstance(c, list) else
                                                          c.tolist() for c in batch])]

    rows = run()
    ids = [r[0] for r in rows]
    assert ids == [0, 0, 1, 1, 0, 0, 1, 1]  # batches handed out in turn
    assert {r[1] for r in rows} == {2} and {r[5] for r in rows} == {"WhoAmI"}
    seed0 = rows[0][2]
    assert {r[2] - r[0] for r in rows} == {seed0}  # seed = base_seed + worker_id
    # Workers draw different numbers (ember's and NumPy's generators are seeded per worker)...
    assert rows[0][3] != rows[2][3] and rows[0][4] != rows[2][4]
    # ...reproducibly for a seeded loader generator.
    assert run() == rows


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        get_worker_info().dataset.offset = 100 * (worker_id + 1)

    class Offset(Dataset):
        offset = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i + self.offset

    out = [b.tolist() for b in DataLoader(Offset(), batch_size=2, num_workers=2,
                                          worker_init_fn=init)]
    assert out == [[100, 101], [202, 203]]


def test_worker_exception_is_reraised_with_worker_id_and_traceback():
    loader = DataLoader(Failing(ValueError("bad sample 7")), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    message = str(info.value)
    assert "Caught ValueError in DataLoader worker process 1." in message
    assert "Original Traceback (most recent call last)" in message
    assert "bad sample 7" in message and "__getitem__" in message


def test_worker_key_error_message_is_readable():
    with pytest.raises(KeyError) as info:
        list(DataLoader(Failing(KeyError("missing")), batch_size=4, num_workers=1))
    assert "Caught KeyError in DataLoader worker process 0" in str(info.value)
    assert "\\n" not in str(info.value)


def test_worker_exception_that_cannot_be_rebuilt_becomes_runtime_error():
    with pytest.raises(RuntimeError, match=r"(?s)Caught NeedsTwoArgs in DataLoader worker "
                                           r"process 1.*NeedsTwoArgs: x y"):
        list(DataLoader(Failing(NeedsTwoArgs("x", "y")), batch_size=2, num_workers=2))


def test_worker_init_fn_error_is_reported():
    def init(worker_id):
        raise OSError(f"cannot open shard {worker_id}")

    with pytest.raises(OSError, match="(?s)worker process 0.*cannot open shard 0"):
        list(DataLoader(make_ds(), batch_size=4, num_workers=2, worker_init_fn=init))


def test_unpicklable_batch_is_an_error_not_a_hang():
    loader = DataLoader(Unpicklable(), batch_size=None, num_workers=1, timeout=20)
    with pytest.raises(Exception, match="while pickling the batch"):
        next(iter(loader))


def test_dead_worker_is_detected():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited "
                                           r"unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 10


def test_timeout():
    loader = DataLoader(Slow(1.0), batch_size=1, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds"):
        next(iter(loader))


def test_prefetch_keeps_factor_times_workers_tasks_in_flight():
    loader = DataLoader(make_ds(40), batch_size=2, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    assert it._send_idx == 6 and it._outstanding == 6
    next(it)
    assert it._send_idx == 7
    assert len(it) == 20 and len(list(it)) == 19


def test_out_of_order_mode_yields_every_batch():
    loader = DataLoader(make_ds(20), batch_size=2, num_workers=3, in_order=False)
    got = sorted(b[1].tolist()[0] for b in loader)
    assert got == list(range(0, 20, 2))


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # torch, about 3 workers
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_with_workers_matches_torch(workers, drop_last):
    kwargs = dict(batch_size=2, num_workers=workers, drop_last=drop_last)
    ours = [b.tolist() for b in DataLoader(Sharded(13), **kwargs)]
    theirs = [b.tolist() for b in torch.utils.data.DataLoader(TorchSharded(13), **kwargs)]
    assert ours == theirs


def test_iterable_dataset_without_sharding_repeats_per_worker():
    class Whole(IterableDataset):
        def __iter__(self):
            return iter(range(4))

    out = sorted(sum((b.tolist() for b in DataLoader(Whole(), batch_size=2, num_workers=2)),
                     []))
    assert out == [0, 0, 1, 1, 2, 2, 3, 3]  # the documented pitfall: split in __iter__


def test_workers_stop_when_exhausted():
    it = iter(DataLoader(make_ds(), batch_size=8, num_workers=2))
    pids = it.worker_pids
    assert all(alive(p) for p in pids)
    list(it)
    assert wait_until(lambda: not any(alive(p) for p in pids))


def test_workers_stop_when_iterator_deleted_midway():
    it = iter(DataLoader(make_ds(200), batch_size=2, num_workers=2))
    next(it)
    pids = it.worker_pids
    del it
    assert wait_until(lambda: not any(alive(p) for p in pids))


def test_workers_stop_when_iterator_is_garbage_collected_in_a_cycle():
    it = iter(DataLoader(make_ds(200), batch_size=2, num_workers=2))
    next(it)
    pids = it.worker_pids
    holder = {"it": it}
    holder["self"] = holder
    it.cycle = holder
    del it, holder
    gc.collect()
    assert wait_until(lambda: not any(alive(p) for p in pids))


def test_workers_stop_after_an_error():
    loader = DataLoader(Failing(ValueError("boom")), batch_size=1, num_workers=2)
    it = iter(loader)
    pids = it.worker_pids
    with pytest.raises(ValueError):
        list(it)
    assert wait_until(lambda: not any(alive(p) for p in pids))
    with pytest.raises(StopIteration):
        next(it)


def test_persistent_workers_are_reused_across_epochs():
    loader = DataLoader(make_ds(), batch_size=5, shuffle=True, num_workers=2,
                        persistent_workers=True, generator=ember.Generator().manual_seed(3))
    reference = DataLoader(make_ds(), batch_size=5, shuffle=True,
                           generator=ember.Generator().manual_seed(3))
    first = iter(loader)
    pids = first.worker_pids
    epoch1 = list(first)
    second = iter(loader)
    next(second)  # stop midway: the next epoch must not see this epoch's leftovers
    epoch3 = list(iter(loader))
    assert iter(loader).worker_pids == pids and all(alive(p) for p in pids)
    want = [list(reference) for _ in range(3)]
    batches_equal(epoch1, want[0])
    batches_equal(epoch3, want[2])
    del loader, first, second
    gc.collect()
    assert wait_until(lambda: not any(alive(p) for p in pids))


def test_spawn_start_method():
    loader = DataLoader(make_ds(6), batch_size=4, num_workers=1,
                        multiprocessing_context="spawn")
    assert [b[1].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]


KEYBOARD_INTERRUPT_SCRIPT = textwrap.dedent("""
    import sys, time
    import ember
    from ember.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 1000
        def __getitem__(self, i):
            time.sleep(0.05)
            return i

    it = iter(DataLoader(Slow(), batch_size=1, num_workers=2))
    try:
        next(it)
        print(*it.worker_pids, flush=True)  # inside the try: the signal may come right after
        for _ in it:
            pass
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise
""")


def test_ctrl_c_stops_the_main_process_and_its_workers():
    proc = subprocess.Popen([sys.executable, "-c", KEYBOARD_INTERRUPT_SCRIPT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "interrupted" in out and "KeyboardInterrupt" in err
    assert proc.returncode != 0
    assert wait_until(lambda: not any(alive(p) for p in pids))
    assert err.count("Traceback") == 1  # the workers stayed quiet
