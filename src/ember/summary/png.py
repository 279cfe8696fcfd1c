"""A PNG encoder for 8-bit images, with zlib and struct (no imaging library needed).

PNG (https://www.w3.org/TR/png/): an 8-byte signature, then chunks ``length | type | data |
crc32(type + data)``: IHDR (size, bit depth, colour type), IDAT (the zlib-compressed rows,
each preceded by a filter-type byte) and IEND.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# channels -> PNG colour type: grey, grey+alpha, RGB, RGBA
_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_png(image: np.ndarray, compression: int = 6) -> bytes:
    """Encode a uint8 array of shape (H, W) or (H, W, C), C in 1..4, as PNG bytes."""
    if image.dtype != np.uint8:
        raise TypeError(f"encode_png: expected a uint8 array, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in _COLOR_TYPE:
        raise ValueError(f"encode_png: expected shape (H, W) or (H, W, C) with C in 1..4, got "
                         f"{tuple(image.shape)}")
    height, width, channels = image.shape
    if height == 0 or width == 0:
        raise ValueError(f"encode_png: an image needs at least one pixel, got {height}x{width}")
    # filter type 0 ("None") on every row: one zero byte before each row's pixels
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = image.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    return (_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), compression))
            + _chunk(b"IEND", b""))
