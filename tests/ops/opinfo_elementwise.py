"""Op-info entries for ember/ops/elementwise.py (every name in its ``__all__``).

Non-smooth ops take inputs kept away from their kinks (``away_from``) so finite differences
are meaningful; integer samples check dtypes and values of the ops that take integers.
"""

from __future__ import annotations

import numpy as np

import ember

from . import op_info
from .op_info import OpInfo, Sample


def _array(make):
    # NumPy returns a scalar, not a 0-d array, for shape (); samples need arrays for 0-d
    return lambda *a, **k: np.asarray(make(*a, **k))


rand, positive = _array(op_info.rand), _array(op_info.positive)
away_from, distinct = _array(op_info.away_from), _array(op_info.distinct)

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


def ref(name: str):
    """``torch.<name>`` looked up at call time (None-safe when torch is absent)."""
    return lambda *a, **k: getattr(torch, name)(*a, **k)


def ints(rng, *shape, low=-6, high=7, dtype=np.int64) -> np.ndarray:
    return np.asarray(rng.integers(low, high, size=shape)).astype(dtype)


def nonzero_ints(rng, *shape, dtype=np.int64) -> np.ndarray:
    x = rng.integers(1, 6, size=shape) * rng.choice([-1, 1], size=shape)
    return np.asarray(x).astype(dtype)


def bools(rng, *shape) -> np.ndarray:
    return np.asarray(rng.random(size=shape) < 0.5)


def binary_samples(make=rand, make_b=None, *, extra=()):
    """Same shape, broadcasting each way and both, 0-d on either side and both, empty."""
    make_b = make_b or make

    def samples(rng):
        out = [
            Sample((make(rng, 3, 4), make_b(rng, 3, 4)), name="same"),
            Sample((make(rng, 2, 3, 4), make_b(rng, 4)), name="broadcast-other"),
            Sample((make(rng, 4), make_b(rng, 2, 3, 4)), name="broadcast-input"),
            Sample((make(rng, 3, 1), make_b(rng, 1, 4)), name="broadcast-both"),
            Sample((make(rng), make_b(rng, 2, 3)), name="0-d-input"),
            Sample((make(rng, 2, 3), make_b(rng)), name="0-d-other"),
            Sample((make(rng), make_b(rng)), name="0-d-both"),
            Sample((make(rng, 0, 3), make_b(rng, 3)), name="empty"),
        ]
        return out + [s(rng) for s in extra]

    return samples


def unary_samples(make=rand, *, extra=()):
    def samples(rng):
        out = [Sample((make(rng, 3, 4),)), Sample((make(rng, 2, 1, 3),), name="3-d"),
               Sample((make(rng),), name="0-d"), Sample((make(rng, 0, 2),), name="empty")]
        return out + [s(rng) for s in extra]

    return samples


def int_pair(make_a=ints, make_b=ints, name="int"):
    return lambda rng: Sample((make_a(rng, 3, 4), make_b(rng, 4)), name=name)


def int_unary(make=ints, name="int"):
    return lambda rng: Sample((make(rng, 3, 4),), name=name)


def with_scalar(make, scalar, *, first=False, name="scalar"):
    def sample(rng):
        x = make(rng, 3, 4)
        return Sample((scalar, x) if first else (x, scalar), name=name)

    return sample


def mixed(make_a, make_b, name):
    return lambda rng: Sample((make_a(rng, 3, 4), make_b(rng, 3, 4)), name=name)


def kw(make, name="kwargs", **kwargs):
    return lambda rng: Sample((make(rng, 3, 4),), kwargs, name=name)


def f64(rng, *shape):
    return rand(rng, *shape, dtype=np.float64)


def i32(rng, *shape):
    return ints(rng, *shape, dtype=np.int32)


def u8(rng, *shape):
    return ints(rng, *shape, low=0, high=9, dtype=np.uint8)


def in_range(low, high):
    return lambda rng, *shape: rand(rng, *shape, low=low, high=high)


def away_ints(rng, *shape):
    """Values away from integers (kinks of floor/ceil/trunc/frac)."""
    return away_from(rng, *shape, points=(-2.0, -1.0, 0.0, 1.0, 2.0), gap=0.1, low=-2.9, high=2.9)


def away_halves(rng, *shape):
    """Values away from the half-integers where round jumps."""
    return away_from(rng, *shape, points=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5), gap=0.1,
                     low=-2.9, high=2.9)


def away_zero(rng, *shape):
    return away_from(rng, *shape)


@_array
def shifted(rng, *shape):
    """Distinct values that never tie with ``distinct``'s (whose spacing is 0.37)."""
    return distinct(rng, *shape) + 0.05


@_array
def frac_base(rng, *shape):
    return away_ints(rng, *shape) * 1.0


def positive_base(rng, *shape):
    return positive(rng, *shape, low=0.5, high=2.0)


# ------------------------------------------------------------------------ arithmetic

ARITHMETIC = [
    OpInfo("add", ember.add, binary_samples(extra=(
        int_pair(), mixed(rand, ints, "float+int"), mixed(u8, i32, "uint8+int32"),
        mixed(rand, f64, "float32+float64"), with_scalar(rand, 2.5), with_scalar(ints, 3),
        with_scalar(ints, 1.5, name="int+float-scalar"),
        with_scalar(rand, 2, first=True, name="scalar-first"),
        lambda rng: Sample((rand(rng, 3), rand(rng, 3)), {"alpha": 2.5}, name="alpha"),
        lambda rng: Sample((ints(rng, 3), ints(rng, 3)), {"alpha": -2}, name="int-alpha"),
    )), torch_fn=ref("add"), gradgrad=True),
    OpInfo("sub", ember.sub, binary_samples(extra=(
        int_pair(), mixed(ints, rand, "int-float"), with_scalar(rand, 0.5),
        with_scalar(ints, 2, first=True, name="scalar-first"),
        lambda rng: Sample((rand(rng, 3), rand(rng, 2, 3)), {"alpha": 0.5}, name="alpha"),
    )), torch_fn=ref("sub"), gradgrad=True),
    OpInfo("mul", ember.mul, binary_samples(extra=(
        int_pair(), mixed(i32, rand, "int32*float"), mixed(bools, rand, "bool*float"),
        with_scalar(rand, -1.5), with_scalar(ints, 3), with_scalar(bools, 2, name="bool*int"),
    )), torch_fn=ref("mul"), gradgrad=True),
    OpInfo("div", ember.div, binary_samples(rand, away_zero, extra=(
        int_pair(ints, nonzero_ints, "int/int"), with_scalar(rand, 4.0),
        with_scalar(away_zero, 2.0, first=True, name="scalar/tensor"),
        lambda rng: Sample((rand(rng, 3, 4), away_zero(rng, 4)), {"rounding_mode": None},
                           name="rounding-none"),
    )), torch_fn=ref("div"), gradgrad=True),
    OpInfo("div_trunc", lambda a, b: ember.div(a, b, rounding_mode="trunc"), binary_samples(
        in_range(-5, 5), away_zero, extra=(int_pair(ints, nonzero_ints),)),
        torch_fn=lambda a, b: torch.div(a, b, rounding_mode="trunc"), differentiable=False),
    OpInfo("div_floor", lambda a, b: ember.div(a, b, rounding_mode="floor"), binary_samples(
        in_range(-5, 5), away_zero, extra=(int_pair(ints, nonzero_ints),)),
        torch_fn=lambda a, b: torch.div(a, b, rounding_mode="floor"), differentiable=False),
    OpInfo("floor_divide", ember.floor_divide, binary_samples(
        in_range(-5, 5), away_zero, extra=(int_pair(ints, nonzero_ints),
                                           with_scalar(ints, -3), with_scalar(rand, 0.7))),
        torch_fn=ref("floor_divide"), differentiable=False),
    OpInfo("remainder", ember.remainder, binary_samples(
        # a / b stays away from integers, where remainder jumps
        frac_base, lambda rng, *s: np.full(s, 1.0, np.float32),
        extra=(int_pair(ints, nonzero_ints), with_scalar(ints, -4), with_scalar(away_ints, 1.0),
               lambda rng: Sample((away_ints(rng, 3, 4), 1.0), name="scalar-divisor"))),
        torch_fn=ref("remainder")),
    OpInfo("fmod", ember.fmod, binary_samples(
        frac_base, lambda rng, *s: np.full(s, -1.0, np.float32),
        extra=(int_pair(ints, nonzero_ints), with_scalar(ints, 4), with_scalar(away_ints, 1.0))),
        torch_fn=ref("fmod")),
    OpInfo("pow", ember.pow, binary_samples(positive_base, extra=(
        with_scalar(rand, 2, name="square"), with_scalar(rand, 3, name="cube"),
        with_scalar(positive_base, 0.5, name="sqrt"), with_scalar(away_zero, -1, name="inverse"),
        with_scalar(rand, 0, name="zero-exponent"), with_scalar(ints, 2, name="int**2"),
        with_scalar(ints, 0.5, name="int**float"),
        with_scalar(rand, 2.0, first=True, name="scalar**tensor"),
        with_scalar(ints, 2, first=True, name="int-scalar**int"),
        int_pair(ints, lambda rng, *s: ints(rng, *s, low=0, high=4), "int**int"),
    )), torch_fn=ref("pow"), gradgrad=True),
    OpInfo("atan2", ember.atan2, binary_samples(rand, away_zero, extra=(
        int_pair(ints, nonzero_ints),)), torch_fn=ref("atan2"), gradgrad=True),
    OpInfo("maximum", ember.maximum, binary_samples(distinct, shifted, extra=(int_pair(),)),
           torch_fn=ref("maximum")),
    OpInfo("minimum", ember.minimum, binary_samples(distinct, shifted, extra=(int_pair(),)),
           torch_fn=ref("minimum")),
]

# ------------------------------------------------------------------------ unary math


def unary(name, make=rand, *, torch_name=None, ints_ok=True, gradgrad=True, **opts):
    """An entry for ``ember.<name>`` checked against ``torch.<torch_name or name>``."""
    extra = (int_unary(),) if ints_ok else ()
    return OpInfo(name, getattr(ember, name), unary_samples(make, extra=extra),
                  torch_fn=ref(torch_name or name), gradgrad=gradgrad, **opts)


UNARY = [
    OpInfo(
        "neg", ember.neg, unary_samples(extra=(int_unary(), int_unary(i32, "int32"))),
        torch_fn=ref("neg"), gradgrad=True),
    OpInfo("abs", ember.abs, unary_samples(away_zero, extra=(int_unary(),
                                                             int_unary(u8, "uint8"))),
           torch_fn=ref("abs"), gradgrad=True),
    OpInfo("sign", ember.sign, unary_samples(away_zero, extra=(int_unary(),
                                                               int_unary(bools, "bool"))),
           torch_fn=ref("sign")),
    unary("exp"), unary("exp2"), unary("expm1"),
    unary("log", positive), unary("log2", positive), unary("log10", positive),
    unary("log1p", in_range(-0.7, 2.0), ints_ok=False),
    unary("sqrt", positive), unary("rsqrt", positive),
    OpInfo("square", ember.square, unary_samples(extra=(int_unary(), int_unary(bools, "bool"))),
           torch_fn=ref("square"), gradgrad=True),
    unary("reciprocal", away_zero, ints_ok=False),
    unary("sin"), unary("cos"), unary("tan", in_range(-1.2, 1.2)),
    unary("asin", in_range(-0.9, 0.9), ints_ok=False),
    unary("acos", in_range(-0.9, 0.9), ints_ok=False), unary("atan"),
    unary("sinh"), unary("cosh"), unary("tanh"), unary("sigmoid"), unary("erf"),
    unary("frac", away_ints, ints_ok=False),
    unary("floor", away_ints, gradgrad=False), unary("ceil", away_ints, gradgrad=False),
    unary("trunc", away_ints, gradgrad=False),
    OpInfo("round", ember.round, unary_samples(away_halves), torch_fn=ref("round")),
    OpInfo("round_decimals", lambda x, **k: ember.round(x, **k),
           lambda rng: [Sample((rand(rng, 3, 4) * 10,), {"decimals": 1}, name="decimals=1"),
                        Sample((rand(rng, 3) * 1000,), {"decimals": -2}, name="decimals=-2"),
                        Sample((rand(rng),), {"decimals": 2}, name="0-d")],
           torch_fn=lambda x, **k: torch.round(x, **k), atol=1e-4),
]

# ------------------------------------------------------------------------ activations

ACTIVATIONS = [
    OpInfo("relu", ember.relu, unary_samples(away_zero, extra=(int_unary(),)),
           torch_fn=ref("relu")),
    OpInfo("leaky_relu", ember.leaky_relu, unary_samples(away_zero, extra=(
        kw(away_zero, negative_slope=0.2),
        lambda rng: Sample((away_zero(rng, 4), 0.3), name="positional-slope"))),
        torch_fn=lambda x, *a, **k: F.leaky_relu(x, *a, **k), gradgrad=True),
    OpInfo("elu", ember.elu, unary_samples(away_zero, extra=(kw(away_zero, alpha=0.5),)),
           torch_fn=lambda x, *a, **k: F.elu(x, *a, **k), gradgrad=True),
    OpInfo("gelu", ember.gelu, unary_samples(extra=(kw(rand, approximate="none"),)),
           torch_fn=lambda x, **k: F.gelu(x, **k), gradgrad=True),
    OpInfo("gelu_tanh", lambda x: ember.gelu(x, approximate="tanh"), unary_samples(),
           torch_fn=lambda x: F.gelu(x, approximate="tanh"), gradgrad=True),
    OpInfo("silu", ember.silu, unary_samples(), torch_fn=lambda x: F.silu(x), gradgrad=True),
    OpInfo("softplus", ember.softplus, unary_samples(extra=(
        kw(rand, beta=2.0), kw(rand, name="threshold", beta=1.5, threshold=1.0),
        lambda rng: Sample((rand(rng, 5) * 30,), name="large"))),
        # keep beta * x away from the threshold, where softplus switches to the identity
        torch_fn=lambda x, **k: F.softplus(x, **k), gradgrad=True),
]

# ------------------------------------------------------------------------ selection


def where_samples(rng):
    return [
        Sample((bools(rng, 3, 4), rand(rng, 3, 4), rand(rng, 3, 4)), name="same"),
        Sample((bools(rng, 3, 1), rand(rng, 1, 4), rand(rng, 4)), name="broadcast-all"),
        Sample((bools(rng, 2, 3, 4), rand(rng), rand(rng, 3, 1)), name="0-d-input"),
        Sample((bools(rng), rand(rng, 2, 3), rand(rng)), name="0-d-condition"),
        Sample((bools(rng, 0, 2), rand(rng, 2), rand(rng, 0, 1)), name="empty"),
        Sample((bools(rng, 3, 4), rand(rng, 3, 4), 0.0), name="scalar-other"),
        Sample((bools(rng, 3, 4), -1.0, rand(rng, 4)), name="scalar-input"),
        Sample((bools(rng, 3, 4), ints(rng, 3, 4), rand(rng, 4)), name="int-float"),
        Sample((bools(rng, 3, 4), ints(rng, 3, 4), i32(rng, 3, 4)), name="int64-int32"),
        Sample((bools(rng, 3), ints(rng, 3), 2.5), name="int-float-scalar"),
    ]


def clamp_samples(rng):
    x = away_from(rng, 3, 4, points=(-0.5, 0.7))
    return [
        Sample((x, -0.5, 0.7), name="scalars"),
        Sample((x,), {"min": -0.5}, name="min-only"),
        Sample((x,), {"max": 0.7}, name="max-only"),
        Sample((x,), {"min": -0.5, "max": 0.7}, name="kwargs"),
        Sample((away_from(rng, points=(-0.5, 0.7)), -0.5, 0.7), name="0-d"),
        Sample((rand(rng, 0, 3), -0.5, 0.7), name="empty"),
        Sample((ints(rng, 3, 4), -2, 3), name="int"),
        Sample((ints(rng, 3, 4), -2.5, 3.5), name="int-float-bounds"),
        Sample((distinct(rng, 3, 4), shifted(rng, 3, 4) - 0.2, shifted(rng, 4) + 5.0),
               name="tensor-bounds"),
        Sample((distinct(rng, 3, 4), shifted(rng, 4), None), name="tensor-min"),
        Sample((distinct(rng, 3, 4), None, shifted(rng, 3, 1)), name="tensor-max"),
        Sample((distinct(rng, 3, 4), shifted(rng, 4), np.full((3, 1), 0.7, np.float32)),
               name="tensor-min-constant-max"),
        Sample((distinct(rng), shifted(rng, 2), shifted(rng, 2) + 1), name="0-d-tensor-bounds"),
    ]


def lerp_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rand(rng, 3, 4), 0.3), name="scalar-weight"),
        Sample((rand(rng, 3, 4), rand(rng, 4), 0.75), name="broadcast"),
        Sample((rand(rng, 3, 4), rand(rng, 3, 4), rand(rng, 3, 4)), name="tensor-weight"),
        Sample((rand(rng, 3, 1), rand(rng, 4), rand(rng)), name="broadcast-weight"),
        Sample((rand(rng), rand(rng), rand(rng)), name="0-d"),
        Sample((rand(rng, 0, 3), rand(rng, 3), 0.5), name="empty"),
    ]


def nan_to_num_samples(rng):
    special = np.array([[np.nan, np.inf, -np.inf, 1.5], [0.5, -2.0, np.nan, 3.0]], np.float32)
    return [
        Sample((rand(rng, 3, 4),), name="finite"),
        Sample((special,), diff=(), name="special"),
        Sample((special,), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}, diff=(), name="kwargs"),
        Sample((special.astype(np.float64),), {"posinf": 5.0}, diff=(), name="float64"),
        Sample((rand(rng),), name="0-d"),
        Sample((ints(rng, 3),), name="int"),
    ]


SELECTION = [
    OpInfo("where", ember.where, where_samples, torch_fn=ref("where"), gradgrad=True),
    OpInfo("clamp", ember.clamp, clamp_samples, torch_fn=ref("clamp"), gradgrad=True),
    OpInfo("lerp", ember.lerp, lerp_samples, torch_fn=ref("lerp"), gradgrad=True),
    OpInfo("nan_to_num", ember.nan_to_num, nan_to_num_samples, torch_fn=ref("nan_to_num")),
]

# ------------------------------------------------------------------------ comparisons & logic


def compare_samples(rng):
    a = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)  # small ints: plenty of ties
    return binary_samples()(rng) + [
        Sample((a, a[1]), name="ties"),
        Sample((ints(rng, 3, 4), ints(rng, 4)), name="int"),
        Sample((ints(rng, 3, 4), a), name="int-float"),
        Sample((u8(rng, 3, 4), i32(rng, 3, 4)), name="uint8-int32"),
        Sample((a, 0.5), name="scalar"),
        Sample((ints(rng, 3, 4), 1), name="int-scalar"),
        Sample((bools(rng, 3, 4), bools(rng, 4)), name="bool"),
    ]


def logical_samples(rng):
    return [
        Sample((bools(rng, 3, 4), bools(rng, 3, 4)), name="bool"),
        Sample((bools(rng, 3, 1), bools(rng, 4)), name="broadcast"),
        Sample((rng.integers(0, 2, (3, 4)).astype(np.float32), ints(rng, 4)), name="numbers"),
        Sample((bools(rng), bools(rng, 2)), name="0-d"),
        Sample((bools(rng, 0, 2), bools(rng, 2)), name="empty"),
    ]


def bitwise_samples(rng):
    return [
        Sample((ints(rng, 3, 4), ints(rng, 3, 4)), name="int"),
        Sample((u8(rng, 3, 1), u8(rng, 4)), name="uint8-broadcast"),
        Sample((i32(rng, 3), ints(rng, 3)), name="int32-int64"),
        Sample((bools(rng, 3, 4), bools(rng, 4)), name="bool"),
        Sample((ints(rng, 3), 5), name="scalar"),
        Sample((ints(rng), ints(rng, 2)), name="0-d"),
        Sample((ints(rng, 0, 2), ints(rng, 2)), name="empty"),
    ]


def predicate_samples(rng):
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0], np.float32)
    return [Sample((special,), name="special"), Sample((special.reshape(1, 7)[:, ::2],)),
            Sample((np.array(np.nan, np.float32),), name="0-d"),
            Sample((rand(rng, 0, 2),), name="empty"), Sample((ints(rng, 4),), name="int")]


def nondiff(name, samples, torch_name=None, fn=None):
    return OpInfo(name, fn or getattr(ember, name), samples, torch_fn=ref(torch_name or name),
                  differentiable=False)


LOGIC = (
    [nondiff(n, compare_samples) for n in ("eq", "ne", "lt", "le", "gt", "ge")]
    + [nondiff(n, logical_samples) for n in ("logical_and", "logical_or", "logical_xor")]
    + [nondiff("logical_not", lambda rng: [Sample((bools(rng, 3, 4),)),
                                           Sample((rand(rng, 3),), name="float"),
                                           Sample((ints(rng),), name="0-d-int")])]
    + [nondiff(n, bitwise_samples) for n in ("bitwise_and", "bitwise_or", "bitwise_xor")]
    + [nondiff("bitwise_not", lambda rng: [Sample((ints(rng, 3, 4),)),
                                           Sample((u8(rng, 3),), name="uint8"),
                                           Sample((bools(rng, 2, 2),), name="bool"),
                                           Sample((ints(rng),), name="0-d")])]
    + [nondiff(n, predicate_samples)
       for n in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit")]
)

# ------------------------------------------------------------------------ aliases

ALIASES = {
    "subtract": "sub", "multiply": "mul", "divide": "div", "true_divide": "div",
    "arctan2": "atan2", "negative": "neg", "absolute": "abs", "arcsin": "asin",
    "arccos": "acos", "arctan": "atan", "fix": "trunc", "clip": "clamp",
    "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
    "not_equal": "ne",
}
_TORCH_ALIAS_SAMPLES = {
    "arctan2": binary_samples(rand, away_zero), "divide": binary_samples(rand, away_zero),
    "true_divide": binary_samples(rand, away_zero), "fix": unary_samples(away_ints),
    "clip": lambda rng: clamp_samples(rng)[:4], "arcsin": unary_samples(in_range(-0.9, 0.9)),
    "arccos": unary_samples(in_range(-0.9, 0.9)), "absolute": unary_samples(away_zero),
}
ALIAS_OPS = [
    OpInfo(alias, getattr(ember, alias),
           _TORCH_ALIAS_SAMPLES.get(alias, binary_samples() if alias in (
               "subtract", "multiply", "greater", "greater_equal", "less", "less_equal",
               "not_equal") else unary_samples()),
           torch_fn=ref(alias), differentiable=alias not in (
               "greater", "greater_equal", "less", "less_equal", "not_equal"))
    for alias in ALIASES
]

OPS = ARITHMETIC + UNARY + ACTIVATIONS + SELECTION + LOGIC + ALIAS_OPS
