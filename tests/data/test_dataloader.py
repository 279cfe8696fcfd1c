"""DataLoader in one process: batching, shuffling, lengths, samplers and argument errors."""

import itertools

import numpy as np
import pytest
import torch

import ember
from ember.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    TensorDataset,
)


def make_ds(n=10):
    return TensorDataset(ember.arange(n * 3, dtype=ember.float32).reshape(n, 3), ember.arange(n))


class Squares(Dataset):
    """A plain map-style dataset returning (float, int) tuples: goes through default_collate."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return float(i * i), i


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n = n
        self.with_len = with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no length")
        return self.n


def labels(loader, position=1):
    return [b[position].tolist() for b in loader]


def test_sequential_batches_and_types():
    batches = list(DataLoader(make_ds(), batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    x, y = batches[0]
    assert isinstance(batches[0], list) and x.shape == (4, 3) and x.dtype is ember.float32
    assert y.dtype is ember.int64


def test_per_item_path_matches_torch_types():
    ours = list(DataLoader(Squares(5), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(Squares(5), batch_size=2))
    for (a, b), (c, d) in zip(ours, theirs):
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()
        assert a.dtype is ember.float64 and c.dtype == torch.float64
        assert b.dtype is ember.int64 and d.dtype == torch.int64


@pytest.mark.parametrize("n, bs, drop", [(10, 3, False), (10, 3, True), (9, 3, False),
                                         (9, 3, True), (2, 4, True)])
def test_len_and_drop_last_like_torch(n, bs, drop):
    ours = DataLoader(make_ds(n), batch_size=bs, drop_last=drop)
    theirs = torch.utils.data.DataLoader(list(range(n)), batch_size=bs, drop_last=drop)
    assert len(ours) == len(theirs) == len(list(ours))
    assert [len(b[1]) for b in ours] == [len(b) for b in theirs]


def test_shuffle_is_reproducible_and_changes_between_epochs():
    def epochs(seed, count=2):
        loader = DataLoader(make_ds(20), batch_size=5, shuffle=True,
                            generator=ember.Generator().manual_seed(seed))
        return [sum(labels(loader), []) for _ in range(count)]

    first, second = epochs(0)
    assert sorted(first) == list(range(20)) and first != list(range(20))
    assert first != second  # a new order each epoch
    assert epochs(0) == [first, second]  # same seed, same sequence of epochs
    assert epochs(1)[0] != first


def test_shuffle_without_generator_follows_manual_seed():
    loader = DataLoader(make_ds(20), batch_size=5, shuffle=True)
    ember.manual_seed(7)
    a = labels(loader)
    ember.manual_seed(7)
    assert labels(loader) == a


def test_batch_size_none_yields_converted_samples():
    ours = list(DataLoader(Squares(3), batch_size=None))
    assert ours == [[0.0, 0], [1.0, 1], [4.0, 2]]  # tuples become lists, numbers stay
    assert list(torch.utils.data.DataLoader(Squares(3), batch_size=None)) == ours
    assert len(DataLoader(Squares(3), batch_size=None)) == 3


def test_custom_sampler_batch_sampler_and_collate_fn():
    loader = DataLoader(make_ds(6), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert labels(loader) == [[5, 4], [3, 2], [1, 0]]
    bs = BatchSampler(SequentialSampler(range(6)), 4, drop_last=False)
    assert labels(DataLoader(make_ds(6), batch_sampler=bs)) == [[0, 1, 2, 3], [4, 5]]
    loader = DataLoader(make_ds(4), batch_size=2, collate_fn=lambda items: len(items))
    assert list(loader) == [2, 2]


def test_iterable_dataset_single_process():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(loader) == 3
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(TypeError):
        len(DataLoader(Stream(3, with_len=False)))


def test_fast_gather_path_equals_per_item_path():
    ds = make_ds(13)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True,
                           generator=ember.Generator().manual_seed(2)))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True,
                           generator=ember.Generator().manual_seed(2),
                           collate_fn=lambda b: ember.data.default_collate(b)))
    for (a, b), (c, d) in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert a.dtype is c.dtype and b.dtype is d.dtype


BAD_ARGS = [
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value, but got "
                                     "batch_size=0"),
    (dict(batch_size=-2), ValueError, "batch_size=-2"),
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(num_workers=1.5), TypeError, "num_workers must be an int"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError,
     "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError,
     "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
     "drop_last"),
    (dict(batch_size=None, drop_last=True), ValueError, "mutually exclusive with drop_last"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified in "
                                          "multiprocessing"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs "
                                                "num_workers > 0"),
    (dict(num_workers=1, prefetch_factor=0), ValueError, "prefetch_factor option should be a "
                                                         "positive int"),
    (dict(multiprocessing_context="fork"), ValueError, "multiprocessing_context can only be used"),
    (dict(num_workers=1, multiprocessing_context="nope"), ValueError,
     "should specify a valid start method"),
    (dict(generator=np.random.default_rng()), TypeError, "generator must be an ember.Generator"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_ARGS,
                         ids=[str(k) for k, _, _ in BAD_ARGS])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataLoader(make_ds(), **kwargs)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_iterable_dataset_rejects_order_options(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: expected "
                                         f"unspecified {name} option"):
        DataLoader(Stream(3), **kwargs)


def test_frozen_attributes_after_init():
    loader = DataLoader(make_ds(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen, as torch


def test_iterating_two_epochs_interleaved():
    loader = DataLoader(make_ds(6), batch_size=2)
    a, b = iter(loader), iter(loader)
    assert next(a)[1].tolist() == [0, 1] and next(b)[1].tolist() == [0, 1]
    assert [x[1].tolist() for x in itertools.islice(a, 5)] == [[2, 3], [4, 5]]
