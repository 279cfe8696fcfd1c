"""Constant folding on small hand-built graphs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.graph.passes import fold, optimize
from ember.graph.passes.dce import eliminate_dead_code

from .test_pass_rewrite import Builder, check_same, names, run


def _fold(graph):
    fold.fold_constants(graph)
    return eliminate_dead_code(graph)


def test_chain_of_constants_folds_in_one_sweep():
    def build():
        b = Builder()
        x = b.input((3,))
        lr = b.const(np.float64(0.1))
        wd = b.const(np.float64(0.01))
        scale = b.op("sub", b.const(np.float64(1.0)), b.op("mul", lr, wd))
        scale32 = b.op("cast", scale, dtype=ember.float32)
        return b.finish(b.op("mul", x, scale32))

    g = check_same(build, np.array([1, -2, 3], np.float32), passes=_fold)
    assert names(g) == ["mul"]
    k = g.nodes[0].inputs[1]
    assert k.kind == "const" and k.dtype == np.float32
    assert k.array == np.float32(1 - 0.1 * 0.01)
    assert not k.array.flags.writeable  # shared by every run: must not be written


def test_multi_output_op_folds():
    def build():
        b = Builder()
        x = b.input((2, 2))
        stats = b.op("norm_stats", b.const(np.arange(4, dtype=np.float32).reshape(2, 2)),
                     dims=(1,))
        return b.finish(b.op("add", x, stats))

    arr = np.ones((2, 2), np.float32)
    g = check_same(build, arr, passes=_fold)
    assert names(g) == ["add"]


def test_stateful_random_draw_is_not_folded():
    f = ember.compile(lambda x: x + ember.rand(3))
    x = ember.zeros(3)
    first = f(x).numpy().copy()
    second = f(x).numpy().copy()
    assert "random" in names(f.graph)
    assert not np.array_equal(first, second)  # a folded draw would repeat its numbers


def test_large_result_is_not_folded():
    def build():
        b = Builder()
        big = b.const(np.zeros((600, 600), np.float32))  # 1.44 MB result
        return b.finish(b.op("add", b.input((600, 600)), b.op("exp", big)))

    g = build()
    assert not fold.fold_constants(g)
    g = build()
    assert fold.fold_constants(g, max_bytes=4 << 20)


def test_folded_value_returned_to_caller_is_not_shared():
    """A constant handed to the caller would be one array shared (and mutable) by every
    call: such a node keeps running."""
    def build():
        b = Builder()
        return b.finish(b.op("exp", b.const(np.zeros(3, np.float32))))

    g = build()
    assert not fold.fold_constants(g)
    assert names(g) == ["exp"]
    assert run(g)[0].tolist() == [1.0, 1.0, 1.0]


def test_node_with_a_cache_or_side_is_not_folded():
    b = Builder()
    k = b.const(np.ones(3, np.float32))
    y = b.op("exp", k)
    y.producer.attrs["cache"] = []
    g = b.finish(b.op("add", b.input((3,)), y))
    assert not fold.fold_constants(g)


def test_failing_forward_is_left_for_run_time():
    b = Builder()
    k = b.const(np.ones(4, np.float32))
    bad = b.op("reshape", k, shapes=[((4,), np.dtype(np.float32))], shape=(3,))
    g = b.finish(b.op("add", b.input((4,)), bad))
    assert not fold.fold_constants(g)
    with pytest.raises(ember.GraphError, match="reshape"):
        run(g, np.ones(4, np.float32))


def test_folding_in_compiled_function_matches_eager():
    def fn(x):
        scale = ember.tensor(2.0) * ember.tensor(3.0)
        return x * scale + ember.ones(3).sum()

    x = ember.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    f = ember.compile(fn)
    f(x)
    np.testing.assert_array_equal(f(x).numpy(), fn(x).numpy())
    plain = ember.compile(fn, optimize=False)
    plain(x)
    assert names(optimize(plain.graph)) == ["mul", "add"]
