"""Common-subexpression elimination on small hand-built graphs."""

from __future__ import annotations

import types

import numpy as np

import ember
from ember.graph.executor import Executor
from ember.graph.passes import cse, optimize
from ember.graph.passes.dce import eliminate_dead_code

from .test_pass_rewrite import Builder, check_same, names, run


def _cse(graph):
    cse.eliminate_common_subexpressions(graph)
    return eliminate_dead_code(graph)


X = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -4.0]], np.float32)


def test_same_op_same_inputs_merge():
    def build():
        b = Builder()
        x = b.input((2, 3))
        return b.finish(b.op("add", b.op("exp", x), b.op("exp", x)))

    g = check_same(build, X, passes=_cse)
    assert names(g) == ["exp", "add"]
    assert g.nodes[1].inputs[0] is g.nodes[1].inputs[1]


def test_merging_cascades_to_users():
    def build():
        b = Builder()
        x = b.input((2, 3))
        t1 = b.op("sum", b.op("exp", x), dim=(1,), keepdim=False, dtype=None)
        t2 = b.op("sum", b.op("exp", x), dim=(1,), keepdim=False, dtype=None)
        return b.finish(b.op("mul", t1, t2))

    g = check_same(build, X, passes=_cse)
    assert names(g) == ["exp", "sum", "mul"]


def test_different_attrs_do_not_merge():
    def build():
        b = Builder()
        x = b.input((2, 3))
        s0 = b.op("sum", x, dim=(0,), keepdim=True, dtype=None)
        s1 = b.op("sum", x, dim=(1,), keepdim=True, dtype=None)
        return b.finish(b.op("add", s0, s1))

    g = check_same(build, X, passes=_cse)
    assert names(g) == ["sum", "sum", "add"]


def test_attr_keys_compare_safely():
    key = cse.attr_key
    assert len({key(1), key(1.0), key(True)}) == 3  # they promote differently
    assert key(0.0) != key(-0.0)
    assert key(float("nan")) == key(float("nan"))
    assert key(np.array([1, 2])) == key(np.array([1, 2]))
    assert key(np.array([1, 2])) != key(np.array([1, 2], np.int32))
    assert key([1, (2, slice(None, 3))]) == key([1, (2, slice(None, 3))])
    assert key((1, 2)) != key([1, 2])
    assert key(ember.float32) == key(ember.float32) != key(ember.float64)
    assert key(np.dtype("f4")) == key(np.dtype("float32"))
    f1, f2 = (lambda a: a), (lambda a: a)
    assert key(f1) == key(f1) != key(f2)
    obj = types.SimpleNamespace(a=1)
    assert key(obj) != key(types.SimpleNamespace(a=1))
    assert key({"a": np.float32(1)}) != key({"a": np.float64(1)})


def test_equal_constants_merge_and_enable_cse():
    def build():
        b = Builder()
        x = b.input((2, 3))
        m1 = b.op("mul", x, b.const(np.float32(0.5)))
        m2 = b.op("mul", x, b.const(np.float32(0.5)))
        m3 = b.op("mul", x, b.const(np.float64(0.5)))  # another dtype: another constant
        return b.finish(b.op("add", b.op("add", m1, m2), m3))

    g = check_same(build, X, passes=_cse)
    assert names(g) == ["mul", "mul", "add", "add"]


def test_random_draws_are_never_merged():
    def fn(x):
        return x + ember.rand(3) - ember.rand(3)

    f = ember.compile(fn, optimize=False)
    f(ember.zeros(3))
    g = optimize(f.graph)
    assert names(g).count("random") == 2
    compiled = ember.compile(fn)
    compiled(ember.zeros(3))
    assert np.any(compiled(ember.zeros(3)).numpy() != 0)  # merged draws would cancel


def test_nodes_with_cache_or_sides_are_not_merged():
    b = Builder()
    x = b.input((2, 3))
    e1, e2 = b.op("exp", x), b.op("exp", x)
    e1.producer.attrs["cache"] = []
    e2.producer.attrs["cache"] = []
    n1, n2 = b.op("neg", x), b.op("neg", x)
    side = b.g.new_value((2, 3), np.float32, "side", producer=n2.producer,
                         index=("workspace", 0))
    n2.producer.sides.append((side, ("workspace", 0)))
    g = b.finish(b.op("add", e1, e2), b.op("add", n1, n2), side)
    assert not cse.eliminate_common_subexpressions(g)


def test_results_handed_to_the_caller_stay_distinct_arrays():
    def build():
        b = Builder()
        x = b.input((2, 3))
        return b.finish(b.op("exp", x), b.op("exp", x))

    g = check_same(build, X, passes=_cse)
    raw = Executor(g)([X], [])
    assert not np.shares_memory(raw[0], raw[1])  # the caller may write into one of them


def _cond_graph():
    """y = exp(x); z = cond(p, exp(x) + 1, exp(x) * 2); w = exp(x) after the cond."""
    b = Builder()
    x = b.input((2, 3))
    p = b.input((), "bool")
    before = b.op("exp", x)
    outer = len(b.g.nodes)
    t_exp = b.op("exp", x)
    t_out = b.op("add", t_exp, b.const(np.float32(1)))
    f_exp = b.op("exp", x)
    f_out = b.op("mul", f_exp, b.const(np.float32(2)))
    inner = b.g.nodes[outer:]
    del b.g.nodes[outer:]
    cond_op = types.SimpleNamespace(name="cond", stateful=False)
    node = b.g.add_node(cond_op, [], {}, "test.py:2")
    node.branches = (p, inner[:2], inner[2:], [t_out], [f_out])
    res = b.g.new_value((2, 3), np.float32, "node", producer=node, index=0)
    node.outputs.append(res)
    after = b.op("exp", x)
    return b.finish(b.op("add", b.op("add", before, res), after)), (t_exp, f_exp, after, before)


def test_cse_inside_cond_branches_is_scoped():
    g, _ = _cond_graph()
    expect_true = run(g, X, np.array(True))
    expect_false = run(g, X, np.array(False))
    g, (_, _, _, before) = _cond_graph()
    cse.eliminate_common_subexpressions(g)
    eliminate_dead_code(g)
    node = next(n for n in g.nodes if n.branches is not None)
    # each branch reuses the exp computed before the cond; the exp after it does too
    assert [n.op.name for n in node.branches[1]] == ["add"]
    assert [n.op.name for n in node.branches[2]] == ["mul"]
    assert node.branches[1][0].inputs[0] is before
    assert names(g).count("exp") == 1
    np.testing.assert_array_equal(run(g, X, np.array(True))[0], expect_true[0])
    np.testing.assert_array_equal(run(g, X, np.array(False))[0], expect_false[0])


def test_cse_never_reuses_a_result_from_inside_a_branch():
    b = Builder()
    x = b.input((2, 3))
    p = b.input((), "bool")
    outer = len(b.g.nodes)
    t_out = b.op("exp", x)
    f_out = b.op("neg", x)
    inner = b.g.nodes[outer:]
    del b.g.nodes[outer:]
    node = b.g.add_node(types.SimpleNamespace(name="cond", stateful=False), [], {}, "t:1")
    node.branches = (p, inner[:1], inner[1:], [t_out], [f_out])
    res = b.g.new_value((2, 3), np.float32, "node", producer=node, index=0)
    node.outputs.append(res)
    after = b.op("exp", x)  # equal to the true branch's exp, which may not have run
    g = b.finish(b.op("add", res, after))
    expect = run(g, X, np.array(False))
    cse.eliminate_common_subexpressions(g)
    eliminate_dead_code(g)
    assert g.nodes[-1].inputs[1] is after
    np.testing.assert_array_equal(run(g, X, np.array(False))[0], expect[0])
