"""Samplers: orders, lengths, reproducibility, and BatchSampler against torch's batches."""

import numpy as np
import pytest
import torch

import ember
from ember.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def test_sequential_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert len(SequentialSampler(range(4))) == 4


def test_random_sampler_is_a_permutation_reproducible_and_new_each_epoch():
    sampler = RandomSampler(range(20), generator=ember.Generator().manual_seed(3))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == list(range(20)) and first != second
    again = RandomSampler(range(20), generator=ember.Generator().manual_seed(3))
    assert list(again) == first and list(again) == second


def test_random_sampler_default_generator_follows_manual_seed():
    ember.manual_seed(11)
    a = list(RandomSampler(range(30)))
    ember.manual_seed(11)
    assert list(RandomSampler(range(30))) == a


@pytest.mark.parametrize("replacement, num_samples", [(False, 25), (False, 7), (True, 50)])
def test_random_sampler_num_samples_like_torch(replacement, num_samples):
    ours = list(RandomSampler(range(10), replacement, num_samples,
                              generator=ember.Generator().manual_seed(0)))
    theirs = list(torch.utils.data.RandomSampler(range(10), replacement, num_samples))
    assert len(ours) == len(theirs) == num_samples
    assert all(0 <= i < 10 for i in ours)
    if not replacement:  # whole permutations first, then a partial one
        full = num_samples // 10 * 10
        for start in range(0, full, 10):
            assert sorted(ours[start:start + 10]) == list(range(10))
        assert len(set(ours[full:])) == num_samples - full


def test_random_sampler_bad_arguments():
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, "
                                         "but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)


@pytest.mark.parametrize("n, bs, drop", [(10, 3, False), (10, 3, True), (9, 3, True),
                                         (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, bs, drop):
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs,
                                           drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    # The generic path (any iterable of indices) gives the same batches.
    assert list(BatchSampler(list(range(n)), bs, drop)) == list(theirs)


def test_batch_sampler_over_random_sampler_batches_the_permutation():
    g = ember.Generator().manual_seed(4)
    batches = list(BatchSampler(RandomSampler(range(11), generator=g), 4, False))
    assert [len(b) for b in batches] == [4, 4, 3]
    assert all(isinstance(i, int) for b in batches for i in b)
    order = RandomSampler(range(11), generator=ember.Generator().manual_seed(4))
    assert sum(batches, []) == list(order)


def test_batch_sampler_respects_subclassed_iter():
    class Reversed(SequentialSampler):
        def __iter__(self):
            return iter(reversed(range(len(self.data_source))))

    assert list(BatchSampler(Reversed(range(5)), 2, False)) == [[4, 3], [2, 1], [0]]


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None])
def test_batch_sampler_bad_batch_size(bad):
    with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but "
                                         f"got batch_size={bad!r}"):
        BatchSampler(range(3), bad, False)


def test_batch_sampler_bad_drop_last():
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, drop_last=1)


def test_subset_random_sampler():
    out = list(SubsetRandomSampler([5, 7, 9], generator=ember.Generator().manual_seed(0)))
    assert sorted(out) == [5, 7, 9]


def test_weighted_random_sampler_follows_weights():
    s = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=ember.Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=3)
    assert counts[0] == 0 and 2.6 < counts[2] / counts[1] < 3.4
    no_repl = list(WeightedRandomSampler([1, 1, 1, 0], 3, replacement=False))
    assert sorted(no_repl) == [0, 1, 2]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2"):
        WeightedRandomSampler([1, 1, 0], 3, replacement=False)


def test_sampler_base_is_abstract():
    with pytest.raises(NotImplementedError):
        iter(Sampler())
