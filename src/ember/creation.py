"""Creating tensors, in PyTorch's words: ``tensor``, ``zeros``, ``arange``, ``randn``, ...

Sizes are given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Every function takes ``dtype`` and
``requires_grad``; the random ones take ``generator`` (default: the seeded default generator).
"""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from . import random as _random
from .dtypes import DType, as_dtype, get_default_dtype, int64
from .errors import DTypeError, ShapeError
from .tensor import Tensor, _make


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True  # validates floating dtype
    return t


def _infer_array(data, dtype: DType | None) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        if dtype is None and arr.dtype.kind not in "biuf":
            raise DTypeError(f"tensor(): cannot make a tensor from a NumPy array of dtype {arr.dtype}")
    else:
        try:
            arr = np.asarray(data)
        except ValueError as exc:
            raise ShapeError(f"tensor(): data is not a rectangular nested sequence ({exc})") from None
        except OverflowError as exc:
            raise DTypeError(f"tensor(): a value does not fit in int64 ({exc})") from None
        if arr.dtype.kind == "O" or arr.dtype.kind not in "biuf":
            bad = type(data).__name__ if arr.ndim == 0 else f"a sequence of {arr.dtype}"
            raise DTypeError(f"tensor(): could not infer a dtype from {bad}; expected numbers")
        if arr.dtype.kind == "f" and dtype is None:
            arr = arr.astype(get_default_dtype().np)  # Python floats -> the default dtype
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype).np, copy=False)
    return arr


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors).

    The dtype comes from the data: Python floats give the default dtype (float32), ints give
    int64, bools give bool; NumPy arrays keep theirs.
    """
    arr = _infer_array(data, dtype)
    return _finish(np.array(arr, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) is data.dtype):
        return data
    arr = _infer_array(data, dtype)
    return _make(arr if arr.flags.writeable else arr.copy())


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf" or array.dtype.byteorder == ">":
        raise DTypeError(f"from_numpy: unsupported array dtype {array.dtype}")
    as_dtype(array.dtype)  # raises DTypeError naming the supported dtypes
    return _make(array)


def _size(size, fn: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{fn}: sizes must be ints, got {type(s).__name__} in {tuple(size)}")
        if s < 0:
            raise ShapeError(f"{fn}: negative dimension {s} in size {tuple(size)}")
        out.append(int(s))
    return tuple(out)


def _float_dtype(dtype, fn: str) -> np.dtype:
    d = get_default_dtype() if dtype is None else as_dtype(dtype)
    return d.np


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros, of the default float dtype unless ``dtype`` is given."""
    return _finish(np.zeros(_size(size, "zeros"), _float_dtype(dtype, "zeros")), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_size(size, "ones"), _float_dtype(dtype, "ones")), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor (its values are whatever memory held)."""
    return _finish(np.empty(_size(size, "empty"), _float_dtype(dtype, "empty")), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value``; dtype inferred from it like ``tensor`` when not given."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = _infer_array(fill_value, None).dtype
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "full")
    return _finish(np.full(shape, fill_value, as_dtype(dtype).np), requires_grad)


def _like(input: Tensor, dtype) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor, got {type(input).__name__}")
    return input.shape, (input.dtype if dtype is None else as_dtype(dtype)).np


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.empty(shape, dt), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 if all are ints."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    for name, v in zip(("start", "end", "step"), vals):
        if not isinstance(v, Number) or isinstance(v, complex):
            raise TypeError(f"arange: {name} must be a number, got {type(v).__name__}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"arange: {name} must be finite, got {v}")
    start, end, step = vals
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and step are inconsistent: start={start}, end={end}, step={step}")
    if dtype is None:
        all_int = all(isinstance(v, (int, np.integer)) for v in vals)
        dtype = int64 if all_int else get_default_dtype()
    dt = as_dtype(dtype)
    n = max(0, math.ceil((end - start) / step))
    arr = (start + step * np.arange(n, dtype=np.float64 if dt.is_floating_point else np.int64))
    return _finish(arr.astype(dt.np), requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    return _finish(np.linspace(start, end, int(steps)).astype(dt.np), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    return _finish(np.logspace(start, end, int(steps), base=base).astype(dt.np), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """An ``n x m`` identity matrix (``m`` defaults to ``n``)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"eye: n must be a non-negative int, got {n!r}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), requires_grad)


# ------------------------------------------------------------------------------ random

def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = _random.resolve(generator)
    dt = _float_dtype(dtype, "rand")
    arr = rng.random(_size(size, "rand"), dtype=np.float64).astype(dt, copy=False)
    return _finish(arr, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    rng = _random.resolve(generator)
    dt = _float_dtype(dtype, "randn")
    arr = rng.standard_normal(_size(size, "randn"), dtype=np.float64).astype(dt, copy=False)
    return _finish(arr, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform in [low, high); ``randint(high, size)`` takes low = 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: missing size, e.g. randint(0, 10, (3, 4))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    rng = _random.resolve(generator)
    dt = int64 if dtype is None else as_dtype(dtype)
    arr = rng.integers(low, high, _size(tuple(size), "randint"), dtype=np.int64)
    return _finish(arr.astype(dt.np, copy=False), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    rng = _random.resolve(generator)
    dt = int64 if dtype is None else as_dtype(dtype)
    return _finish(rng.permutation(int(n)).astype(dt.np), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` are numbers (then ``size`` is needed) or tensors."""
    rng = _random.resolve(generator)
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    if np.any(np.asarray(s) < 0):
        raise ValueError("normal: std must be non-negative")
    if size is None:
        if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
            raise TypeError("normal: give size= when mean and std are numbers")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        ref = mean if isinstance(mean, Tensor) else std
        dt = ref.dtype.np if dtype is None else as_dtype(dtype).np
    else:
        shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "normal")
        dt = _float_dtype(dtype, "normal")
    arr = (m + s * rng.standard_normal(shape)).astype(dt)
    return _finish(np.asarray(arr), requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None) -> Tensor:
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)
