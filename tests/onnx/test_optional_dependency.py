"""onnxruntime/onnx stay optional: not imported by ``import ember``/``import ember.onnx``, and
a clear error when a session is asked for without them. Runs without onnxruntime installed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import ember.onnx
from ember.errors import EmberError
from ember.graph.ir import Graph
from ember.onnx import runtime
from ember.ops.registry import REGISTRY


def test_import_does_not_load_onnxruntime():
    code = ("import sys, ember, ember.onnx; "
            "print('onnxruntime' in sys.modules, 'onnx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def _relu_graph():
    g = Graph("relu")
    x = g.new_value((2,), np.float32, "input")
    g.inputs.append(x)
    node = g.add_node(REGISTRY["relu"], [x], {}, "t.py:1")
    node.outputs.append(g.new_value((2,), np.float32, "node", producer=node))
    g.outputs = list(node.outputs)
    return g


def test_missing_onnxruntime_gives_an_install_hint(monkeypatch):
    real = runtime.importlib.import_module

    def fake_import(name, *a, **k):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real(name, *a, **k)

    monkeypatch.setattr(runtime.importlib, "import_module", fake_import)
    with pytest.raises(EmberError, match=r"pip install onnxruntime"):
        ember.onnx.OnnxRuntimeExecutor(_relu_graph())
    with pytest.raises(EmberError, match=r"ember\[onnx\]"):
        ember.onnx.run_onnxruntime(_relu_graph(), np.ones(2, np.float32))
    # exporting needs neither package
    assert ember.onnx.export_graph(_relu_graph())[:2] == b"\x08\x08"  # ir_version=8


def test_is_available_reflects_find_spec(monkeypatch):
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: None)
    assert ember.onnx.is_available() is False
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: object())
    assert ember.onnx.is_available() is True
