"""Shared helpers of the ONNX tests: one-node graphs, export + check + run."""

from __future__ import annotations

import numpy as np
import pytest

from ember.graph.ir import Graph
from ember.ops.registry import REGISTRY

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime is not installed (pip install onnxruntime)")

from ember.onnx import OnnxRuntimeExecutor, export_graph  # noqa: E402


def one_node_graph(op_name: str, arrays, attrs: dict, *, kinds=None):
    """A graph with one node ``op_name(*arrays, **attrs)``; inputs are graph inputs (or the
    kinds given: "input"/"const"). Returns ``(graph, reference outputs, runtime inputs)``
    with the references from the op's own forward."""
    op = REGISTRY[op_name]
    kinds = kinds or ["input"] * len(arrays)
    g = Graph(op_name)
    ins, feed = [], []
    for a, kind in zip(arrays, kinds):
        a = np.asarray(a)
        if kind == "input":
            v = g.new_value(a.shape, a.dtype, "input", index=len(g.inputs))
            g.inputs.append(v)
            feed.append(a)
        else:
            v = g.new_value(a.shape, a.dtype, "const", array=a)
        ins.append(v)
    multi = op_name.endswith("_sequence")
    result = op.forward(*[np.asarray(a) for a in arrays], **attrs)
    outs = list(result[0]) if multi else [np.asarray(result)]
    node = g.add_node(op, ins, attrs, "test_lowerings.py:1", multi=multi)
    for k, o in enumerate(outs):
        node.outputs.append(g.new_value(o.shape, o.dtype, "node", producer=node, index=k))
    g.outputs = list(node.outputs)
    g.link()
    return g, outs, feed


def check_and_run(graph, feed, **kw):
    """Export ``graph``, run the ONNX checker (with shape inference) and ONNX Runtime."""
    data = export_graph(graph, **kw)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    return OnnxRuntimeExecutor(data)(*feed)


def assert_close(got, want, rtol=1e-5, atol=1e-5):
    """Same shape and dtype kind; values within float32 tolerance (exact for ints/bools)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype.kind in "biu":
        assert got.dtype.kind == want.dtype.kind
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
