"""Op-info entries for ember/ops/reduce.py, reduce_stats.py and reduce_scan.py."""

from __future__ import annotations

import math

import numpy as np

import ember

from .op_info import OpInfo, Sample, away_from, distinct, positive, rand

try:
    import torch
except ImportError:
    torch = None


def _t(name):
    """torch.<name>, resolved lazily so the table imports without PyTorch."""
    return lambda *a, **k: getattr(torch, name)(*a, **k)


def dim_samples(make=rand, *, empty_full=True, zero_d=True):
    """Samples for ops taking ``dim`` as an int, a tuple/list or None, and ``keepdim``."""
    def samples(rng):
        out = [
            Sample((make(rng, 3, 4),), name="all"),
            Sample((make(rng, 3, 4), 1), name="dim"),
            Sample((make(rng, 3, 4),), {"dim": -1, "keepdim": True}, name="neg-keepdim"),
            Sample((make(rng, 2, 3, 4),), {"dim": (0, 2)}, name="tuple"),
            Sample((make(rng, 2, 3, 4),), {"dim": [-1, 0], "keepdim": True},
                   name="list-neg-keepdim"),
            Sample((make(rng, 2, 3, 4),), {"dim": (1, -3, 2)}, name="every-dim"),
            Sample((make(rng, 5),), {"dim": 0}, name="1-d"),
            Sample((make(rng, 0, 3),), {"dim": 1}, name="empty-kept"),
        ]
        if zero_d:
            out += [Sample((make(rng),), name="0-d"),
                    Sample((make(rng),), {"dim": 0}, name="0-d-dim"),
                    Sample((make(rng),), {"dim": -1, "keepdim": True}, name="0-d-keepdim")]
        if empty_full:
            out += [Sample((make(rng, 0, 3),), {"dim": 0}, name="empty-reduced"),
                    Sample((make(rng, 0, 3),), name="empty-all")]
        return out
    return samples


def single_dim_samples(make=rand, *, empty=True):
    """Samples for ops reducing exactly one dim (prod, cumsum, max(dim), argmax)."""
    def samples(rng):
        out = [
            Sample((make(rng, 3, 4), 1), name="dim"),
            Sample((make(rng, 3, 4),), {"dim": 0, "keepdim": True}, name="keepdim"),
            Sample((make(rng, 2, 3, 4), -2), name="neg"),
            Sample((make(rng, 2, 3, 4),), {"dim": -1, "keepdim": True}, name="neg-keepdim"),
            Sample((make(rng, 5), 0), name="1-d"),
            Sample((make(rng), 0), name="0-d"),
            Sample((make(rng),), {"dim": -1, "keepdim": True}, name="0-d-keepdim"),
        ]
        if empty:
            out.append(Sample((make(rng, 0, 3), 1), name="empty-kept"))
        return out
    return samples


def _no_keepdim(samples):
    """The same samples without keepdim, for ops that have none (cumsum, count_nonzero)."""
    def inner(rng):
        out = []
        for s in samples(rng):
            kw = {k: v for k, v in s.kwargs.items() if k != "keepdim"}
            out.append(Sample(s.args, kw, name=s.name))
        return out
    return inner


def sum_samples(rng):
    ints = rng.integers(-5, 5, size=(3, 4)).astype(np.int32)
    return dim_samples()(rng) + [
        Sample((ints,), name="int32-to-int64"),
        Sample((ints, 0), name="int32-dim"),
        Sample((rng.integers(0, 2, size=(3, 4)).astype(bool), 1), name="bool"),
        Sample((rand(rng, 3, 4),), {"dtype": ember.float64}, name="dtype-float64"),
        Sample((ints,), {"dim": 1, "dtype": ember.float32}, name="int-dtype-float"),
    ]


def _torch_dtype_kwargs(fn):
    """Wrap a torch reference so ember dtypes in ``dtype=`` become torch dtypes."""
    def inner(*args, **kwargs):
        if "dtype" in kwargs:
            kwargs["dtype"] = getattr(torch, kwargs["dtype"].name)
        return fn(*args, **kwargs)
    return inner


def mean_samples(rng):
    return dim_samples()(rng) + [
        Sample((rng.integers(-5, 5, size=(3, 4)).astype(np.int64), 1),
               {"dtype": ember.float32}, name="int-with-dtype"),
        Sample((rand(rng, 2, 3),), {"dim": 0, "dtype": ember.float64}, name="dtype-float64"),
    ]


def prod_samples(rng):
    ints = rng.integers(-3, 4, size=(3, 4)).astype(np.int32)
    nonzero = lambda r, *s: away_from(r, *s, gap=0.3)  # noqa: E731
    return [Sample((nonzero(rng, 3, 4),), name="all"),
            Sample((nonzero(rng, 0, 3),), name="empty-all")] + single_dim_samples(nonzero)(rng) + [
        Sample((nonzero(rng, 0, 3), 0), name="empty-reduced"),
        Sample((ints,), name="int32-to-int64"),
        Sample((ints, 1), {"dtype": ember.float64}, name="int-dtype"),
        Sample((rng.integers(0, 2, size=(2, 3)).astype(bool), 0), name="bool"),
    ]


def prod_zero_samples(rng):
    one_zero = away_from(rng, 3, 4, gap=0.3)
    one_zero[1, 2] = 0.0
    two_zeros = away_from(rng, 3, 4, gap=0.3)
    two_zeros[0, 1] = two_zeros[0, 3] = two_zeros[2, 0] = 0.0
    return [Sample((one_zero,), name="one-zero-all"),
            Sample((one_zero, 1), name="one-zero-dim"),
            Sample((two_zeros, 1), name="two-zeros-in-a-row"),
            Sample((two_zeros, 0), {"keepdim": True}, name="zeros-dim0"),
            Sample((np.zeros((2, 3), np.float32), 0), name="all-zero")]


def var_samples(rng):
    return dim_samples(empty_full=False, zero_d=False)(rng) + [
        Sample((rand(rng, 3, 4),), {"dim": 1, "correction": 0}, name="correction-0"),
        Sample((rand(rng, 3, 4),), {"dim": 0, "correction": 2, "keepdim": True},
               name="correction-2"),
        Sample((rand(rng, 3, 4), 1, False), name="unbiased-positional"),
        Sample((rand(rng, 3, 4),), {"dim": (0, 1), "unbiased": True}, name="unbiased-kw"),
        Sample((rand(rng, 3, 4), False), name="unbiased-as-dim"),
    ]


def var_degenerate_samples(rng):
    """N <= correction: 0/0 is NaN, a positive sum over zero is inf (as in PyTorch)."""
    return [Sample((rand(rng),), name="0-d"),
            Sample((rand(rng, 1, 3), 0), name="one-element"),
            Sample((rand(rng, 2, 3), 0), {"correction": 3}, name="correction>N"),
            Sample((rand(rng, 0, 3), 0), name="empty")]


def distinct_dims(rng):
    return dim_samples(distinct, empty_full=False)(rng)


def ties(rng, *shape):
    """Values from a tiny set, so maxima repeat (for the tie-splitting rule)."""
    return rng.integers(0, 3, size=shape).astype(np.float32)


def tie_samples(rng):
    return [Sample((ties(rng, 4, 5),), name="all"),
            Sample((ties(rng, 4, 5), 1), name="dim"),
            Sample((ties(rng, 2, 3, 4),), {"dim": (0, 2), "keepdim": True}, name="tuple"),
            Sample((np.ones((3, 3), np.float32),), {"dim": 0}, name="all-equal")]


def max_full_samples(rng):
    return [Sample((distinct(rng, 3, 4),)), Sample((distinct(rng, 2, 3, 4),), name="3-d"),
            Sample((distinct(rng),), name="0-d"),
            Sample((rng.integers(-9, 9, size=(4,)).astype(np.int64),), name="int")]


def max_binary_samples(rng):
    return [Sample((distinct(rng, 3, 4), distinct(rng, 3, 4) + 0.1), name="other"),
            Sample((distinct(rng, 3, 4), distinct(rng, 4) + 0.05), name="other-broadcast")]


def argmax_samples(rng):
    return [Sample((distinct(rng, 3, 4),), name="flat"),
            Sample((distinct(rng, 3, 4),), {"keepdim": True}, name="flat-keepdim"),
            Sample((distinct(rng, 0, 3), 0 + 1), name="empty-kept"),
            Sample((rng.integers(-9, 9, size=(3, 4)).astype(np.int32), 0), name="int")
            ] + single_dim_samples(distinct, empty=False)(rng)


def logsumexp_samples(rng):
    big = rand(rng, 3, 4) + 1000.0
    with_neg_inf = rand(rng, 3, 4)
    with_neg_inf[0, 1:] = -np.inf
    with_neg_inf[1, 1] = -np.inf
    with_dim = [s for s in dim_samples(empty_full=False)(rng)
                if len(s.args) > 1 or "dim" in s.kwargs]  # dim is required
    return with_dim + [
        Sample((big, 1), name="large-values"),
        Sample((-big, (0, 1)), name="large-negative"),
        Sample((with_neg_inf, 1), name="minus-inf"),
        Sample((rand(rng, 0, 3), 0), name="empty-reduced"),
        Sample((rng.integers(-3, 3, size=(3, 4)).astype(np.int64), 1), name="int"),
    ]


def logsumexp_inf_samples(rng):
    """Rows of all -inf (result -inf), with +inf, and with NaN: forward only."""
    x = rand(rng, 4, 3)
    x[0, :] = -np.inf
    x[1, 2] = np.inf
    x[2, 0] = np.nan
    return [Sample((x, 1), name="rows"), Sample((x, 0), {"keepdim": True}, name="cols")]


def cumsum_samples(rng):
    ints = rng.integers(-5, 5, size=(3, 4)).astype(np.int32)
    return _no_keepdim(single_dim_samples())(rng) + [
        Sample((ints, 1), name="int32-to-int64"),
        Sample((rng.integers(0, 2, size=(5,)).astype(bool), 0), name="bool"),
        Sample((rand(rng, 3, 4), 0), {"dtype": ember.float64}, name="dtype"),
    ]


def cumprod_samples(rng):
    nonzero = lambda r, *s: away_from(r, *s, gap=0.3, low=-1.5, high=1.5)  # noqa: E731
    return _no_keepdim(single_dim_samples(nonzero))(rng) + [
        Sample((rng.integers(-3, 4, size=(3, 4)).astype(np.int32), 0), name="int"),
    ]


def cumprod_zero_samples(rng):
    a = away_from(rng, 3, 5, gap=0.3, low=-1.5, high=1.5)
    a[0, 2] = 0.0  # one zero mid-row
    a[1, 0] = 0.0  # a zero first
    a[2, 1] = a[2, 3] = 0.0  # two zeros
    b = away_from(rng, 4, 3, gap=0.3, low=-1.5, high=1.5)
    b[3, :] = 0.0  # zeros at the end of the scan
    return [Sample((a, 1), name="zeros-dim1"), Sample((a, 0), name="zeros-dim0"),
            Sample((b, 0), name="zeros-last")]


def norm_samples(rng):
    nz = lambda r, *s: away_from(r, *s, gap=0.2)  # noqa: E731
    zero_row = nz(rng, 3, 4)
    zero_row[1] = 0.0
    return [
        Sample((nz(rng, 3, 4),), name="fro-default"),
        Sample((nz(rng, 3, 4), 2, 1), name="p2-dim"),
        Sample((nz(rng, 2, 3, 4),), {"p": "fro", "dim": (0, 2), "keepdim": True},
               name="fro-tuple"),
        Sample((nz(rng, 3, 4),), {"p": 1, "dim": -1}, name="p1"),
        Sample((distinct(rng, 3, 4) + 0.05,), {"p": math.inf, "dim": 0}, name="inf"),
        Sample((distinct(rng, 3, 4) + 0.05,), {"p": -math.inf}, name="-inf"),
        Sample((nz(rng, 3, 4),), {"p": 3, "dim": (0, 1)}, name="p3"),
        Sample((positive(rng, 3, 4),), {"p": 0.5, "dim": 1}, name="p0.5"),
        Sample((positive(rng, 3, 4),), {"p": -2.0, "dim": 1}, name="p-2"),
        Sample((nz(rng),), name="0-d"),
        Sample((nz(rng),), {"p": 2, "dim": 0, "keepdim": True}, name="0-d-dim"),
        Sample((rand(rng, 0, 3),), {"p": 2, "dim": 0}, name="empty"),
        Sample((zero_row,), {"p": 2, "dim": 1}, name="zero-vector-p2"),
        Sample((zero_row,), {"p": 3, "dim": 1}, name="zero-vector-p3"),
        Sample((np.zeros((4,), np.float32),), name="all-zero"),
        Sample((nz(rng, 3, 4),), {"dtype": ember.float64}, name="dtype"),
        # the whole-tensor 2-norm takes a BLAS dot-product path: keepdim, empty, 3-D
        Sample((nz(rng, 2, 3, 4),), {"p": 2, "dim": (0, 1, 2), "keepdim": True},
               name="p2-all-keepdim"),
        Sample((rand(rng, 0, 3),), name="fro-all-empty"),
        Sample((nz(rng, 2, 3, 4), 2, (-1, 0, 1)), name="p2-all-dims"),
    ]


def norm_p2_samples(rng):
    nz = lambda r, *s: away_from(r, *s, gap=0.2)  # noqa: E731
    return [Sample((nz(rng, 3, 4),)), Sample((nz(rng, 3, 4), 2, (0, 1), True), name="tuple"),
            Sample((nz(rng, 2, 3), 2.5, -1), name="p2.5")]


def logical_samples(rng):
    f = rand(rng, 3, 4)
    f[0, 1] = 0.0
    b = rng.integers(0, 2, size=(2, 3, 4)).astype(bool)
    b[0] = True
    return [Sample((f,), name="float"), Sample((f, 1), name="float-dim"),
            Sample((b,), {"dim": (0, 2), "keepdim": True}, name="bool-tuple"),
            Sample((b, -1), name="bool-neg"),
            Sample((rng.integers(0, 3, size=(3, 4)).astype(np.uint8), 0), name="uint8"),
            Sample((np.zeros((0, 3), bool),), name="empty"),
            Sample((np.zeros((0, 3), bool), 0), name="empty-dim"),
            Sample((np.array(0.0, np.float32),), name="0-d")]


def count_samples(rng):
    x = rng.integers(0, 3, size=(3, 4, 2)).astype(np.float32)
    return [Sample((x,)), Sample((x, 1), name="dim"), Sample((x, (0, -1)), name="tuple"),
            Sample((np.zeros((0, 2), np.float32), 0), name="empty"),
            Sample((np.array(2, np.int64),), name="0-d")]


def aminmax_samples(rng):
    return [Sample((distinct(rng, 3, 4),), name="all"),
            Sample((distinct(rng, 3, 4),), {"dim": 1}, name="dim"),
            Sample((distinct(rng, 2, 3, 4),), {"dim": -2, "keepdim": True}, name="keepdim"),
            Sample((distinct(rng),), name="0-d")]


def _varlike(name, **kw):
    return OpInfo(name, getattr(ember, name), var_samples, torch_fn=_t(name), **kw)


OPS = [
    OpInfo("sum", ember.sum, sum_samples, torch_fn=_torch_dtype_kwargs(_t("sum")),
           gradgrad=True),
    OpInfo("sum-method", lambda x, *a, **k: x.sum(*a, **k), dim_samples(),
           torch_fn=lambda x, *a, **k: x.sum(*a, **k)),
    OpInfo("mean", ember.mean, mean_samples, torch_fn=_torch_dtype_kwargs(_t("mean")),
           gradgrad=True),
    OpInfo("prod", ember.prod, prod_samples, torch_fn=_torch_dtype_kwargs(_t("prod")),
           gradgrad=True),
    OpInfo("prod-zeros", ember.prod, prod_zero_samples, torch_fn=_t("prod")),
    _varlike("var", gradgrad=True, atol=2e-5),
    _varlike("std", gradgrad=True, atol=2e-5),
    _varlike("var_mean", atol=2e-5),
    _varlike("std_mean", atol=2e-5),
    OpInfo("var-degenerate", ember.var, var_degenerate_samples, torch_fn=_t("var"),
           differentiable=False),
    OpInfo("amax", ember.amax, distinct_dims, torch_fn=_t("amax"), gradgrad=True),
    OpInfo("amin", ember.amin, distinct_dims, torch_fn=_t("amin")),
    # ties: the gradient is split equally, compared with PyTorch (finite differences at a
    # tie measure a one-sided slope, so they are skipped)
    OpInfo("amax-ties", ember.amax, tie_samples, torch_fn=_t("amax"), skip_fd=True),
    OpInfo("amin-ties", lambda x, *a, **k: x.amin(*a, **k), tie_samples,
           torch_fn=_t("amin"), skip_fd=True),
    OpInfo("max-ties-full", ember.max, lambda rng: [Sample((ties(rng, 4, 5),))],
           torch_fn=_t("max"), skip_fd=True),
    OpInfo("max", ember.max, max_full_samples, torch_fn=_t("max")),
    OpInfo("min", ember.min, max_full_samples, torch_fn=_t("min")),
    OpInfo("max-dim", ember.max, single_dim_samples(distinct), torch_fn=_t("max"),
           gradgrad=True),
    OpInfo("min-dim", lambda x, *a, **k: x.min(*a, **k), single_dim_samples(distinct),
           torch_fn=_t("min")),
    OpInfo("max-other", ember.max, max_binary_samples, torch_fn=_t("max")),
    OpInfo("min-other", ember.min, max_binary_samples, torch_fn=_t("min")),
    OpInfo("argmax", ember.argmax, argmax_samples, torch_fn=_t("argmax"), differentiable=False),
    OpInfo("argmin", ember.argmin, argmax_samples, torch_fn=_t("argmin"), differentiable=False),
    OpInfo("aminmax", ember.aminmax, aminmax_samples, torch_fn=_t("aminmax")),
    OpInfo("logsumexp", ember.logsumexp, logsumexp_samples, torch_fn=_t("logsumexp"),
           gradgrad=True),
    OpInfo("logsumexp-inf", ember.logsumexp, logsumexp_inf_samples, torch_fn=_t("logsumexp"),
           differentiable=False),
    OpInfo("cumsum", ember.cumsum, cumsum_samples, torch_fn=_torch_dtype_kwargs(_t("cumsum")),
           gradgrad=True),
    OpInfo("cumprod", ember.cumprod, cumprod_samples, torch_fn=_t("cumprod"), gradgrad=True),
    OpInfo("cumprod-zeros", ember.cumprod, cumprod_zero_samples, torch_fn=_t("cumprod")),
    OpInfo("norm", ember.norm, norm_samples, torch_fn=_torch_dtype_kwargs(_t("norm"))),
    OpInfo("norm-p2", ember.norm, norm_p2_samples, torch_fn=_t("norm"), gradgrad=True),
    OpInfo("norm-p0", ember.norm, lambda rng: [Sample((count_samples(rng)[0].args[0], 0, 1))],
           torch_fn=_t("norm"), differentiable=False),
    OpInfo("all", ember.all, logical_samples, torch_fn=_t("all"), differentiable=False),
    OpInfo("any", ember.any, logical_samples, torch_fn=_t("any"), differentiable=False),
    OpInfo("count_nonzero", ember.count_nonzero, count_samples, torch_fn=_t("count_nonzero"),
           differentiable=False),
]
