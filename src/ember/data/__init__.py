"""Data for training: embedded data sets (and, in a later issue, ``Dataset`` and ``DataLoader``).

Where things live:
- ``datasets/`` small data sets shipped inside the package, e.g. ``load_digits``
"""

from . import datasets

__all__ = ["datasets"]
