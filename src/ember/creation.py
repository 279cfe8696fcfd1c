"""Creating tensors, in PyTorch's words: ``tensor``, ``zeros``, ``arange``, ``randn``, ...

Sizes are given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Every function takes ``dtype`` and
``requires_grad``; the random ones take ``generator`` (default: the seeded default generator).
"""

from __future__ import annotations

import math
from numbers import Number

import numpy as np

from . import random as _random
from .dtypes import ALL, DType, as_dtype, from_numpy_dtype, get_default_dtype, int64, promote_types
from .errors import DTypeError, ShapeError
from .random import integers_kernel, normal_kernel, permutation_kernel, uniform_kernel
from .tensor import Tensor, _make


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True  # validates floating dtype
    return t


def _infer_array(data, dtype: DType | None, fn: str = "tensor") -> np.ndarray:
    """``data`` as an array of PyTorch's inferred dtype (or ``dtype``); no copy if possible."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
        if arr.dtype.kind not in "biuf" or arr.dtype.newbyteorder("=") not in _SUPPORTED:
            raise DTypeError(f"{fn}(): cannot make a tensor from a NumPy array of dtype "
                             f"{arr.dtype}; supported: " + ", ".join(d.name for d in ALL))
    else:
        try:
            arr = np.asarray(data)
        except ValueError:
            raise ShapeError(f"{fn}(): {_ragged(data)}") from None
        except OverflowError:
            raise DTypeError(f"{fn}(): {_bad_leaf(data)}") from None
        if arr.dtype.kind not in "biuf" or arr.dtype == np.uint64:
            raise DTypeError(f"{fn}(): {_bad_leaf(data)}")
        if arr.dtype.kind == "f" and dtype is None:
            # NumPy makes Python floats float64; PyTorch makes them the default dtype and
            # keeps the dtype of NumPy scalars and 0-d tensors inside lists
            target = (_sequence_float_dtype(data, fn) if isinstance(data, (list, tuple))
                      else None)
            arr = arr.astype((target or get_default_dtype()).np, copy=False)
    if dtype is not None:
        arr = arr.astype(as_dtype(dtype).np, copy=False)
    elif arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


_SUPPORTED = frozenset(d.np for d in ALL)


def _sequence_float_dtype(data, fn: str) -> DType | None:
    """Promotion of the leaves of a nested sequence, Python floats counting as the default
    float dtype; None when every float leaf is a Python float."""
    typed = None
    python_float = False
    stack = [data]
    while stack:
        x = stack.pop()
        t = type(x)
        if t is float:
            python_float = True
        elif t is int and not -(2**63) <= x < 2**63:  # NumPy quietly made it a float
            raise DTypeError(f"{fn}(): the Python int {x} does not fit in int64")
        elif t is list or t is tuple:
            stack.extend(x)
        elif isinstance(x, (Tensor, np.ndarray, np.generic)):
            dt = x.dtype if isinstance(x, Tensor) else from_numpy_dtype(x.dtype)
            if dt.is_floating_point:
                typed = dt if typed is None else promote_types(typed, dt)
    if typed is None:
        return None
    return promote_types(typed, get_default_dtype()) if python_float else typed


def _ragged(data) -> str:
    """PyTorch's wording for a non-rectangular nested sequence (only on the error path)."""
    level, dim = [data], 0
    while level:
        seqs = [x for x in level if isinstance(x, (list, tuple))]
        if seqs and len(seqs) != len(level):
            other = next(x for x in level if not isinstance(x, (list, tuple)))
            return f"expected a sequence at dim {dim}, got {type(other).__name__} ({other!r})"
        if not seqs:
            break
        n = len(seqs[0])
        for x in seqs:
            if len(x) != n:
                return f"expected sequence of length {n} at dim {dim} (got {len(x)})"
        level, dim = [y for x in seqs for y in x], dim + 1
    return "data is not a rectangular nested sequence of numbers"


def _bad_leaf(data) -> str:
    """Why ``data`` has no tensor dtype: the first leaf that is not a bool/int/float."""
    stack = [data]
    while stack:
        x = stack.pop(0)
        if isinstance(x, (list, tuple)):
            stack[:0] = list(x)
        elif isinstance(x, int) and not -(2**63) <= x < 2**63:
            return f"the Python int {x} does not fit in int64"
        elif not isinstance(x, (Number, np.generic, np.ndarray, Tensor)) or isinstance(x, complex):
            what = type(x).__name__
            shown = f" ({x!r})" if isinstance(x, (str, bytes)) else ""
            return f"could not infer a dtype from {what}{shown}; expected numbers or bools"
    return "could not infer a dtype; expected numbers or bools"


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


def _float_dtype(dtype, fn: str, floating: bool = False) -> np.dtype:
    """The NumPy dtype for ``dtype`` (default: the default float dtype); ``floating``
    refuses non-float dtypes, for samplers of continuous distributions."""
    d = get_default_dtype() if dtype is None else as_dtype(dtype)
    if floating and not d.is_floating_point:
        raise DTypeError(f"{fn}: expected a floating point dtype, got {d}")
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
        dtype = _infer_array(fill_value, None, "full").dtype
    shape = _size((size,) if isinstance(size, (tuple, list)) else (size,), "full")
    return _finish(np.full(shape, fill_value, as_dtype(dtype).np), requires_grad)


def _like(input: Tensor, dtype, op: str) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input.shape, (input.dtype if dtype is None else as_dtype(dtype)).np


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``input``'s shape and (unless ``dtype`` is given) dtype."""
    shape, dt = _like(input, dtype, "zeros_like")
    return _finish(np.zeros(shape, dt), requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of ``input``'s shape and (unless ``dtype`` is given) dtype."""
    shape, dt = _like(input, dtype, "ones_like")
    return _finish(np.ones(shape, dt), requires_grad)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of ``input``'s shape and (unless ``dtype`` is given) dtype."""
    shape, dt = _like(input, dtype, "empty_like")
    return _finish(np.empty(shape, dt), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` in ``input``'s shape and (unless ``dtype`` is given) dtype."""
    shape, dt = _like(input, dtype, "full_like")
    return _finish(np.full(shape, _number(fill_value, "fill_value", "full_like"), dt),
                   requires_grad)


def _number(v, name: str, op: str):
    """A real Python/NumPy number (a one-element tensor gives its value); TypeError otherwise."""
    if isinstance(v, Tensor):
        v = v.item()
    if not isinstance(v, (Number, np.generic)) or isinstance(v, (complex, np.complexfloating)):
        raise TypeError(f"{op}(): argument '{name}' must be a number, got {type(v).__name__}")
    return v


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
        raise ValueError(f"arange: upper bound and step are inconsistent: start={start}, "
                         f"end={end}, step={step}")
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
    start, end = _number(start, "start", "linspace"), _number(end, "end", "linspace")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    return _finish(np.linspace(start, end, int(steps)).astype(dt.np), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the
    exponent."""
    start, end = _number(start, "start", "logspace"), _number(end, "end", "logspace")
    base = _number(base, "base", "logspace")
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"logspace: steps must be a non-negative int, got {steps!r}")
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    return _finish(np.logspace(start, end, int(steps), base=base).astype(dt.np), requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """An ``n x m`` identity matrix (``m`` defaults to ``n``)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"eye: n must be a non-negative int, got {n!r}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), requires_grad)


# ------------------------------------------------------------------------------ random


def _draw(kernel, generator, shape, dtype, *args) -> Tensor:
    from .ops.random_draw import draw  # lazy: ops import this module

    return draw(kernel, generator, shape, dtype, *args)

def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dt = _float_dtype(dtype, "rand", floating=True)
    shape = _size(size, "rand")
    arr = _draw(uniform_kernel, generator, shape, dt, shape, dt)._data
    return _finish(arr, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    dt = _float_dtype(dtype, "randn", floating=True)
    shape = _size(size, "randn")
    arr = _draw(normal_kernel, generator, shape, dt, shape, dt)._data
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
    low, high = _number(low, "low", "randint"), _number(high, "high", "randint")
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dt = int64 if dtype is None else as_dtype(dtype)
    shape = _size(tuple(size), "randint")
    arr = _draw(integers_kernel, generator, shape, dt.np, shape, dt.np, low, high)._data
    return _finish(arr, requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    dt = int64 if dtype is None else as_dtype(dtype)
    arr = _draw(permutation_kernel, generator, (int(n),), dt.np, int(n), dt.np)._data
    return _finish(arr, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` are numbers (then ``size`` is needed) or tensors."""
    rng = _random.resolve(generator)
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, Tensor):
            if not v.dtype.is_floating_point:
                raise DTypeError(f"normal(): argument '{name}' must be a floating-point "
                                 f"tensor, got {v.dtype.name}")
        else:
            _number(v, name, "normal")
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
        dt = _float_dtype(dtype, "normal", floating=True)
    arr = (m + s * rng.standard_normal(shape)).astype(dt)
    return _finish(np.asarray(arr), requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1) in ``input``'s shape and (unless given) dtype."""
    _like(input, dtype, "rand_like")
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples in ``input``'s shape and (unless given) dtype."""
    _like(input, dtype, "randn_like")
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, generator=None, dtype=None) -> Tensor:
    """Integers uniform in [low, high) in ``input``'s shape and (unless given) dtype."""
    _like(input, dtype, "randint_like")
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)
