"""Small data sets shipped inside the package, ready to train on without a download.

- ``digits.py`` ``load_digits``: 1,797 8x8 handwritten digits (from scikit-learn / UCI optdigits)
"""

from .digits import DIGITS_NUM_TEST, load_digits

__all__ = ["DIGITS_NUM_TEST", "load_digits"]
