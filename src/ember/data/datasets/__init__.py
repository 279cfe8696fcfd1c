"""Data sets: small ones shipped inside the package, and readers for standard files.

- ``digits.py`` ``load_digits`` and ``Digits``: 1,797 8x8 handwritten digits (from scikit-learn /
  UCI optdigits), embedded, no download
- ``mnist.py`` ``MNIST``, ``FashionMNIST``: the IDX files, found locally or downloaded
- ``text.py`` ``TextDataset``: character-level language-modelling windows over a text file
- ``download.py`` ``download_file``: mirrors, MD5 verification, atomic writes
"""

from .digits import DIGITS_NUM_TEST, Digits, load_digits
from .download import DownloadError, download_file
from .emma import load_emma
from .mnist import MNIST, FashionMNIST, read_idx
from .text import TextDataset

__all__ = ["DIGITS_NUM_TEST", "MNIST", "Digits", "DownloadError", "FashionMNIST",
           "TextDataset", "download_file", "load_digits", "load_emma", "read_idx"]
