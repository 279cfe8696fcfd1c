"""Graph -> ONNX: walk an ember :class:`~ember.graph.ir.Graph` and emit ONNX nodes.

``LOWERINGS`` maps every ember op name that has an ONNX form to a function
``(builder, node, input_names) -> output_name(s)``; the families live in ``lower_*.py``.
Values of kind ``"state"`` (parameters, buffers) and ``"const"`` become initializers holding
their current values; ``"input"`` values become the model's inputs. Nodes whose results no
output needs (the statistics a fused ``LayerNormalization`` recomputes, the projection a fused
``LSTM`` takes over) are pruned at the end.

Only forward-only graphs lower: write-backs (in-place updates of parameters), gradients and
``ember.cond`` branches have no inference meaning here and raise a GraphError, as does an op
without a lowering (naming the op and the user's source line).
"""

from __future__ import annotations

import numpy as np

from ..errors import GraphError
from . import proto
from ._builder import Builder, Unsupported
from .lower_elementwise import LOWERINGS as _ELEMENTWISE
from .lower_movement import LOWERINGS as _MOVEMENT
from .lower_nn import LOWERINGS as _NN
from .lower_reduce import LOWERINGS as _REDUCE

__all__ = ["LOWERINGS", "OPSET", "lower_graph"]

OPSET = 17
"""The ONNX opset exported models import (LayerNormalization needs 17)."""

LOWERINGS: dict = {**_ELEMENTWISE, **_MOVEMENT, **_REDUCE, **_NN}
"""ember op name -> lowering function ``(builder, node, input_names) -> name(s)``."""


def _where(node) -> str:
    return f" (at {node.location})" if node.location else ""


def _names(given, count: int, default: str, what: str) -> list:
    if given is None:
        return [f"{default}_{i}" if count > 1 else default for i in range(count)]
    given = [given] if isinstance(given, str) else list(given)
    if len(given) != count or len(set(given)) != count:
        raise GraphError(f"onnx export: {what} must be {count} distinct name(s), got {given}")
    return given


def _batch_size(graph) -> int | None:
    for v in graph.inputs:
        if v.shape:
            return v.shape[0]
    return None


def _dims(v, batch, dynamic: bool) -> list:
    dims = list(v.shape)
    if dynamic and dims and dims[0] == batch:
        dims[0] = "batch"
    return dims


class _Namer:
    """ONNX names for the graph's values; state/const values become initializers."""

    def __init__(self, builder: Builder, tensor_names: dict | None):
        self.b = builder
        self.tensor_names = tensor_names or {}
        self.by_tensor: dict = {}

    def name(self, v, node) -> str:
        b = self.b
        if v.id in b.names:
            return b.names[v.id]
        if v.kind == "state":
            key = id(v.tensor)
            if key not in self.by_tensor:
                label = self.tensor_names.get(key) or f"state_{v.id}"
                data = np.array(v.tensor._data, dtype=v.dtype, copy=True).reshape(v.shape)
                self.by_tensor[key] = b.const(data, name=label)
            b.names[v.id] = self.by_tensor[key]
        elif v.kind == "const":
            b.names[v.id] = b.const(np.asarray(v.array, dtype=v.dtype).reshape(v.shape),
                                    name=f"const_{v.id}")
        else:
            what = {"grad": "a gradient (.grad)", "side": "a saved backward workspace"}.get(
                v.kind, f"value {v.name} before it is computed")
            raise GraphError(f"onnx export: op '{node.name}'{_where(node)} reads {what}; only "
                             "forward-only graphs (traced under ember.no_grad()) export")
        return b.names[v.id]


def lower_graph(graph, *, input_names=None, output_names=None, dynamic_batch: bool = False,
                tensor_names: dict | None = None, doc: str = "") -> bytes:
    """Serialize ``graph`` as an ONNX ModelProto (bytes).

    ``input_names``/``output_names`` name the model's inputs and outputs (default ``input``/
    ``output``, numbered when there are several); ``dynamic_batch`` makes dimension 0 of
    every input and output symbolic (``"batch"``); ``tensor_names`` maps ``id(tensor)`` of
    parameters to initializer names (``export`` passes the module's parameter names).
    """
    if graph.writebacks:
        raise GraphError("onnx export: the graph updates tensors in place (write-backs, e.g. "
                         "a training step or batch-norm statistics in train mode); export a "
                         "forward pass traced under ember.no_grad() in eval mode")
    if any(v is None for v in graph.outputs) or not graph.outputs:
        raise GraphError("onnx export: every output of the function must be a Tensor")
    b = Builder(dynamic_batch=dynamic_batch, batch=_batch_size(graph))
    for node in graph.nodes:
        for v in node.all_inputs():
            b.users[v.id].append(node)
    in_names = _names(input_names, len(graph.inputs), "input", "input_names")
    for v, name in zip(graph.inputs, in_names):
        b.names[v.id] = b.reserve(name)
    out_names = _names(output_names, len(graph.outputs), "output", "output_names")
    for name in out_names:
        if b.reserve(name) != name:
            raise GraphError(f"onnx export: output name {name!r} is also an input name")
    namer = _Namer(b, tensor_names)
    for node in graph.nodes:
        _lower_node(b, namer, node)
    for v, name in zip(graph.outputs, out_names):
        src = b.names.get(v.id) or namer.name(v, _OutputNode)
        b.nodes.append(("Identity", [src], [name], {}))
    b.prune(out_names)
    batch = b.batch
    inputs = [proto.value_info(n, v.dtype, _dims(v, batch, dynamic_batch))
              for v, n in zip(graph.inputs, in_names)]
    outputs = [proto.value_info(n, v.dtype, _dims(v, batch, dynamic_batch))
               for v, n in zip(graph.outputs, out_names)]
    body = proto.graph(graph.name or "ember", b.encode_nodes(), inputs, outputs,
                       b.encode_initializers())
    return proto.model(body, OPSET, producer_version=_version(), doc=doc)


class _OutputNode:  # stands in for a node in error messages about graph outputs
    name = "return"
    location = ""


def _lower_node(b: Builder, namer: _Namer, node) -> None:
    if node.branches is not None:
        raise GraphError(f"onnx export: ember.cond{_where(node)} has no ONNX lowering yet")
    if node.dynamic:
        raise GraphError(f"onnx export: op '{node.name}'{_where(node)} reads attributes "
                         "computed in the graph (a training-graph node); export a forward "
                         "pass traced under ember.no_grad()")
    steps = getattr(node.op, "steps", None)
    if steps is not None:
        # a node of ember.compile's elementwise fusion: its member nodes, one by one (ONNX
        # Runtime does its own fusion)
        for step in steps:
            _lower_node(b, namer, step)
        b.names[node.outputs[0].id] = b.names[node.op.out.id]
        return
    lowering = LOWERINGS.get(node.name)
    if lowering is None:
        raise GraphError(f"onnx export: op '{node.name}'{_where(node)} has no ONNX lowering "
                         f"(ember.onnx.LOWERINGS lists the {len(LOWERINGS)} ops that have one)")
    ins = [namer.name(v, node) for v in node.inputs]
    try:
        result = lowering(b, node, ins)
    except Unsupported as why:
        raise GraphError(f"onnx export: op '{node.name}'{_where(node)}: {why}") from None
    results = [result] if isinstance(result, str) else list(result)
    if len(results) != len(node.outputs):
        raise GraphError(f"onnx export: lowering of '{node.name}' gave {len(results)} "
                         f"output(s), the node has {len(node.outputs)}")
    for v, name in zip(node.outputs, results):
        b.names[v.id] = name


def _version() -> str:
    try:
        from .. import __version__
    except ImportError:  # pragma: no cover - a source tree without a version
        return ""
    return str(__version__)
