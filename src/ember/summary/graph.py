"""A module-level ``GraphDef`` of an ember model, for TensorBoard's Graphs tab.

torch's ``add_graph`` records every ATen op with a JIT trace. ember has no JIT, so the graph
is built at the granularity of modules: the model runs once with a forward hook on every leaf
module (one without children); each call becomes a node named by the module's path
(``Net/encoder/fc1``, so TensorBoard nests it under ``encoder``), with an edge from each
earlier module whose output reaches this call's inputs through the autograd graph
(functional ops between modules — ``F.relu``, ``x.flatten(1)`` — fold into those edges).
"""

from __future__ import annotations

from typing import Any

from ..autograd import enable_grad
from ..tensor import Tensor, _make
from . import proto

__all__ = ["graph_def", "GraphResult"]


class GraphResult:
    """The encoded ``GraphDef`` and a printable summary of its nodes."""

    def __init__(self, encoded: bytes, nodes: list[tuple[str, str, list[str], list]]):
        self.encoded = encoded
        self.nodes = nodes
        self.summary = "\n".join(f"{name} ({op}) <- {', '.join(inputs) or '-'} {shapes}"
                                 for name, op, inputs, shapes in nodes)


def _tensors(obj: Any) -> list[Tensor]:
    """The tensors inside a (possibly nested) tuple/list/dict output, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


def _key(x: Any) -> Any:
    """What identifies the producer of a tensor or an autograd edge target."""
    if isinstance(x, Tensor):
        return x._node if x._node is not None else id(x)
    return x  # an autograd Node


class _Tracer:
    def __init__(self) -> None:
        self.producers: dict[Any, str] = {}  # tensor/node key -> graph node name
        self.nodes: list[tuple[str, str, list[str], list]] = []
        self.keep: list[Tensor] = []  # hold tensors so their ids are not reused meanwhile
        self.used_names: dict[str, int] = {}

    def sources(self, tensor: Tensor) -> list[str]:
        """Graph nodes whose outputs flow into ``tensor``, found by walking autograd edges
        back until a recorded producer (or a leaf) is met."""
        found: list[str] = []
        stack, seen = [tensor], set()
        while stack:
            x = stack.pop()
            key = _key(x)
            if key in seen:
                continue
            seen.add(key)
            name = self.producers.get(key)
            if name is not None:
                if name not in found:
                    found.append(name)
                continue
            node = x._node if isinstance(x, Tensor) else x
            edges = getattr(node, "edges", None)
            if edges:
                stack.extend(e for e in reversed(edges) if e is not None)  # in input order
        return found

    def add(self, name: str, op: str, inputs: list[Tensor], outputs: list[Tensor]) -> str:
        count = self.used_names.get(name, 0)
        self.used_names[name] = count + 1
        if count:
            name = f"{name}_{count}"  # a module called more than once (weight sharing, RNN)
        sources: list[str] = []
        for t in inputs:
            for s in self.sources(t):
                if s not in sources:
                    sources.append(s)
        for t in outputs:
            self.producers[_key(t)] = name
            self.keep.append(t)
        self.nodes.append((name, op, sources, [list(t.shape) for t in outputs]))
        return name


def _node_def(name: str, op: str, inputs: list[str], shapes: list) -> bytes:
    # NodeDef: name=1, op=2, input=3; attr=5 as map<string, AttrValue>, where
    # AttrValue.list=1 holds ListValue.shape=7 (what TensorBoard labels edges with)
    shape_list = b"".join(proto.raw(7, proto.tensor_shape(s), True) for s in shapes)
    attr = proto.raw(5, proto.map_entry("_output_shapes", proto.raw(1, shape_list, True)), True)
    return (proto.string(1, name) + proto.string(2, op)
            + b"".join(proto.string(3, i, True) for i in inputs) + attr)


def graph_def(model: Any, input_to_model: Any = None) -> GraphResult:
    """Run ``model(*inputs)`` once and return its module-level graph (see module docs)."""
    if not hasattr(model, "named_modules") or not hasattr(model, "register_forward_hook"):
        raise TypeError(f"add_graph: model must be an ember.nn.Module, got "
                        f"{type(model).__name__}")
    if input_to_model is None:
        raise ValueError("add_graph: input_to_model is required (the model is run once on it "
                         "to find how its modules connect)")
    args = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
    root = type(model).__name__
    tracer = _Tracer()
    # fresh leaves that require grad, so autograd records paths from the inputs onwards
    traced_args = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            data = a.detach().numpy()
            a = _make(data.copy(), requires_grad=data.dtype.kind == "f")
            tracer.add(f"input/input.{i}", "IO Node", [], [a])
        traced_args.append(a)

    handles = []
    for path, module in model.named_modules():
        if path and not any(True for _ in module.children()):
            name = f"{root}/{path.replace('.', '/')}"
            op = type(module).__name__

            def hook(mod, inputs, output, name=name, op=op):
                tracer.add(name, op, _tensors(inputs), _tensors(output))

            handles.append(module.register_forward_hook(hook))
    try:
        with enable_grad():
            output = model(*traced_args)
    finally:
        for h in handles:
            h.remove()
    for i, t in enumerate(_tensors(output)):
        tracer.add(f"output/output.{i}", "IO Node", [t], [t])
    # VersionDef.producer=1: the GraphDef version TensorBoard's importer expects (as torch)
    versions = proto.raw(4, proto.uint(1, 22), True)
    encoded = b"".join(proto.raw(1, _node_def(*n), True) for n in tracer.nodes) + versions
    return GraphResult(encoded, tracer.nodes)
