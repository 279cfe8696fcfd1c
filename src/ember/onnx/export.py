"""Export to an ONNX file: ``export_graph`` (a Graph you already have) and ``export`` (trace a
module or function on example inputs, then export)."""

from __future__ import annotations

import importlib
import os
import types

from ..errors import GraphError
from .lower import lower_graph

__all__ = ["export_graph", "export"]


def export_graph(graph, path=None, *, input_names=None, output_names=None,
                 dynamic_batch: bool = False, tensor_names: dict | None = None) -> bytes:
    """Serialize a forward-only ember Graph as an ONNX model; write it to ``path`` when given.

    Returns the ModelProto bytes (what ``onnxruntime.InferenceSession`` and ``onnx.load``
    read). Parameters are stored with their current values. See :func:`lower_graph` for the
    keyword arguments.
    """
    data = lower_graph(graph, input_names=input_names, output_names=output_names,
                       dynamic_batch=dynamic_batch, tensor_names=tensor_names)
    if path is not None:
        with open(os.fspath(path), "wb") as f:
            f.write(data)
    return data


def _trace(fn, args: tuple):
    """The forward graph of ``fn(*args)``: ``ember.graph.trace`` when the package has that
    function, else the unoptimized graph ``ember.compile`` records on a first call (ONNX
    Runtime runs its own optimizations; ember's fusions would only add ops to lower)."""
    graph_pkg = importlib.import_module("ember.graph")
    trace = getattr(graph_pkg, "trace", None)
    if callable(trace) and not isinstance(trace, types.ModuleType):
        return trace(fn, *args)
    compile_ = getattr(graph_pkg, "compile", None)
    if compile_ is None:
        raise GraphError("onnx export: this ember has no tracer (ember.graph.trace / "
                         "ember.compile); build the Graph yourself and call "
                         "ember.onnx.export_graph")
    compiled = compile_(fn, optimize=False)
    compiled(*args)
    return compiled.graph


def _as_tensors(example_args) -> tuple:
    from ..creation import tensor as _tensor
    from ..tensor import Tensor

    if not isinstance(example_args, (tuple, list)):
        example_args = (example_args,)
    return tuple(a if isinstance(a, Tensor) else _tensor(a) for a in example_args)


def export(model_or_fn, example_args, path=None, input_names=None, output_names=None,
           dynamic_batch: bool = False) -> bytes:
    """Trace ``model_or_fn(*example_args)`` under ``ember.no_grad()`` and export it to ONNX.

    A Module is traced in eval mode (dropout off, batch norm on its running statistics) and
    put back in its previous mode afterwards; its parameters and buffers keep their names in
    the file. ``example_args`` is a Tensor/array or a tuple of them; their shapes are the
    model's input shapes, except dimension 0 when ``dynamic_batch``. Returns the ModelProto
    bytes and writes them to ``path`` when given.
    """
    from ..autograd import grad_mode
    from ..nn import Module

    args = _as_tensors(example_args)
    names = {}
    was_training = None
    if isinstance(model_or_fn, Module):
        names = {id(t): n for n, t in model_or_fn.named_parameters()}
        names.update({id(t): n for n, t in model_or_fn.named_buffers()})
        was_training = model_or_fn.training
        model_or_fn.eval()
    try:
        with grad_mode.no_grad():
            graph = _trace(model_or_fn, args)
    finally:
        if was_training:
            model_or_fn.train()
    return export_graph(graph, path, input_names=input_names, output_names=output_names,
                        dynamic_batch=dynamic_batch, tensor_names=names)
