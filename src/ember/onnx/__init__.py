"""ONNX export and ONNX Runtime execution of ember graphs.

- ``export(model_or_fn, example_args, path)``: trace a forward pass and write an ONNX file;
  ``export_graph(graph, path)``: the same from a Graph you already have;
- ``OnnxRuntimeExecutor(graph)`` / ``run_onnxruntime(graph, *arrays)``: run a Graph in ONNX
  Runtime (optional dependency, ``pip install ember[onnx]``); ``is_available()``;
- ``LOWERINGS``: ember op name -> its ONNX lowering (``lower_*.py``); ``OPSET``.

Files: ``proto.py`` (the protobuf encoder), ``_builder.py`` (the ONNX graph under
construction), ``lower.py`` (the Graph walk) and ``lower_*.py`` (one function per op),
``export.py``, ``runtime.py``. Nothing here imports ``onnx`` or ``onnxruntime`` at import
time.
"""

from .export import export, export_graph
from .lower import LOWERINGS, OPSET, lower_graph
from .runtime import OnnxRuntimeExecutor, is_available, run_onnxruntime

__all__ = ["export", "export_graph", "lower_graph", "LOWERINGS", "OPSET",
           "OnnxRuntimeExecutor", "run_onnxruntime", "is_available"]
