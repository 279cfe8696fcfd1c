"""Export errors (unsupported op, training graphs), the executor's input checks, file output,
the protobuf encoder against onnx's own parser, and ``export`` through ``ember.graph.trace``."""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np
import pytest

import ember
from ember.errors import DTypeError, GraphError
from ember.graph.ir import Graph
from ember.onnx import OnnxRuntimeExecutor, export, export_graph, proto
from ember.ops.registry import Op

from ._helpers import check_and_run, one_node_graph, onnx


def test_unsupported_op_names_op_and_location():
    fake = Op("frobnicate", lambda a: a)
    g = Graph("f")
    x = g.new_value((2,), np.float32, "input")
    g.inputs.append(x)
    node = g.add_node(fake, [x], {}, "model.py:42")
    node.outputs.append(g.new_value((2,), np.float32, "node", producer=node))
    g.outputs = list(node.outputs)
    with pytest.raises(GraphError, match=r"op 'frobnicate' \(at model.py:42\) has no ONNX "
                                         r"lowering"):
        export_graph(g)


def test_unsupported_attribute_value_names_the_reason():
    attrs = {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0), "ceil_mode": False,
             "count_include_pad": True, "divisor_override": 3}
    g, _, _ = one_node_graph("avg_pool2d", [np.ones((1, 1, 4, 4), np.float32)], attrs)
    with pytest.raises(GraphError, match="avg_pool2d.*divisor_override"):
        export_graph(g)


def test_training_graphs_are_refused():
    g, _, _ = one_node_graph("relu", [np.ones(3, np.float32)], {})
    g.writebacks.append(("copy", ember.ones(3), g.outputs[0]))
    with pytest.raises(GraphError, match="write-backs"):
        export_graph(g)
    g, _, _ = one_node_graph("mul", [np.ones(3, np.float32), np.ones(3, np.float32)], {})
    grad = g.new_value((3,), np.float32, "grad", tensor=ember.ones(3))
    g.nodes[0].inputs[1] = grad
    with pytest.raises(GraphError, match=r"reads a gradient"):
        export_graph(g)


def test_output_names_and_input_names():
    g, want, feed = one_node_graph("add", [np.ones(3, np.float32), np.ones(3, np.float32)], {})
    data = export_graph(g, input_names=["a", "b"], output_names=["sum"])
    model = onnx.load_from_string(data)
    assert [i.name for i in model.graph.input] == ["a", "b"]
    assert [o.name for o in model.graph.output] == ["sum"]
    with pytest.raises(GraphError, match="input_names must be 2 distinct"):
        export_graph(g, input_names=["a"])


def test_export_graph_writes_the_file(tmp_path):
    g, want, feed = one_node_graph("tanh", [np.linspace(-1, 1, 5, dtype=np.float32)], {})
    path = tmp_path / "m.onnx"
    data = export_graph(g, path)
    assert path.read_bytes() == data
    (got,) = OnnxRuntimeExecutor(path.read_bytes())(*feed)
    np.testing.assert_allclose(got, want[0], rtol=1e-6)


def test_executor_checks_inputs():
    g, _, feed = one_node_graph("relu", [np.ones((2, 3), np.float32)], {})
    run = OnnxRuntimeExecutor(g, intra_op_threads=1)
    with pytest.raises(TypeError, match="expected 1 input"):
        run()
    with pytest.raises(DTypeError, match="input 'input' must be float32, got bool"):
        run(np.ones((2, 3), bool))
    np.testing.assert_array_equal(run(np.ones((2, 3)))[0], np.ones((2, 3)))  # float64 cast
    np.testing.assert_array_equal(run(ember.ones(2, 3))[0], np.ones((2, 3)))  # a Tensor
    with pytest.raises(ValueError, match="optimization must be one of"):
        OnnxRuntimeExecutor(g, optimization="max")


def test_optimization_levels_agree():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    g, want, feed = one_node_graph("gelu", [x], {"approximate": "none"})
    for level, spin in (("disable", False), ("basic", True), ("all", False)):
        (got,) = OnnxRuntimeExecutor(g, optimization=level, spin=spin)(*feed)
        np.testing.assert_allclose(got, want[0], rtol=1e-5, atol=1e-6)


def test_proto_attributes_parse_back():
    raw = proto.node("Foo", ["x", ""], ["y"], name="n", attrs={
        "i": -3, "zero": 0, "f": 0.25, "s": "edge", "ints": [1, -2, 0], "floats": [0.5, 2.0],
        "strings": ["Tanh", "Relu"], "t": np.arange(3, dtype=np.int64)})
    n = onnx.NodeProto.FromString(raw)
    assert (n.op_type, list(n.input), list(n.output), n.name) == ("Foo", ["x", ""], ["y"], "n")
    got = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    assert got["i"] == -3 and got["zero"] == 0 and got["f"] == 0.25 and got["s"] == b"edge"
    assert got["ints"] == [1, -2, 0] and got["floats"] == [0.5, 2.0]
    assert got["strings"] == [b"Tanh", b"Relu"]
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(got["t"]), [0, 1, 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_,
                                   np.uint8, np.float16])
def test_proto_tensor_round_trip(dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    t = onnx.TensorProto.FromString(proto.tensor("w", a))
    assert t.name == "w"
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(t), a)


def test_proto_rejects_unknown_dtype():
    with pytest.raises(DTypeError, match="complex64 has no ONNX equivalent"):
        proto.tensor("c", np.zeros(2, np.complex64))


def test_integer_and_bool_outputs():
    x = np.array([[1.5, -2.0], [0.0, 3.0]], np.float32)
    g, want, feed = one_node_graph("argmax", [x], {"dim": 1, "keepdim": False})
    (got,) = check_and_run(g, feed)
    assert got.dtype == np.int64 and list(got) == list(want[0])


_GRAPH = importlib.import_module("ember.graph")
_HAS_TRACE = callable(getattr(_GRAPH, "trace", None)) or hasattr(_GRAPH, "compile")


@pytest.mark.skipif(not _HAS_TRACE, reason="graph.trace not available")
def test_export_traces_a_module(tmp_path):
    ember.manual_seed(0)
    model = ember.models.mlp(in_features=6, hidden=(5,), num_classes=3)
    model.train()
    x = np.random.default_rng(0).random((4, 6), dtype=np.float32)
    data = export(model, x, tmp_path / "mlp.onnx", input_names=["features"],
                  output_names=["logits"], dynamic_batch=True)
    assert model.training  # mode restored
    m = onnx.load_from_string(data)
    assert {i.name for i in m.graph.initializer} >= {n for n, _ in model.named_parameters()}
    with ember.no_grad():
        model.eval()
        want = model(ember.from_numpy(x)).numpy()
    (got,) = OnnxRuntimeExecutor(data)(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not _HAS_TRACE, reason="graph.trace not available")
def test_export_a_function_with_two_inputs_and_outputs():
    w = ember.from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))

    def fn(a, b):
        h = ember.tanh(a @ w) + b
        return h.softmax(-1), h.sum(-1)

    a = np.random.default_rng(1).random((4, 2), dtype=np.float32)
    b = np.random.default_rng(2).random((4, 3), dtype=np.float32)
    data = export(fn, (a, b), output_names=["probs", "total"])
    got = OnnxRuntimeExecutor(data)(a, b)
    with ember.no_grad():
        want = [t.numpy() for t in fn(ember.from_numpy(a), ember.from_numpy(b))]
    for g_, w_ in zip(got, want):
        np.testing.assert_allclose(g_, w_, rtol=1e-5, atol=1e-6)


def test_export_without_a_tracer_says_so(monkeypatch):
    export_module = sys.modules["ember.onnx.export"]
    no_graph_pkg = types.SimpleNamespace(import_module=lambda name: types.SimpleNamespace())
    monkeypatch.setattr(export_module, "importlib", no_graph_pkg)
    with pytest.raises(GraphError, match="no tracer"):
        export(ember.models.mlp(), np.zeros((1, 784), np.float32))
