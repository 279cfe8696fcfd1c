"""The graph IR: :class:`Graph` of :class:`Node` over :class:`Value`, and its printed form.

A graph is straight-line and functional: every value is written once. In-place updates and
the parameter, gradient and optimizer-state changes a training step makes are recorded as new
values plus *write-backs* (``Graph.writebacks``) that the executor applies after the run.

Values come from five places (``Value.kind``):

- ``"input"``: the i-th tensor argument of the compiled function (``Value.index``);
- ``"state"``: a tensor that existed outside the function (a parameter, a buffer, an
  optimizer's state, a captured tensor), read by reference on every run (``Value.tensor``);
- ``"grad"``: the ``.grad`` of such a tensor, read on every run (``Value.tensor`` is the owner);
- ``"const"``: an array fixed at trace time (``Value.array``), e.g. ``ember.ones(3)`` made
  inside the function;
- ``"node"``: an output of a node (``Value.producer``, output number ``Value.index``), and
  ``"side"``: an array a node leaves for its backward (im2col columns, pooling positions,
  an LSTM's gate activations), named by ``Value.index`` (workspace position or cache slot).
"""

from __future__ import annotations

import numpy as np

from ..errors import shape_str

_KINDS = ("input", "state", "grad", "const", "node", "side")


class Value:
    """One array-valued result in the graph (shape and dtype known at trace time)."""

    __slots__ = ("id", "shape", "dtype", "kind", "producer", "index", "tensor", "array",
                 "users", "layout", "__weakref__")

    def __init__(self, vid: int, shape: tuple, dtype, kind: str, *, producer=None, index=0,
                 tensor=None, array=None):
        assert kind in _KINDS, kind
        self.id = vid
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.kind = kind
        self.producer = producer
        self.index = index
        self.tensor = tensor
        self.array = array
        self.users: list = []  # nodes reading this value (filled by Graph.link)
        # "channels_last": a 4-D NCHW value stored NHWC in memory when traced (the oneDNN
        # backend's conv/pool outputs); a planned buffer for it keeps that layout
        self.layout = None

    @property
    def name(self) -> str:
        return f"%{self.id}"

    @property
    def nbytes(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n * self.dtype.itemsize

    def type_str(self) -> str:
        return f"{self.dtype.name}{shape_str(self.shape)}"

    def __repr__(self) -> str:
        return f"<Value {self.name} {self.kind} {self.type_str()}>"


class Node:
    """One op application: ``outputs = op.forward(*inputs, **attrs)``.

    ``op`` is a registry :class:`~ember.ops.registry.Op` (or an object with the same
    ``name``/``forward``). ``dynamic`` maps attribute names to values computed in the graph
    (e.g. conv's ``cols`` taken from its forward's cache). ``multi`` says the forward returns
    ``(outputs, workspace)`` (ops run with ``apply_multi``). ``sides`` are the arrays it leaves
    for later nodes: ``(value, where)`` with ``where`` ``("workspace", i)`` or
    ``("cache", attr_name, i)``. ``location`` is the user's ``file:line``.
    """

    __slots__ = ("id", "op", "inputs", "outputs", "attrs", "dynamic", "multi", "sides",
                 "location", "branches")

    def __init__(self, nid: int, op, inputs: list, attrs: dict, location: str, *,
                 multi: bool = False):
        self.id = nid
        self.op = op
        self.inputs = list(inputs)
        self.outputs: list = []
        self.attrs = dict(attrs)
        self.dynamic: dict = {}
        self.multi = multi
        self.sides: list = []
        self.location = location
        self.branches = None  # ember.cond: (predicate value, true nodes, false nodes, ...)

    @property
    def name(self) -> str:
        return self.op.name

    def all_inputs(self) -> list:
        """Inputs plus values read through dynamic attributes."""
        return self.inputs + list(self.dynamic.values())

    def __repr__(self) -> str:
        return f"<Node {self.id} {self.name}>"


class Graph:
    """A traced function: inputs, nodes in execution order, outputs and write-backs.

    ``writebacks`` is a list of ``(how, target, value)``: ``how`` is ``"copy"`` (write the
    value into the target tensor's memory), ``"replace"`` (rebind ``target._data``), ``"grad"``
    (set ``target.grad``; value None clears it); ``target`` is a Tensor or ``("input", i)``.
    """

    def __init__(self, name: str = "fn"):
        self.name = name
        self.values: list[Value] = []
        self.nodes: list[Node] = []
        self.inputs: list[Value] = []
        self.outputs: list = []  # Values (or None for non-tensor leaves of the result)
        self.writebacks: list = []
        self._next = 0
        self._next_node = 0

    # ------------------------------------------------------------------ building
    def new_value(self, shape, dtype, kind: str, **kw) -> Value:
        v = Value(self._next, shape, dtype, kind, **kw)
        self._next += 1
        self.values.append(v)
        return v

    def add_node(self, op, inputs: list, attrs: dict, location: str, *, multi=False) -> Node:
        node = Node(self._next_node, op, inputs, attrs, location, multi=multi)
        self._next_node += 1
        self.nodes.append(node)
        return node

    def link(self) -> None:
        """Recompute ``Value.users`` from the nodes (after a pass changed the graph)."""
        for v in self.values:
            v.users = []
        for node in self.walk():
            for v in node.all_inputs():
                v.users.append(node)

    def walk(self):
        """Every node, including those inside ``ember.cond`` branches."""
        for node in self.nodes:
            yield node
            if node.branches is not None:
                yield from walk_branches(node)

    def live_values(self) -> list[Value]:
        """Values the program reads or returns: the graph outputs and write-back sources."""
        out = [v for v in self.outputs if v is not None]
        out += [wb[2] for wb in self.writebacks if wb[2] is not None]
        return out

    # ------------------------------------------------------------------ printing
    def __str__(self) -> str:
        lines = [f"graph {self.name}("
                 + ", ".join(f"{v.name}: {v.type_str()}" for v in self.inputs) + "):"]
        consts = [v for v in self.values if v.kind in ("state", "grad", "const")
                  and v.users]
        for v in consts:
            what = {"state": "state", "grad": "grad of", "const": "constant"}[v.kind]
            lines.append(f"  {v.name} = {what} {v.type_str()}")
        for node in self.nodes:
            lines.extend(_node_lines(node, "  "))
        outs = ", ".join(v.name if v is not None else "_" for v in self.outputs)
        lines.append(f"  return ({outs})")
        for how, target, v in self.writebacks:
            src = v.name if v is not None else "None"
            lines.append(f"  writeback {how} {_target_str(target)} <- {src}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ember Graph {self.name}: {len(self.nodes)} nodes>"


def walk_branches(node: Node):
    """Every node inside ``node``'s ``ember.cond`` branches, nested ones included."""
    for branch in node.branches[1:3]:
        for inner in branch:
            yield inner
            if inner.branches is not None:
                yield from walk_branches(inner)


def _attr_str(node: Node) -> str:
    parts = []
    roots = {k.split(".", 1)[0] for k in node.dynamic}
    for k, v in node.attrs.items():
        if k == "cache":
            continue
        if k in roots:
            parts.append(f"{k}={_dynamic_str(node, k, v)}")
            continue
        if isinstance(v, np.ndarray):
            v = f"array{shape_str(v.shape)}"
        elif callable(v) and hasattr(v, "__name__"):
            v = v.__name__
        elif not isinstance(v, (int, float, bool, str, tuple, list, type(None), np.dtype)):
            v = type(v).__name__
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _dynamic_str(node: Node, path: str, template) -> str:
    v = node.dynamic.get(path)
    if v is not None:
        return v.name
    if isinstance(template, (tuple, list)):
        items = [_dynamic_str(node, f"{path}.{i}", x) for i, x in enumerate(template)]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(template, np.ndarray):
        return f"array{shape_str(template.shape)}"
    return repr(template)


def _node_lines(node: Node, indent: str) -> list:
    outs = ", ".join(v.name for v in node.outputs) or "()"
    types = ", ".join(v.type_str() for v in node.outputs)
    args = ", ".join(v.name for v in node.inputs)
    attrs = _attr_str(node)
    if attrs:
        args = f"{args}, {attrs}" if args else attrs
    lines = [f"{indent}{outs} = {node.name}({args})  # {types}  {node.location}"]
    for v, where in node.sides:
        owner = node.outputs[0].name if node.outputs else node.name
        lines.append(f"{indent}{v.name} = side {where[0]} of {owner}  # {v.type_str()}")
    if node.branches is not None:
        pred, true_nodes, false_nodes, true_outs, false_outs = node.branches
        lines.append(f"{indent}  if {pred.name}:")
        for inner in true_nodes:
            lines.extend(_node_lines(inner, indent + "    "))
        lines.append(f"{indent}    -> {', '.join(v.name for v in true_outs)}")
        lines.append(f"{indent}  else:")
        for inner in false_nodes:
            lines.extend(_node_lines(inner, indent + "    "))
        lines.append(f"{indent}    -> {', '.join(v.name for v in false_outs)}")
    return lines


def _target_str(target) -> str:
    if isinstance(target, tuple):
        return f"input{target[1]}"
    shape = shape_str(target.shape)
    return f"tensor{shape}@{id(target):x}"
