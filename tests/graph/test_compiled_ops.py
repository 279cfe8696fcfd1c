"""Eager against compiled on every entry of the op-info table (tests/ops/opinfo_*.py).

For each op, every sample: ``fn(*tensors) -> op(...)`` is compiled; the first call traces
(it runs eagerly, so it proves nothing), the second call runs the graph on *new values of the
same shapes* (the table's samples drawn with another seed) and must equal eager on those
values. For the first differentiable sample of each op, the same with the backward pass
inside the compiled function (``autograd.backward(outs, seeds)``, returning the inputs'
``.grad``), the upstream gradients being inputs too.

Equality is bitwise: the graph runs the same forwards as eager. Exceptions, each with why:

- ``ROUNDING``: in-place accumulation (``np.add.at`` into the tensor) eagerly, the functional
  op then a copy in graph mode: with repeated indices the sums round differently (1 ulp);
- ``REFUSED``: what a graph cannot express; tracing must raise GraphError naming the line,
  never return the traced call's values again.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.errors import GraphError

from ..ops import test_op_table as table

ROUNDING = {"index_add_", "index_put_"}

REFUSED = {
    # boolean-mask indexing: the output shape depends on the mask's values
    "getitem": (9, 10), "setitem": (4,), "masked_select": (0, 1, 2, 4),
    # the index values become a NumPy index computed outside an op (see ops/indexing.py)
    "index_select": (2,), "index_fill_": (0, 1), "take": (0, 1, 2, 3),
    "take_along_dim": (3, 4),
    # data-dependent output shape
    "nonzero": (0, 1, 2, 3, 4), "where_one_arg": (0,),
    # in-place writes into a view of another tensor are not traced yet
    "view_mul_": (0, 1), "nested_view_add_": (0,), "transpose_view_mul_": (0, 1),
    # NumPy converts the tensor to an array (a value read)
    "Tensor.__rmatmul__ (ndarray @ Tensor)": (0,),
}

# bugs found by this test and not fixed here (files of another owner), strict: fix -> remove
KNOWN_BUGS: dict = {}  # op name -> reason, for a strict xfail while a bug is open

OPS = table.ALL_OPS


def _positions(sample) -> list:
    return [i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray)]


def _call(info, sample, tensors):
    args = list(sample.args)
    for i, t in zip(_positions(sample), tensors):
        args[i] = t
    return table._outputs(info.fn(*args, **sample.kwargs), info)


def _tensors(sample, requires_grad=()) -> list:
    return [a for a in table._to_ember(sample, requires_grad=requires_grad)
            if isinstance(a, ember.Tensor)]


def _assert_same(got, expected, info, what):
    assert len(got) == len(expected), what
    for k, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            assert g is None, f"{what} {k}: eager has no gradient, compiled has one"
            continue
        g, e = g.detach().numpy(), e.detach().numpy()
        assert g.shape == e.shape and g.dtype == e.dtype, f"{what} {k}"
        if info.name in ROUNDING:
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6, err_msg=f"{what} {k}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"{what} {k}")


def _pairs(info):
    first = info.samples(np.random.default_rng(1234))
    second = info.samples(np.random.default_rng(99))
    assert len(first) == len(second)
    return list(zip(first, second))


@pytest.mark.parametrize("info", OPS, ids=[o.name for o in OPS])
def test_values_compiled_equal_eager(info):
    refused = REFUSED.get(info.name, ())
    for k, (s1, s2) in enumerate(_pairs(info)):
        def fn(*tensors, _s=s1):
            return tuple(_call(info, _s, tensors))

        step = ember.compile(fn)
        if k in refused:
            with pytest.raises(GraphError, match=r"\.py:\d+"):
                step(*_tensors(s1))
            continue
        step(*_tensors(s1))
        got = step(*_tensors(s2))
        assert step.traces == 1, f"sample {k} retraced: {step.last_reason}"
        _assert_same(got, fn(*_tensors(s2)), info, f"{info.name} sample {k} output")
    assert set(refused) <= set(range(len(_pairs(info)))), "stale REFUSED entry"


def _first_differentiable(info):
    if not info.differentiable:
        return None
    for k, (s1, s2) in enumerate(_pairs(info)):
        if table._diff_positions(s1):
            return k, s1, s2
    return None


GRAD_OPS = [pytest.param(o, id=o.name, marks=[pytest.mark.xfail(
    reason=KNOWN_BUGS[o.name], strict=True)] if o.name in KNOWN_BUGS else [])
    for o in OPS if _first_differentiable(o) is not None]


@pytest.mark.parametrize("info", GRAD_OPS)
def test_gradients_compiled_equal_eager(info):
    k, s1, s2 = _first_differentiable(info)
    diff = table._diff_positions(s1)
    n = len(_positions(s1))

    def step(*tensors):
        outs = [o for o in _call(info, s1, tensors[:n]) if o.dtype.is_floating_point]
        ember.autograd.backward(outs, list(tensors[n:]))
        args = list(s1.args)
        for i, t in zip(_positions(s1), tensors[:n]):
            args[i] = t
        return tuple(args[i].grad for i in diff)

    def inputs(sample, seed):
        ts = _tensors(sample, requires_grad=diff)
        outs = [o for o in _call(info, sample, _tensors(sample)) if o.dtype.is_floating_point]
        rng = np.random.default_rng(seed)
        seeds = [ember.from_numpy(rng.standard_normal(o.shape).astype(o.numpy().dtype))
                 for o in outs]
        return ts + seeds

    compiled = ember.compile(step)
    if k in REFUSED.get(info.name, ()):
        with pytest.raises(GraphError, match=r"\.py:\d+"):
            compiled(*inputs(s1, 1))
        return
    compiled(*inputs(s1, 1))
    args = inputs(s2, 2)
    got = compiled(*args)
    assert compiled.traces == 1, compiled.last_reason
    eager_args = inputs(s2, 2)
    expected = step(*eager_args)
    _assert_same(got, expected, info, f"{info.name} gradient")
    # the .grad write-back reached the arguments of the compiled call
    for pos, i in enumerate(diff):
        j = _positions(s1).index(i)
        _assert_same([args[j].grad], [expected[pos]], info, f"{info.name} .grad of arg {i}")
