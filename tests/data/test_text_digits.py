"""TextDataset (character-level windows, vocabularies, errors) and the Digits dataset."""

import gzip
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.data import DataLoader
from ember.data.datasets import Digits, TextDataset, load_digits

AUSTEN = Path("/work/shared/data/austen.txt.gz")


def test_byte_windows_are_shifted_by_one():
    ds = TextDataset("hello world, hello ember", seq_len=5)
    assert ds.vocab_size == 256 and len(ds) == (24 - 6) // 5 + 1
    x, y = ds[1]
    assert x.dtype is ember.int64 and x.shape == (5,)
    assert ds.decode(x) == " worl" and ds.decode(y) == "world"
    assert x.tolist()[1:] == y.tolist()[:-1]


def test_stride_and_last_window():
    text = "abcdefghij"
    ds = TextDataset(text, seq_len=3, stride=2)
    assert len(ds) == 4  # starts 0, 2, 4, 6; start 8 would need 4 chars
    assert [ds.decode(ds[i][0]) for i in range(4)] == ["abc", "cde", "efg", "ghi"]
    assert ds.decode(ds[-1][1]) == "hij"
    with pytest.raises(IndexError, match="index 4 is out of range for 4 windows"):
        ds[4]


def test_char_vocab_and_explicit_vocab():
    ds = TextDataset("banana bread", seq_len=4, vocab="chars")
    assert ds.vocab == sorted(set("banana bread")) and ds.vocab_size == 7
    assert ds.decode(ds.encode("bread")) == "bread"
    assert ds.encode("ab").tolist() == [ds.vocab.index("a"), ds.vocab.index("b")]
    explicit = TextDataset("abcabc", seq_len=2, vocab="cba")
    assert explicit.ids.tolist() == [2, 1, 0, 2, 1, 0]
    with pytest.raises(ValueError, match=r"2 characters of the text are not in the vocabulary, "
                                         r"e.g. \['z'\]"):
        TextDataset("azaz", seq_len=1, vocab=["a"])
    with pytest.raises(ValueError, match="distinct single characters"):
        TextDataset("aa", seq_len=1, vocab=["a", "a"])


def test_non_ascii_bytes_round_trip():
    ds = TextDataset("café crème brûlée", seq_len=4)
    assert ds.decode(ds.ids) == "café crème brûlée"
    assert ds.ids.numpy().max() > 127  # bytes of the UTF-8 encoding, not characters


def test_files_plain_and_gzip(tmp_path):
    (tmp_path / "a.txt").write_text("some text for a file")
    with gzip.open(tmp_path / "b.txt.gz", "wt") as f:
        f.write("some text for a file")
    plain = TextDataset(tmp_path / "a.txt", 4)
    zipped = TextDataset(str(tmp_path / "b.txt.gz"), 4)
    assert plain.ids.tolist() == zipped.ids.tolist()
    assert len(plain) == 4  # 20 chars: windows of 4 + 1 start at 0, 4, 8, 12


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*missing.txt"):
        TextDataset(str(tmp_path / "missing.txt"), 4)
    with pytest.raises(FileNotFoundError, match="no such file"):
        TextDataset(tmp_path / "missing", 4)
    with pytest.raises(ValueError, match=r"has 4 tokens, fewer than seq_len \+ 1 = 5"):
        TextDataset("abcd", 4)
    with pytest.raises(ValueError, match="seq_len must be a positive int, got 0"):
        TextDataset("abcd", 0)
    with pytest.raises(TypeError, match="path_or_text must be a str, bytes or path"):
        TextDataset(123, 4)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ValueError, match="not valid utf-8"):
        TextDataset(tmp_path / "bad.txt", 1)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 256\)"):
        TextDataset("abcd", 2).decode([300])


def test_loader_batches_equal_items():
    ds = TextDataset("the quick brown fox jumps over the lazy dog " * 3, seq_len=8, stride=3)
    xb, yb = next(iter(DataLoader(ds, batch_size=5, shuffle=True,
                                  generator=ember.Generator().manual_seed(0))))
    assert xb.shape == (5, 8) and xb.dtype is ember.int64
    rows = {tuple(ds[i][0].tolist()): tuple(ds[i][1].tolist()) for i in range(len(ds))}
    for x, y in zip(xb.tolist(), yb.tolist()):
        assert rows[tuple(x)] == tuple(y)


def test_austen():
    if not AUSTEN.exists():
        pytest.skip(f"{AUSTEN} not found")
    ds = TextDataset(AUSTEN, seq_len=64)
    assert ds.decode(ds.ids[:4]) == "EMMA" and len(ds) > 60000
    assert ds.ids.numpy().max() < 256


def test_digits_dataset():
    train, test = Digits(), Digits(train=False)
    assert len(train) == 1438 and len(test) == 359
    x, y = load_digits("test")
    image, label = test[5]
    assert image.shape == (1, 8, 8) and label == y[5].item() and isinstance(label, int)
    np.testing.assert_array_equal(image.numpy(), x.numpy()[5])
    xb, yb = next(iter(DataLoader(test, batch_size=359)))
    np.testing.assert_array_equal(xb.numpy(), x.numpy())
    np.testing.assert_array_equal(yb.numpy(), y.numpy())
    flat = Digits(transform=lambda t: t.reshape(64))
    assert flat[0][0].shape == (64,)
    with pytest.raises(TypeError, match="train must be a bool"):
        Digits(train="yes")
