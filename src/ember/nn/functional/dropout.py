"""``dropout``: zero elements at random during training and rescale the rest.

The mask is drawn from ember's default generator (``ember.manual_seed`` makes it
reproducible) as ``keep / (1 - p)`` in the input's dtype, so the forward and its gradient are
one multiplication each. An element is kept when 32 random bits, read as an unsigned int,
are at least ``p * 2**32``.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops import elementwise as _ew
from ...ops.random_draw import draw
from ...ops.registry import as_tensor_arg
from ...tensor import Tensor


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _mask(shape: tuple, p: float, dtype: np.dtype, generator) -> Tensor:
    # an op: a compiled function draws a new mask on every run
    return draw(_mask_kernel, generator, shape, dtype, shape, p, dtype)


def _mask_kernel(rng, shape: tuple, p: float, dtype: np.dtype) -> np.ndarray:
    n = math.prod(shape)
    # 32 random bits per element straight from the bit generator: half the cost of drawing
    # float32 uniforms (the bulk of dropout's time), and finer (2**-32) than their 2**-24
    bits = rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)
    keep = np.greater_equal(bits, np.uint32(min(round(p * 2**32), 2**32 - 1)))
    # the scale and the mask are one array, so forward and backward are one multiply each
    return np.multiply(keep, dtype.type(1.0 / (1.0 - p)), dtype=dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            *, generator=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    A no-op unless ``training``. ``generator`` (ember extension) draws the mask from a
    given ``ember.Generator`` instead of the default one.
    """
    _check_p(p, "dropout")
    x = input if isinstance(input, Tensor) else as_tensor_arg(input, "input", "dropout")
    if not training or p == 0.0:
        return x
    if not x.dtype.is_floating_point:
        raise DTypeError(f"dropout: expected a floating-point input, got {x.dtype.name}")
    if p == 1.0:
        out = x * 0.0
    else:
        out = _ew.mul(x, _mask(x._data.shape, p, x._data.dtype, generator))
    return x.copy_(out) if inplace else out


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              *, generator=None) -> Tensor:
    """Zero whole channels: each (sample, channel) plane of a (N, C, H, W) or (C, H, W) input
    is dropped with probability ``p``; the rest are scaled by ``1 / (1 - p)``."""
    _check_p(p, "dropout2d")
    x = input if isinstance(input, Tensor) else as_tensor_arg(input, "input", "dropout2d")
    if not training or p == 0.0:
        return x
    if x._data.ndim not in (3, 4):
        raise ShapeError(f"dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {shape_str(x.shape)}")
    if p == 1.0:
        out = x * 0.0
    else:
        plane = x._data.shape[:-2] + (1, 1)
        out = _ew.mul(x, _mask(plane, p, x._data.dtype, generator))
    return x.copy_(out) if inplace else out


__all__ = ["dropout", "dropout2d"]
