"""Elementwise ops, gathered from their modules (import them from here or from ``ember``):

- ``operands.py``: infer rules, operand promotion (PyTorch's type rules), ``cast``
- ``arithmetic.py``: ``+ - * / // % **``, fmod, maximum/minimum, atan2, clamp, lerp
- ``unary.py``: neg/abs/sign, exp/log, sqrt/rsqrt, trigonometric, sigmoid, erf, rounding
- ``activation.py``: relu, leaky_relu, elu, gelu, silu, softplus
- ``selection.py``: where, nan_to_num
- ``compare.py``: comparisons, logical and bitwise ops, isnan/isinf/isfinite/signbit

Each primitive is one ``Op``: a NumPy forward, a vjp written with ember ops, and an infer
rule. The ``Op`` objects and the helpers other op families use (``cast``, ``zeros_like_t``)
are importable from here too.
"""

from __future__ import annotations

from . import activation, arithmetic, compare, selection, unary
from .activation import *  # noqa: F401,F403
from .activation import ELU, GELU, LEAKY_RELU, RELU, SILU, SOFTPLUS  # noqa: F401
from .arithmetic import *  # noqa: F401,F403
from .arithmetic import (  # noqa: F401
    ADD,
    ATAN2,
    CLAMP,
    DIV,
    FLOOR_DIVIDE,
    FMOD,
    MAXIMUM,
    MINIMUM,
    MUL,
    POW,
    REMAINDER,
    SUB,
    TRUNC_DIVIDE,
)
from .compare import *  # noqa: F401,F403
from .compare import BITWISE_NOT, EQ, GE, GT, LE, LOGICAL_NOT, LT, NE  # noqa: F401
from .operands import CAST, cast, zeros_like_t  # noqa: F401
from .selection import *  # noqa: F401,F403
from .selection import NAN_TO_NUM, WHERE  # noqa: F401
from .unary import *  # noqa: F401,F403
from .unary import (  # noqa: F401
    ABS,
    ACOS,
    ASIN,
    ATAN,
    CEIL,
    COS,
    COSH,
    ERF,
    EXP,
    EXP2,
    EXPM1,
    FLOOR,
    FRAC,
    LOG,
    LOG1P,
    LOG2,
    LOG10,
    NEG,
    RECIPROCAL,
    ROUND,
    RSQRT,
    SIGMOID,
    SIGN,
    SIN,
    SINH,
    SQRT,
    SQUARE,
    TAN,
    TANH,
    TRUNC,
)

__all__ = [*arithmetic.__all__, *unary.__all__, *activation.__all__, *selection.__all__,
           *compare.__all__]
