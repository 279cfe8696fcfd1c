"""ember's dtypes and PyTorch's type-promotion rules.

A :class:`DType` wraps one NumPy dtype. Promotion follows PyTorch, not NumPy: categories
bool < integer < floating; dimensioned tensors outrank zero-dim tensors, which outrank Python
numbers, unless the lower-ranked operand is of a higher category (``int_tensor + 1.5`` is
float32, the default dtype, where NumPy would give float64).
"""

from __future__ import annotations

import numpy as np

from .errors import DTypeError


class DType:
    """A tensor element type, e.g. ``ember.float32``. Compare with ``==`` or ``is``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "category")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_signed = self.np.kind in "if"
        self.category = category  # 0 bool, 1 integer, 2 floating

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = DType("bool", np.bool_, 0)
uint8 = DType("uint8", np.uint8, 1)
int8 = DType("int8", np.int8, 1)
int16 = DType("int16", np.int16, 1)
int32 = DType("int32", np.int32, 1)
int64 = DType("int64", np.int64, 1)
float16 = DType("float16", np.float16, 2)
float32 = DType("float32", np.float32, 2)
float64 = DType("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
FLOATING = (float16, float32, float64)
INTEGRAL = (uint8, int8, int16, int32, int64)

# aliases PyTorch users type
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}
_default_float = float32


def _by_name(name: str) -> DType:
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> DType:
    """The ember dtype of a NumPy dtype; DTypeError for ones ember has no tensor type for."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise DTypeError(
            f"NumPy dtype {np_dtype} has no ember equivalent; supported: "
            + ", ".join(d.name for d in ALL)
        ) from None


def as_dtype(dtype) -> DType:
    """Accept an ember dtype, a NumPy dtype, a type such as ``float`` or a name like 'float32'."""
    if isinstance(dtype, DType):
        return dtype
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    if isinstance(dtype, str) and dtype in _NAMES:
        return _NAMES[dtype]
    try:
        return from_numpy_dtype(np.dtype(dtype))
    except (TypeError, DTypeError):
        raise DTypeError(f"expected an ember dtype such as ember.float32, got {dtype!r}") from None


import builtins as _builtins  # noqa: E402

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def get_default_dtype() -> DType:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the dtype of tensors made from Python floats; must be a floating dtype."""
    global _default_float
    d = as_dtype(dtype)
    if not d.is_floating_point:
        raise DTypeError(f"set_default_dtype expects a floating dtype, got {d}")
    _default_float = d


def _promote_same_category(a: DType, b: DType) -> DType:
    # NumPy's table agrees with PyTorch's inside one category (uint8+int8 -> int16, ...)
    return _FROM_NP[np.promote_types(a.np, b.np)]


_pair_cache: dict = {}


def promote_types(a: DType, b: DType) -> DType:
    """PyTorch's ``promote_types``: the smallest dtype both can be converted to."""
    key = (a, b)
    hit = _pair_cache.get(key)
    if hit is not None:
        return hit
    for name, d in (("type1", a), ("type2", b)):
        if not isinstance(d, DType):
            raise TypeError(f"promote_types(): argument '{name}' must be an ember dtype, not "
                            f"{type(d).__name__}")
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        result = hi  # int + float16 -> float16, bool + int8 -> int8: the higher category wins
    else:
        result = _promote_same_category(a, b)
    _pair_cache[key] = result
    return result


def scalar_category(value) -> int:
    """Category of a Python number: 0 bool, 1 int, 2 float; DTypeError for anything else."""
    t = type(value)
    if t is builtins_bool or t is np.bool_:
        return 0
    if t is builtins_int or isinstance(value, np.integer):
        return 1
    if t is builtins_float or isinstance(value, np.floating):
        return 2
    raise DTypeError(f"expected a Tensor or a Python number, got {type(value).__name__}")


def default_for_category(category: int) -> DType:
    return (bool_, int64, _default_float)[category]


def result_type(*operands) -> DType:
    """PyTorch's ``result_type`` over tensors and Python numbers.

    Dimensioned tensors decide first; zero-dim tensors only when of a higher category; Python
    numbers only when of a higher category still, and then as the default dtype of theirs.
    """
    dim_t = zero_t = None
    scalar_cat = -1
    for x in operands:
        dt = getattr(x, "dtype", None)
        if isinstance(dt, DType):
            if x.ndim:
                dim_t = dt if dim_t is None else promote_types(dim_t, dt)
            else:
                zero_t = dt if zero_t is None else promote_types(zero_t, dt)
        else:
            try:
                scalar_cat = max(scalar_cat, scalar_category(x))
            except DTypeError:
                raise DTypeError(f"result_type(): each operand must be a Tensor or a Python "
                                 f"number, got {type(x).__name__}") from None
    result = dim_t
    if zero_t is not None and (result is None or zero_t.category > result.category):
        result = zero_t
    if scalar_cat >= 0 and (result is None or scalar_cat > result.category):
        result = default_for_category(scalar_cat)
    return result
