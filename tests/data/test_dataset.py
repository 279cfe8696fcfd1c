"""TensorDataset, Subset, ConcatDataset, ChainDataset and random_split (vs torch's sizes)."""

import numpy as np
import pytest
import torch

import ember
from ember.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from ember.data.dataset import batch_fetcher


def make_ds(n=10):
    x = ember.arange(n * 2, dtype=ember.float32).reshape(n, 2)
    return TensorDataset(x, ember.arange(n))


def test_tensor_dataset_items_and_len():
    ds = make_ds()
    assert len(ds) == 10
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and y.dtype is ember.int64


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"size mismatch.*\[4, 5\]"):
        TensorDataset(ember.zeros(4, 2), ember.zeros(5))


def test_tensor_dataset_bad_arguments():
    with pytest.raises(TypeError, match="argument 1 must be an ember.Tensor, got ndarray"):
        TensorDataset(ember.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d tensor"):
        TensorDataset(ember.tensor(1.0))


def test_fetch_batch_equals_per_item_collate():
    ds = make_ds()
    fast = ds.fetch_batch([4, 0, 9])
    x = np.stack([ds[i][0].numpy() for i in (4, 0, 9)])
    np.testing.assert_array_equal(fast[0].numpy(), x)
    assert fast[1].tolist() == [4, 0, 9] and isinstance(fast, list)
    with pytest.raises(IndexError, match="index 10 is out of range for a dataset of size 10"):
        ds.fetch_batch([1, 10])


def test_fetch_batch_not_used_when_subclass_overrides_getitem():
    class Augmented(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 0, y

    assert batch_fetcher(make_ds()) is not None
    assert batch_fetcher(Augmented(ember.zeros(3), ember.zeros(3))) is None
    loader = ember.data.DataLoader(Augmented(ember.ones(4, 2), ember.arange(4)), batch_size=2)
    assert next(iter(loader))[0].sum().item() == 0.0


def test_subset_maps_indices_and_fetches_batches():
    ds = make_ds()
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7 and sub[-1][1].item() == 5
    assert [y.item() for _, y in sub.__getitems__([2, 0])] == [5, 7]
    assert sub.fetch_batch([2, 0])[1].tolist() == [5, 7]
    plain = Subset(list(range(5)), [4, 3])
    assert plain.fetch_batch([0]) is NotImplemented and plain[0] == 4


def test_concat_dataset_indexing_like_torch():
    a, b = list(range(3)), list(range(10, 15))
    ours, theirs = ConcatDataset([a, b]), torch.utils.data.ConcatDataset([a, b])
    assert len(ours) == len(theirs) == 8
    assert [ours[i] for i in range(-8, 8)] == [theirs[i] for i in range(-8, 8)]
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    with pytest.raises(IndexError, match="index 8 is out of range for length 8"):
        ours[8]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])
    assert len(make_ds(3) + make_ds(4)) == 7


def test_chain_dataset_and_iterable_add():
    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([[1, 2]]))
    with pytest.raises(TypeError, match="does not support IterableDataset"):
        ConcatDataset([Count(2)])


def test_base_classes_raise_not_implemented():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (30, [0.3, 0.3, 0.4]),
                                        (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (10, [10])])
def test_random_split_sizes_match_torch(n, lengths):
    ours = random_split(list(range(n)), lengths, generator=ember.Generator().manual_seed(0))
    theirs = torch.utils.data.random_split(list(range(n)), lengths,
                                           generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat = [i for s in ours for i in s]
    assert sorted(flat) == list(range(n))  # disjoint and covering


def test_random_split_is_reproducible_and_seed_dependent():
    def split(seed):
        parts = random_split(range(50), [20, 30], generator=ember.Generator().manual_seed(seed))
        return [list(p) for p in parts]

    assert split(1) == split(1)
    assert split(1) != split(2)
    ember.manual_seed(5)
    first = [list(p) for p in random_split(range(50), [25, 25])]
    ember.manual_seed(5)
    assert first == [list(p) for p in random_split(range(50), [25, 25])]


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match=r"sum of input lengths \(9\) does not equal the "
                                         r"length of the input dataset \(10\)"):
        random_split(range(10), [4, 5])
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1, got 1.5"):
        random_split(range(10), [1.5, -0.5])
    with pytest.raises(ValueError, match="non-negative ints"):
        random_split(range(10), [12, -2])
    with pytest.raises(TypeError, match="non-empty sequence"):
        random_split(range(10), 5)
    with pytest.warns(UserWarning, match="split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])
