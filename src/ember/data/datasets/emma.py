"""A real English text embedded in the package: Volume I of Jane Austen's *Emma* (1815).

``emma_vol1.txt.gz`` (about 100 KB gzipped, 269,440 ASCII characters) is the first volume
(chapters I-XVIII) of the public-domain novel, plain text with its original line breaks, no
header or licence boilerplate. It is the text of ember's LSTM language-model comparison
(``benchmarks/comparison``) and a no-download corpus for ``TextDataset``.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

__all__ = ["EMMA_TEST_FRACTION", "load_emma"]

EMMA_TEST_FRACTION = 0.1
"""Share of the text (its end, cut at a line break) held out as the ``"test"`` split."""

_SPLITS = (None, "train", "test")


@functools.lru_cache(maxsize=1)
def _text() -> str:
    with resources.files(__package__).joinpath("emma_vol1.txt.gz").open("rb") as f:
        return gzip.decompress(f.read()).decode("ascii")


def _split_index(text: str) -> int:
    # Cut at the first line break after 90% of the characters, so no line is split in two.
    cut = text.find("\n", int(len(text) * (1.0 - EMMA_TEST_FRACTION)))
    return len(text) if cut < 0 else cut + 1


def load_emma(split: str | None = None) -> str:
    """Volume I of *Emma* as a ``str``.

    Args:
        split: ``None`` for the whole text, ``"train"`` for its first 90% and ``"test"`` for the
            rest (the cut is the first line break after 90% of the characters; fixed, so
            held-out losses are comparable between runs).

    Example::

        from ember.data.datasets import TextDataset, load_emma
        ds = TextDataset(load_emma("train"), seq_len=64)   # byte-level windows
    """
    if split not in _SPLITS:
        raise ValueError(f"load_emma: split must be None, 'train' or 'test', got {split!r}")
    text = _text()
    if split is None:
        return text
    cut = _split_index(text)
    return text[:cut] if split == "train" else text[cut:]
