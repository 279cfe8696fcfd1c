"""replace_all_uses and the hand-built-graph helper the other test_pass_* files share."""

from __future__ import annotations

import numpy as np

import ember
from ember.graph.executor import Executor
from ember.graph.ir import Graph
from ember.graph.passes import optimize, replace_all_uses
from ember.ops.registry import REGISTRY


class Builder:
    """Build a small graph by hand: ``b.input``, ``b.const``, ``b.op``, ``b.state``."""

    def __init__(self):
        self.g = Graph("test")

    def input(self, shape, dtype="float32"):
        v = self.g.new_value(shape, dtype, "input", index=len(self.g.inputs))
        self.g.inputs.append(v)
        return v

    def const(self, array):
        array = np.asarray(array)
        return self.g.new_value(array.shape, array.dtype, "const", array=array)

    def state(self, tensor):
        arr = tensor._data
        return self.g.new_value(arr.shape, arr.dtype, "state", tensor=tensor)

    def op(self, name, *inputs, n_out=1, multi=False, shapes=None, **attrs):
        """Apply registry op ``name``; output shapes/dtypes come from running it on zeros."""
        node = self.g.add_node(REGISTRY[name], list(inputs), attrs, "test.py:1", multi=multi)
        if shapes is None:
            arrays = [v.array if v.kind == "const" else np.ones(v.shape, v.dtype)
                      for v in inputs]
            result = REGISTRY[name].forward(*arrays, **attrs)
            result = result[0] if multi else (result if n_out > 1 else (result,))
            shapes = [(np.shape(a), np.asarray(a).dtype) for a in result]
        for i, (shape, dtype) in enumerate(shapes):
            node.outputs.append(self.g.new_value(shape, dtype, "node", producer=node, index=i))
        return node.outputs[0] if len(node.outputs) == 1 else tuple(node.outputs)

    def finish(self, *outputs, writebacks=()):
        self.g.outputs = list(outputs)
        self.g.writebacks = list(writebacks)
        self.g.link()
        return self.g


def run(graph, *arrays, args=None):
    """Execute ``graph`` on ``arrays``; returns the output arrays (copied)."""
    outs = Executor(graph)(list(arrays), list(args or []))
    return [None if o is None else np.array(o, copy=True) for o in outs]


def check_same(build, *arrays, passes=optimize):
    """Run ``build()`` unoptimized and after ``passes``; assert equal bits; return the
    optimized graph."""
    before = run(build(), *arrays)
    graph = build()
    graph = passes(graph) or graph
    after = run(graph, *arrays)
    for a, b in zip(before, after):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        assert a.tobytes() == b.tobytes()  # bit for bit: the sign of zero, NaN payloads
    return graph


def names(graph):
    return [n.op.name for n in graph.walk()]


# ---------------------------------------------------------------------------- tests


def test_replace_rewires_inputs_outputs_and_dynamic():
    b = Builder()
    x = b.input((3,))
    y1 = b.op("exp", x)
    y2 = b.op("exp", x)
    z = b.op("add", y1, y2)
    g = b.finish(z, y2)
    y1_node = y1.producer
    # out = y2 is fresh and y1 does not escape: the output moves too
    assert replace_all_uses(g, y2, y1)
    assert z.producer.inputs == [y1, y1]
    assert g.outputs == [z, y1]
    assert y2.users == [] and len(y1.users) == 2
    assert y1_node in g.nodes


def test_replace_keeps_fresh_output_off_a_parameter():
    """``return p * 1``: the caller must get a fresh array, not the parameter itself."""
    p = ember.ones(3)
    b = Builder()
    pv = b.state(p)
    one = b.const(np.float32(1))
    y = b.op("mul", pv, one)
    z = b.op("neg", y)
    g = b.finish(y, z)
    replace_all_uses(g, y, pv)
    assert z.producer.inputs == [pv]  # internal readers move
    assert g.outputs[0] is y  # the output keeps its own array
    g2 = optimize(g)
    out = run(g2)
    assert not np.shares_memory(out[0], p._data)
    assert "mul" in names(g2)


def test_replace_write_backs():
    """A replace write-back must not bind a tensor to another tensor's memory; a copy
    write-back may read its own target's memory but not another target's."""
    p, q = ember.ones(2), ember.zeros(2)
    b = Builder()
    pv, qv = b.state(p), b.state(q)
    y = b.op("mul", pv, b.const(np.float32(1)))
    w = b.op("mul", qv, b.const(np.float32(1)))
    g = b.finish(writebacks=[("replace", q, y), ("copy", p, w), ("copy", q, y)])
    replace_all_uses(g, y, pv)
    replace_all_uses(g, w, qv)
    assert g.writebacks[0][2] is y  # replace: q must not become p's array
    assert g.writebacks[1][2] is w  # copy p <- q's memory: q may already be overwritten
    assert g.writebacks[2][2] is y  # copy q <- p's memory: p is a write-back target


def test_replace_copy_write_back_of_own_state():
    p = ember.ones(2)
    b = Builder()
    pv = b.state(p)
    y = b.op("mul", pv, b.const(np.float32(1)))
    g = b.finish(writebacks=[("copy", p, y)])
    replace_all_uses(g, y, pv)
    assert g.writebacks[0][2] is pv


def test_optimize_keeps_write_backs_working():
    """A parameter update p <- p * 1 + (x - 0): compiled results and write-back equal."""
    p = ember.tensor(np.array([1.5, -0.0, 2.0], np.float32))
    b = Builder()
    x = b.input((3,))
    pv = b.state(p)
    y = b.op("mul", pv, b.const(np.float32(1)))
    d = b.op("sub", x, b.const(np.float32(0)))
    new = b.op("add", y, d)
    g = b.finish(new, writebacks=[("copy", p, new)])
    g = optimize(g)
    assert names(g) == ["add"]
    xs = np.array([1, 2, 3], np.float32)
    out = run(g, xs)
    np.testing.assert_array_equal(out[0], [2.5, 2.0, 5.0])
    np.testing.assert_array_equal(p._data, [2.5, 2.0, 5.0])


def test_optimize_inside_ember_cond_branches():
    """Passes reach into both branches; results equal for either branch; a result that may
    be the input itself (the false branch returns x) is still a fresh array for the caller."""
    def fn(x, p):
        a = x.exp()
        r = ember.cond(p, lambda t: (t.exp() * 1 + ember.tensor(2.0) * 3).reshape(2, 3)
                       .reshape(6), lambda t: t.neg().neg(), x)
        return r + a, r * 1

    x = ember.tensor(np.linspace(-1, 1, 6).astype(np.float32))
    results = {}
    for opt in (False, True):
        f = ember.compile(fn, optimize=opt)
        results[opt] = [[t.numpy().tobytes() for t in f(x, ember.tensor(p))]
                        for p in (True, False, True, False)]
        if opt:
            assert not np.shares_memory(f(x, ember.tensor(False))[1]._data, x._data)
    assert results[True] == results[False]
    plain = ember.compile(fn, optimize=False)
    plain(x, ember.tensor(True))
    before = len(list(plain.graph.walk()))
    g = optimize(plain.graph)
    cond = next(n for n in g.nodes if n.branches is not None)
    assert [n.op.name for n in cond.branches[1]] == ["add"]  # exp merged, reshapes gone
    # neg(neg(x)) stays: the branch would hand out the caller's own x as the cond's result
    assert [n.op.name for n in cond.branches[2]] == ["neg", "neg"]
    assert len(list(g.walk())) <= before - 4
