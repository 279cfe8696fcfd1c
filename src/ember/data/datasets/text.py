"""``TextDataset``: character-level language-modelling windows over a text.

The text is encoded once into an array of ids; item ``i`` is the window starting at
``i * stride``: ``(ids[s : s + seq_len], ids[s + 1 : s + seq_len + 1])``, the target being the
input shifted by one. The default vocabulary is the 256 byte values of the UTF-8 encoding
(ember's W4 benchmark model has vocab 256); ``vocab="chars"`` uses the sorted set of the
text's characters instead, and a list or string gives the vocabulary explicitly.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...tensor import Tensor, _make
from ..dataset import Dataset, _index_array

__all__ = ["TextDataset"]

_FILE_SUFFIXES = (".txt", ".gz", ".text", ".md")


def _read_text(path: Path, encoding: str) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"TextDataset: no such file: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                data = f.read()
        else:
            data = path.read_bytes()
        return data.decode(encoding)
    except (OSError, EOFError) as e:
        raise ValueError(f"TextDataset: cannot read {path}: {type(e).__name__}: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"TextDataset: {path} is not valid {encoding} text ({e}); pass "
                         "encoding=") from None


def _source_text(source, encoding: str) -> str:
    if isinstance(source, bytes):
        return source.decode(encoding)
    if isinstance(source, os.PathLike):
        return _read_text(Path(source), encoding)
    if not isinstance(source, str):
        raise TypeError("TextDataset: path_or_text must be a str, bytes or path, got "
                        f"{type(source).__name__}")
    looks_like_path = "\n" not in source and (os.path.exists(source)
                                              or source.endswith(_FILE_SUFFIXES))
    return _read_text(Path(os.path.expanduser(source)), encoding) if looks_like_path \
        else source


class TextDataset(Dataset):
    """Next-character prediction windows over a text file (gzip allowed) or a string.

    Args:
        path_or_text: a path (``pathlib.Path``, or a str naming an existing file or ending in
            ``.txt``/``.gz``: a missing one is a FileNotFoundError), or the text itself (any
            other str, or bytes).
        seq_len: tokens per input window; the target is the same window shifted by one.
        vocab: ``None``/``"bytes"`` (256 byte values of the encoded text), ``"chars"`` (the
            sorted set of the text's characters) or an explicit list/string of characters.
        stride: distance between window starts; default ``seq_len`` (non-overlapping).
        encoding: of the file, and of the text for the byte vocabulary.

    Items are ``(input_ids, target_ids)``, two int64 tensors of shape ``[seq_len]``.

    Example::

        ds = TextDataset("/data/austen.txt.gz", seq_len=64)
        x, y = ds[0]                 # y[:-1] == x[1:]
        ds.decode(x)                 # back to text
    """

    def __init__(self, path_or_text, seq_len: int, vocab: str | Sequence[str] | None = None,
                 stride: int | None = None, encoding: str = "utf-8") -> None:
        for name, value in (("seq_len", seq_len), ("stride", stride)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):
                raise ValueError(f"TextDataset: {name} must be a positive int, got {value!r}")
        text = _source_text(path_or_text, encoding)
        self.seq_len = seq_len
        self.stride = seq_len if stride is None else stride
        self.encoding = encoding
        if vocab is None or (isinstance(vocab, str) and vocab == "bytes"):
            self.vocab: list[str] | None = None
            self.vocab_size = 256
            self._ids = np.frombuffer(text.encode(encoding), dtype=np.uint8)
        else:
            if isinstance(vocab, str) and vocab == "chars":
                vocab = sorted(set(text))
            chars = list(vocab)
            if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
                raise ValueError("TextDataset: vocab must be distinct single characters")
            self.vocab = chars
            self.vocab_size = len(chars)
            self._stoi = {c: i for i, c in enumerate(chars)}
            self._ids = self._encode_array(text)
        need = seq_len + 1
        if len(self._ids) < need:
            raise ValueError(f"TextDataset: the text has {len(self._ids)} tokens, fewer than "
                             f"seq_len + 1 = {need} needed for one (input, target) window")

    def _encode_array(self, text: str) -> np.ndarray:
        if self.vocab is None:
            return np.frombuffer(text.encode(self.encoding), dtype=np.uint8)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        # Map code points to ids with one lookup table instead of a Python loop per char.
        points = np.array([ord(c) for c in self.vocab], dtype=np.int64)
        table = np.full(max(int(points.max()), int(codes.max(initial=0))) + 1, -1, np.int32)
        table[points] = np.arange(len(points), dtype=np.int32)
        ids = table[codes]
        if (ids < 0).any():
            missing = sorted({chr(c) for c in codes[ids < 0]})
            raise ValueError(f"TextDataset: {int((ids < 0).sum())} characters of the text are "
                             f"not in the vocabulary, e.g. {missing[:10]}")
        return ids

    @property
    def ids(self) -> Tensor:
        """The whole encoded text as an int64 tensor."""
        return _make(self._ids.astype(np.int64))

    def encode(self, text: str) -> Tensor:
        """Text -> int64 tensor of ids."""
        return _make(self._encode_array(text).astype(np.int64))

    def decode(self, ids) -> str:
        """Ids (a tensor, array or list) -> text; invalid UTF-8 bytes become U+FFFD."""
        arr = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids).reshape(-1)
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise ValueError(f"TextDataset.decode: ids must be in [0, {self.vocab_size}), got "
                             f"values from {arr.min()} to {arr.max()}")
        if self.vocab is None:
            return arr.astype(np.uint8).tobytes().decode(self.encoding, errors="replace")
        return "".join(self.vocab[i] for i in arr.tolist())

    def __len__(self) -> int:
        return (len(self._ids) - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        index = int(index)
        if not -n <= index < n:
            raise IndexError(f"TextDataset: index {index} is out of range for {n} windows")
        start = (index % n) * self.stride
        window = self._ids[start:start + self.seq_len + 1].astype(np.int64)
        return _make(window[:-1]), _make(window[1:])

    def fetch_batch(self, indices) -> list[Tensor]:
        """``[inputs [B, seq_len], targets [B, seq_len]]`` gathered in one indexing."""
        idx = _index_array(indices, len(self), "TextDataset") % len(self)
        rows = (idx * self.stride)[:, None] + np.arange(self.seq_len + 1)
        windows = self._ids[rows].astype(np.int64)
        return [_make(np.ascontiguousarray(windows[:, :-1])),
                _make(np.ascontiguousarray(windows[:, 1:]))]
