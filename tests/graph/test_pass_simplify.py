"""Algebraic simplification on small hand-built graphs: each rule, and where it must not fire."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.graph.passes import simplify as simplify_mod
from ember.graph.passes.dce import eliminate_dead_code

from .test_pass_rewrite import Builder, check_same, names

X = np.array([[0.5, -0.0, 2.0], [np.nan, 0.0, -4.0]], np.float32)


def _simplify(graph):
    simplify_mod.simplify(graph)
    return eliminate_dead_code(graph)


def _unary(rule):
    """A graph ``exp(rule(b, x))`` (exp keeps the rule's result from being the output)."""
    def build():
        b = Builder()
        x = b.input(X.shape)
        return b.finish(b.op("exp", rule(b, x)))

    return build


F32 = np.float32
IDENTITIES = {
    "x*1": lambda b, x: b.op("mul", x, b.const(F32(1))),
    "1*x": lambda b, x: b.op("mul", b.const(np.ones(3, F32)), x),
    "x/1": lambda b, x: b.op("div", x, b.const(F32(1))),
    "x-0": lambda b, x: b.op("sub", x, b.const(F32(0))),
    "x+(-0)": lambda b, x: b.op("add", x, b.const(F32(-0.0))),
    "-0+x": lambda b, x: b.op("add", b.const(F32(-0.0)), x),
    "neg(neg(x))": lambda b, x: b.op("neg", b.op("neg", x)),
    "reshape same": lambda b, x: b.op("reshape", x, shape=(2, -1)),
    "view same": lambda b, x: b.op("view", x, shape=(2, 3)),
    "expand same": lambda b, x: b.op("expand", x, shape=(2, 3)),
    "sum_to same": lambda b, x: b.op("sum_to", x, shape=(2, 3)),
    "cast same": lambda b, x: b.op("cast", x, dtype=ember.float32),
    "alias": lambda b, x: b.op("alias", x),
    "clone": lambda b, x: b.op("clone", x),
    "permute identity": lambda b, x: b.op("permute", x, dims=(0, 1)),
    "transpose twice": lambda b, x: b.op("transpose", b.op("transpose", x, dim0=0, dim1=1),
                                         dim0=-1, dim1=-2),
    "permute of transpose": lambda b, x: b.op("permute", b.op("transpose", x, dim0=0, dim1=1),
                                              dims=(1, 0)),
    "reshape chain back": lambda b, x: b.op("view", b.op("reshape", x, shape=(6,)),
                                            shape=(2, 3)),
}


@pytest.mark.parametrize("rule", sorted(IDENTITIES))
def test_identity_rules_remove_the_node(rule):
    g = check_same(_unary(IDENTITIES[rule]), X, passes=_simplify)
    assert names(g) == ["exp"], rule
    assert g.nodes[0].inputs[0] is g.inputs[0]


def test_reshape_of_reshape_is_one_reshape():
    def build():
        b = Builder()
        x = b.input(X.shape)
        r = b.op("view", b.op("reshape", x, shape=(3, 2)), shape=(6, 1))
        return b.finish(b.op("exp", r))

    g = check_same(build, X, passes=_simplify)
    assert names(g) == ["reshape", "exp"]
    assert g.nodes[0].inputs[0] is g.inputs[0] and g.nodes[0].attrs == {"shape": (6, 1)}


def test_permute_of_permute_is_one_permute():
    y = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

    def build():
        b = Builder()
        x = b.input(y.shape)
        p = b.op("permute", b.op("permute", x, dims=(2, 0, 1)), dims=(0, 2, 1))
        return b.finish(b.op("exp", b.op("transpose", p, dim0=0, dim1=1)))

    g = check_same(build, y, passes=_simplify)
    assert names(g) == ["permute", "exp"]
    assert g.nodes[0].inputs[0] is g.inputs[0] and g.nodes[0].attrs == {"dims": (1, 2, 0)}


def test_permute_chain_back_to_the_start_disappears():
    y = np.arange(24, dtype=np.float32).reshape(2, 3, 4)

    def build():
        b = Builder()
        x = b.input(y.shape)
        p = b.op("permute", b.op("permute", x, dims=(2, 0, 1)), dims=(0, 2, 1))
        return b.finish(b.op("exp", b.op("transpose", p, dim0=0, dim1=2)))

    g = check_same(build, y, passes=_simplify)
    assert names(g) == ["exp"]


NOT_IDENTITIES = {
    # int * 1.0 promotes to float: not x
    "int*1.0": (lambda b, x: b.op("mul", x, b.const(np.float32(1))), np.int64),
    # int / 1 is a float division
    "int/1": (lambda b, x: b.op("div", x, b.const(np.int64(1))), np.int64),
    # broadcasting changes the shape
    "x*ones(2,2,3)": (lambda b, x: b.op("mul", x, b.const(np.ones((2, 2, 3), F32))), F32),
    # -0.0 + 0.0 is +0.0
    "x+0.0": (lambda b, x: b.op("add", x, b.const(F32(0.0))), F32),
    # -0.0 - (-0.0) is +0.0
    "x-(-0)": (lambda b, x: b.op("sub", x, b.const(F32(-0.0))), F32),
    "0-x": (lambda b, x: b.op("sub", b.const(F32(0)), x), F32),
    "1/x": (lambda b, x: b.op("div", b.const(F32(1)), x), F32),
    "x*2": (lambda b, x: b.op("mul", x, b.const(F32(2))), F32),
    "float16*1f32": (lambda b, x: b.op("mul", x, b.const(F32(1))), np.float16),
    "cast to f64": (lambda b, x: b.op("cast", x, dtype=ember.float64), F32),
    "expand grows": (lambda b, x: b.op("expand", x, shape=(4, 2, 3)), F32),
    "one neg": (lambda b, x: b.op("neg", x), F32),
    "x*ones(other)": (lambda b, x: b.op("mul", x, b.input((2, 3))), F32),
}


@pytest.mark.parametrize("rule", sorted(NOT_IDENTITIES))
def test_non_identities_are_kept(rule):
    make, dtype = NOT_IDENTITIES[rule]

    def build():
        b = Builder()
        x = b.input(X.shape, dtype)
        return b.finish(b.op("neg", make(b, x)) if dtype != np.int64 else make(b, x))

    args = [np.nan_to_num(X).astype(dtype)] + ([np.ones((2, 3), F32)]
                                               if rule == "x*ones(other)" else [])
    with np.errstate(all="ignore"):  # 1/x at x = 0
        g = check_same(build, *args, passes=_simplify)
    assert len(g.nodes) == len(build().nodes), rule


def test_integer_plus_zero_is_an_identity():
    def build():
        b = Builder()
        x = b.input((3,), "int64")
        return b.finish(b.op("neg", b.op("add", x, b.const(np.int64(0)))))

    g = check_same(build, np.array([1, -2, 0]), passes=_simplify)
    assert names(g) == ["neg"]


def test_simplified_output_is_not_an_alias_of_the_input():
    """``return x * 1`` must not return the caller's own array."""
    def build():
        b = Builder()
        x = b.input(X.shape)
        return b.finish(b.op("mul", x, b.const(F32(1))))

    g = _simplify(build())
    assert names(g) == ["mul"]


def test_view_output_may_become_its_source_view():
    """``return x.reshape(same shape)`` was already a view of x: returning x is the same."""
    def build():
        b = Builder()
        x = b.input(X.shape)
        return b.finish(b.op("reshape", x, shape=(2, 3)))

    g = _simplify(build())
    assert names(g) == [] and g.outputs[0] is g.inputs[0]
