"""A stand-in tracer for the ONNX tests: run a function eagerly under ``no_grad`` while
recording every ``apply``/``apply_multi`` into an ember Graph, exactly as the op wrappers call
them (op, input tensors, attrs). Tensors the function did not compute are graph inputs (the
arguments), state (parameters: tensors that require grad or were passed as ``state``) or
constants (everything else, e.g. a scalar ``eps`` or an ``ember.zeros`` initial state).

Used until ``ember.graph.trace`` lands; the graphs it builds are the ones the IR documents.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import ember
from ember.graph.ir import Graph
from ember.ops import registry


@contextmanager
def _patched(apply, apply_multi):
    orig = (registry.apply, registry.apply_multi)
    swapped = []
    for mod in list(sys.modules.values()):
        if mod is None or not getattr(mod, "__name__", "").startswith("ember"):
            continue
        for attr, new, old in (("apply", apply, orig[0]), ("apply_multi", apply_multi, orig[1])):
            if getattr(mod, attr, None) is old:
                setattr(mod, attr, new)
                swapped.append((mod, attr, old))
    try:
        yield
    finally:
        for mod, attr, old in swapped:
            setattr(mod, attr, old)


def record(fn, *args, name: str = "fn"):
    """``(graph, eager_outputs)`` for ``fn(*args)`` (args: ember Tensors)."""
    g = Graph(name)
    values = {}  # id(tensor) -> Value
    keep = []  # keep recorded tensors alive so their ids stay unique

    def value_of(t):
        v = values.get(id(t))
        if v is None:
            data = t._data
            if t.requires_grad:
                v = g.new_value(data.shape, data.dtype, "state", tensor=t)
            else:
                v = g.new_value(data.shape, data.dtype, "const", array=data.copy())
            values[id(t)] = v
            keep.append(t)
        return v

    def add(op, inputs, attrs, outs, multi):
        node = g.add_node(op, [value_of(t) for t in inputs], attrs, "test_record.py:0",
                          multi=multi)
        for k, t in enumerate(outs):
            v = g.new_value(t._data.shape, t._data.dtype, "node", producer=node, index=k)
            node.outputs.append(v)
            values[id(t)] = v
            keep.append(t)

    orig_apply, orig_multi = registry.apply, registry.apply_multi

    def apply(op, inputs, **attrs):
        out = orig_apply(op, inputs, **attrs)
        add(op, inputs, attrs, [out], False)
        return out

    def apply_multi(op, inputs, **attrs):
        outs = orig_multi(op, inputs, **attrs)
        add(op, inputs, attrs, outs, True)
        return outs

    for k, a in enumerate(args):
        v = g.new_value(a.shape, a._data.dtype, "input", index=k)
        g.inputs.append(v)
        values[id(a)] = v
        keep.append(a)
    with _patched(apply, apply_multi), ember.no_grad():
        result = fn(*args)
    outs = result if isinstance(result, (tuple, list)) else (result,)
    g.outputs = [value_of(t) for t in outs]
    g.link()
    return g, [t.numpy() for t in outs]
