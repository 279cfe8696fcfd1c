"""``load_emma``: the embedded text of *Emma*, vol. I, and its fixed train/test split."""
from __future__ import annotations

import pytest

from ember.data.datasets import TextDataset, load_emma


def test_whole_text_and_split():
    text = load_emma()
    train, test = load_emma("train"), load_emma("test")
    assert text.startswith("EMMA\n") and len(text) == 269440
    assert train + test == text and train.endswith("\n")
    assert 0.09 < len(test) / len(text) < 0.11
    assert text.isascii()


def test_bad_split_is_a_clear_error():
    with pytest.raises(ValueError, match="split must be None, 'train' or 'test', got 'val'"):
        load_emma("val")


def test_feeds_text_dataset():
    ds = TextDataset(load_emma("test"), seq_len=64)
    x, y = ds[0]
    assert ds.decode(x).startswith(load_emma("test")[:64])
    assert (x.numpy()[1:] == y.numpy()[:-1]).all()
