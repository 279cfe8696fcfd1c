"""Item access shared by the in-memory image-classification datasets (``Digits``, ``MNIST``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import _make
from ..dataset import Dataset, _index_array


class LabeledImages(Dataset):
    """A map-style dataset over ``self._images`` and int64 ``self._labels`` (NumPy arrays).

    Subclasses load those arrays and may override ``_image`` (stored pixels -> image tensor);
    ``transform``/``target_transform`` apply per item, as in torchvision.
    """

    _images: np.ndarray
    _labels: np.ndarray
    transform = None
    target_transform = None

    def __len__(self) -> int:
        return len(self._labels)

    def _image(self, pixels: np.ndarray) -> Any:
        return _make(pixels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        index = int(index)
        image, target = self._image(self._images[index]), int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def fetch_batch(self, indices):
        """``[images [B, ...], labels [B]]`` in one gather (only without transforms)."""
        if self.transform is not None or self.target_transform is not None:
            return NotImplemented
        idx = _index_array(indices, len(self), type(self).__name__)
        return [self._image(self._images[idx]), _make(self._labels[idx])]
