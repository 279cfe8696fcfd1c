"""Op-info entries for ember/ops/indexing.py and gather_scatter.py.

Index arguments are NumPy int/bool arrays in the samples, so the driver turns them into
ember/torch tensors (and into strided copies for the non-contiguous test).
"""

from __future__ import annotations

import numpy as np

import ember

from .op_info import OpInfo, Sample, rand

try:
    import torch
except ImportError:
    torch = None


# Empty samples check the forward only: NumPy gives empty arrays zero strides, which
# autograd.gradcheck currently mistakes for overlapping (expanded) inputs.
NO_FD = ()


def _getitem(x, *parts):
    return x[tuple(parts)]


def _ix(*values):
    return np.array(values, dtype=np.int64)


def getitem_samples(rng):
    x34, x345 = rand(rng, 3, 4), rand(rng, 3, 4, 5)
    return [
        Sample((x34, 1), name="int"),
        Sample((x34, -1, 2), name="negative-int"),
        Sample((x34, slice(1, None)), name="slice"),
        Sample((x345, slice(None, None, 2), Ellipsis, slice(-3, -1)), name="step-ellipsis"),
        Sample((x34, None, Ellipsis, 0), name="none-ellipsis"),
        Sample((x34, _ix(0, 2, 0, 2)), name="repeated-ints"),
        Sample((x34, _ix(-1, 0)), name="negative-ints"),
        Sample((x345, _ix(0, 2)[:, None], slice(None), _ix(1, 3, 1)), name="advanced-split"),
        Sample((x345, slice(1, 3), _ix(0, 2, 2), _ix(4, 0, 4)), name="advanced-adjacent"),
        Sample((x34, rng.uniform(size=(3, 4)) > 0.5), name="mask-full"),
        Sample((x345, rng.uniform(size=3) > 0.4, slice(1, 3)), name="mask-leading"),
        Sample((x34, [0, 2, 2]), name="list"),
        Sample((rand(rng), Ellipsis), name="0-d"),
        Sample((rand(rng), None), name="0-d-none"),
        Sample((rand(rng, 0, 4), slice(None), 1), diff=NO_FD, name="empty"),
        Sample((x34, np.zeros(0, np.int64)), diff=NO_FD, name="empty-index"),
    ]


def _setitem(x, v, *parts):
    y = x * 1
    y[tuple(parts)] = v
    return y


def setitem_samples(rng):
    x34 = rand(rng, 3, 4)
    return [
        Sample((x34, rand(rng, 4), 1), name="row"),
        Sample((x34, rand(rng), slice(None), 2), name="0-d-value-broadcast"),
        Sample((x34, rand(rng, 1, 2), slice(1, None), slice(0, 4, 2)), name="broadcast"),
        Sample((x34, rand(rng, 2, 4), _ix(2, 0)), name="advanced"),
        Sample((x34, rand(rng), rng.uniform(size=(3, 4)) > 0.5), name="mask"),
        Sample((rand(rng), rand(rng), Ellipsis), name="0-d"),
    ]


def _index_put(x, v, *parts, accumulate=False):
    return ember.index_put(x, tuple(parts), v, accumulate=accumulate)


def _torch_index_put(x, v, *parts, accumulate=False):
    return torch.index_put(x, tuple(parts), v, accumulate=accumulate)


def index_put_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rand(rng, 2, 4), _ix(2, 0))),
        Sample((rand(rng, 3, 4), rand(rng, 3), _ix(0, 0, 2), _ix(1, 1, 3)),
               {"accumulate": True}, name="accumulate-repeats"),
        Sample((rand(rng, 3, 4), rand(rng), _ix(0, 1)), {"accumulate": True}, name="0-d-value"),
    ]


def gather_samples(rng):
    return [
        Sample((rand(rng, 3, 4), 1, rng.integers(0, 4, (3, 2))), name="dim1"),
        Sample((rand(rng, 3, 4), 0, rng.integers(0, 3, (5, 4))), name="dim0-repeats"),
        Sample((rand(rng, 3, 4), -1, rng.integers(0, 4, (2, 3))), name="neg-dim-smaller"),
        Sample((rand(rng, 3, 4), 1, rng.integers(0, 4, (3, 2)).astype(np.int32)), name="int32"),
        Sample((rand(rng), 0, np.zeros((), np.int64)), name="0-d"),
        Sample((rand(rng, 3, 4), 1, np.zeros((3, 0), np.int64)), diff=NO_FD, name="empty"),
        Sample((rand(rng, 3, 4), 0, rng.integers(0, 3, (2, 4))), {"sparse_grad": False},
               name="kwarg"),
    ]


def _unique_rows(rng, rows, cols, high):
    """Indices with no repeats along dim 1 (so scatter's result is deterministic)."""
    return np.stack([rng.permutation(high)[:cols] for _ in range(rows)]).astype(np.int64)


def scatter_samples(rng):
    return [
        Sample((rand(rng, 3, 5), 1, _unique_rows(rng, 3, 2, 5), rand(rng, 3, 2)), name="src"),
        # PyTorch's own backward fails for a src larger than index (its gradient has the
        # index's shape): src's gradient is checked against finite differences in
        # test_indexing_errors.py instead
        Sample((rand(rng, 3, 5), -1, _unique_rows(rng, 2, 3, 5), rand(rng, 4, 4)),
               diff=(0,), name="src-larger"),
        Sample((rand(rng, 4, 3), 0, _unique_rows(rng, 3, 2, 4).T.copy(), rand(rng, 2, 3)),
               name="dim0"),
        Sample((rand(rng, 3, 5), 1, _unique_rows(rng, 3, 2, 5)), {"value": 2.5}, name="value"),
        Sample((rand(rng), 0, np.zeros((), np.int64), rand(rng)), name="0-d"),
    ]


def scatter_reduce_samples(rng):
    return [
        Sample((rand(rng, 3, 5), 1, rng.integers(0, 5, (3, 4)), rand(rng, 3, 4)),
               {"reduce": "add"}),
        Sample((rand(rng, 3, 5), 1, rng.integers(0, 5, (3, 4)), rand(rng, 3, 4)),
               {"reduce": "multiply"}),
    ]


def scatter_add_samples(rng):
    return [
        Sample((rand(rng, 3, 5), 1, rng.integers(0, 5, (3, 4)), rand(rng, 3, 4)),
               name="repeats"),
        Sample((rand(rng, 3, 5), 0, rng.integers(0, 3, (2, 5)), rand(rng, 4, 5)),
               diff=(0,), name="src-larger"),
        Sample((rand(rng, 3, 5), -2, rng.integers(0, 3, (2, 2)), rand(rng, 2, 2)),
               name="index-smaller"),
        Sample((rand(rng), 0, np.zeros((), np.int64), rand(rng)), name="0-d"),
        Sample((rand(rng, 3, 5), 1, np.zeros((3, 0), np.int64), rand(rng, 3, 0)), diff=NO_FD,
               name="empty"),
    ]


def index_select_samples(rng):
    return [
        Sample((rand(rng, 3, 4), 0, _ix(2, 0, 2)), name="repeats"),
        Sample((rand(rng, 3, 4), -1, _ix(3, 1)), name="neg-dim"),
        Sample((rand(rng, 3, 4), 1, np.array(2, np.int64)), name="0-d-index"),
        Sample((rand(rng, 3, 4), 1, _ix(1).astype(np.int32)), name="int32"),
        Sample((rand(rng, 3, 4), 0, np.zeros(0, np.int64)), diff=NO_FD, name="empty"),
    ]


def take_along_dim_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rng.integers(0, 4, (3, 2)), 1), name="dim"),
        Sample((rand(rng, 3, 4), rng.integers(0, 3, (2, 1)), 0), name="broadcast-index"),
        Sample((rand(rng, 1, 4), rng.integers(0, 4, (3, 2)), -1), name="broadcast-input"),
        Sample((rand(rng, 3, 4), rng.integers(0, 12, (5,))), name="flat"),
        Sample((rand(rng, 3, 4), rng.integers(0, 12, (2, 2))), {"dim": None}, name="flat-kw"),
    ]


def take_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rng.integers(-12, 12, (2, 3))), name="negative-and-repeats"),
        Sample((rand(rng, 5), np.array(-2, np.int64)), name="0-d-index"),
        Sample((rand(rng), np.zeros((2,), np.int64)), name="0-d-input"),
        Sample((rand(rng, 3, 4), np.zeros((0,), np.int64)), diff=NO_FD, name="empty"),
    ]


def index_add_samples(rng):
    return [
        Sample((rand(rng, 3, 4), 0, _ix(2, 0, 2), rand(rng, 3, 4)), name="repeats"),
        Sample((rand(rng, 3, 4), -1, _ix(1, 3), rand(rng, 3, 2)), {"alpha": 2.5},
               name="neg-dim-alpha"),
        Sample((rand(rng, 3, 4), 1, np.zeros(0, np.int64), rand(rng, 3, 0)), diff=NO_FD,
               name="empty"),
    ]


def masked_fill_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rng.uniform(size=(3, 4)) > 0.5, 1.5), name="number"),
        Sample((rand(rng, 3, 4), rng.uniform(size=4) > 0.5, -2.0), name="broadcast-mask"),
        Sample((rand(rng, 3, 4), rng.uniform(size=(3, 1)) > 0.5, rand(rng)), name="0-d-tensor"),
        Sample((rand(rng), np.array(True), 3.0), name="0-d"),
        Sample((rand(rng, 0, 2), np.zeros((0, 2), bool), 1.0), diff=NO_FD, name="empty"),
    ]


def masked_select_samples(rng):
    return [
        Sample((rand(rng, 3, 4), rng.uniform(size=(3, 4)) > 0.5), name="same"),
        Sample((rand(rng, 3, 4), rng.uniform(size=4) > 0.5), name="broadcast-mask"),
        Sample((rand(rng, 4), rng.uniform(size=(3, 4)) > 0.5), name="broadcast-input"),
        Sample((rand(rng), np.array(True)), name="0-d"),
        Sample((rand(rng, 0, 3), np.ones(3, bool)), diff=NO_FD, name="empty"),
    ]


def nonzero_samples(rng):
    x = rng.integers(-1, 2, (3, 4)).astype(np.float32)
    return [Sample((x,)), Sample((x,), {"as_tuple": True}, name="as_tuple"),
            Sample((np.array(2.0, np.float32),), name="0-d"),
            Sample((np.zeros((0, 3), np.float32),), {"as_tuple": True}, name="empty"),
            Sample((rng.uniform(size=(2, 3)) > 0.5,), name="bool")]


def _where_one(x):
    return ember.where(x)


OPS = [
    OpInfo("getitem", _getitem, getitem_samples, torch_fn=_getitem, gradgrad=True),
    OpInfo("setitem", _setitem, setitem_samples, torch_fn=_setitem, gradgrad=True),
    OpInfo("index_put", _index_put, index_put_samples, torch_fn=_torch_index_put, gradgrad=True),
    OpInfo("gather", ember.gather, gather_samples, torch_fn=torch and torch.gather,
           gradgrad=True),
    OpInfo("scatter", ember.scatter, scatter_samples, torch_fn=torch and torch.scatter,
           gradgrad=True),
    OpInfo("scatter_reduce_kwarg", ember.scatter, scatter_reduce_samples,
           torch_fn=torch and torch.scatter, differentiable=False),
    OpInfo("scatter_add", ember.scatter_add, scatter_add_samples,
           torch_fn=torch and torch.scatter_add, gradgrad=True),
    OpInfo("index_select", ember.index_select, index_select_samples,
           torch_fn=torch and torch.index_select, gradgrad=True),
    OpInfo("take_along_dim", ember.take_along_dim, take_along_dim_samples,
           torch_fn=torch and torch.take_along_dim, gradgrad=True),
    OpInfo("take", ember.take, take_samples, torch_fn=torch and torch.take, gradgrad=True),
    OpInfo("index_add", ember.index_add, index_add_samples, torch_fn=torch and torch.index_add,
           gradgrad=True),
    OpInfo("masked_fill", ember.masked_fill, masked_fill_samples,
           torch_fn=torch and torch.masked_fill, gradgrad=True),
    OpInfo("masked_select", ember.masked_select, masked_select_samples,
           torch_fn=torch and torch.masked_select, gradgrad=True),
    OpInfo("nonzero", ember.nonzero, nonzero_samples, torch_fn=torch and torch.nonzero,
           differentiable=False),
    OpInfo("where_one_arg", _where_one, lambda rng: nonzero_samples(rng)[:1],
           torch_fn=torch and torch.where, differentiable=False),
]
