"""The 8x8 handwritten digits, embedded in the package (``digits.npz``, about 48 KB).

The data is scikit-learn's ``load_digits`` (BSD-3-Clause), itself the test part of the UCI
"Optical Recognition of Handwritten Digits" data set (Alpaydin and Kaynak, 1998). The file was
made by ``tools/convert_digits.py``; ember never imports scikit-learn. ``Digits`` wraps it as a
map-style ``Dataset``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources

import numpy as np

from ...creation import from_numpy
from ...tensor import Tensor
from ._labeled import LabeledImages

DIGITS_NUM_TEST = 359
"""Size of the test split: 20% of each digit's images (rounded), stored last in the file."""

_SPLITS = (None, "train", "test")


@functools.lru_cache(maxsize=1)
def _raw() -> tuple[np.ndarray, np.ndarray]:
    with resources.files(__package__).joinpath("digits.npz").open("rb") as f, np.load(f) as npz:
        images, labels = npz["images"], npz["labels"]
    # Cached and shared between calls, so make accidental writes fail loudly.
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits(split: str | None = None, as_tensor: bool = True
                ) -> tuple[Tensor, Tensor] | tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits as ``(images, labels)``.

    Args:
        split: ``None`` for all 1,797 images, ``"train"`` for 1,438 of them, ``"test"`` for the
            other 359. The split is stratified (20% of each digit's images are in "test") and
            fixed: it was drawn once with a seed by ``tools/convert_digits.py`` and is stored
            as the order of the file, train first, so results are comparable across runs and
            NumPy versions. Within each split the order is shuffled.
        as_tensor: return ember tensors (default) or NumPy arrays.

    Returns:
        images: float32, shape ``(N, 1, 8, 8)``, pixel counts 0..16 scaled to [0, 1].
        labels: int64, shape ``(N,)``, the digit 0..9.

    Example::

        x, y = ember.data.datasets.load_digits("train")
        x = x.reshape(x.shape[0], 64)   # flatten for an MLP
    """
    if split not in _SPLITS:
        raise ValueError(f"load_digits: split must be None, 'train' or 'test', got {split!r}")
    if not isinstance(as_tensor, bool):
        raise TypeError(f"load_digits: as_tensor must be a bool, got {type(as_tensor).__name__}")
    images, labels = _raw()
    if split == "train":
        images, labels = images[:-DIGITS_NUM_TEST], labels[:-DIGITS_NUM_TEST]
    elif split == "test":
        images, labels = images[-DIGITS_NUM_TEST:], labels[-DIGITS_NUM_TEST:]
    x = (images.astype(np.float32) / np.float32(16.0))[:, None, :, :]
    y = labels.astype(np.int64)
    if as_tensor:
        return from_numpy(x), from_numpy(y)
    return x, y


class Digits(LabeledImages):
    """The embedded 8x8 digits as a map-style dataset of ``(image, label)``.

    Args:
        train: the 1,438-image training split (True) or the 359-image test split (False); see
            :func:`load_digits` for how the split was made.
        transform: applied to each image, a float32 tensor ``[1, 8, 8]`` in ``[0, 1]``.
        target_transform: applied to each label (a Python int).

    ``.data`` (float32 ``[N, 1, 8, 8]``) and ``.targets`` (int64 ``[N]``) hold the whole split.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        if not isinstance(train, bool):
            raise TypeError(f"Digits: train must be a bool, got {type(train).__name__}")
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self._images, self._labels = load_digits("train" if train else "test", as_tensor=False)
        self.data = from_numpy(self._images)
        self.targets = from_numpy(self._labels)

