"""The backward pass: walk the recorded nodes from the outputs to the leaves.

Nodes run in reverse topological order (Kahn's algorithm over the nodes reachable from the
roots), each once, after every gradient flowing into it has been summed. Vjps run with grad
mode equal to ``create_graph``, so with ``create_graph=True`` the backward pass is itself
recorded and can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from ..errors import AutogradError, ShapeError, shape_str
from . import grad_mode
from .node import Node


def _tensor_cls():
    from ..tensor import Tensor

    return Tensor


def _make_root_grads(roots, grads):
    from ..tensor import _make

    out = []
    for i, r in enumerate(roots):
        g = None if grads is None else grads[i]
        if g is None:
            if r._data.size != 1:
                raise AutogradError(
                    f"grad can be implicitly created only for scalar outputs; the output has "
                    f"shape {shape_str(r.shape)}, so pass gradient= (a tensor of that shape)"
                )
            g = _make(np.ones_like(r._data))
        elif not isinstance(g, _tensor_cls()):
            g = _make(np.asarray(g, dtype=r._data.dtype))
        if tuple(g.shape) != tuple(r.shape):
            raise ShapeError(
                f"backward: gradient has shape {shape_str(g.shape)} but the output has shape "
                f"{shape_str(r.shape)}"
            )
        out.append(g)
    return out


def _accumulate(buffers: dict, key, g) -> None:
    prev = buffers.get(key)
    buffers[key] = g if prev is None else prev + g


def _topo_counts(root_keys) -> dict:
    """Number of consumers of each node reachable from the roots."""
    counts: dict = {}
    stack = [k for k in root_keys if isinstance(k, Node)]
    seen = set(id(k) for k in stack)
    while stack:
        node = stack.pop()
        for e in node.edges:
            if isinstance(e, Node):
                counts[e] = counts.get(e, 0) + 1
                if id(e) not in seen:
                    seen.add(id(e))
                    stack.append(e)
    return counts


def _check_grad(node: Node, i: int, g, saved):
    """The gradient for input ``i``, checked for shape and cast to the input's dtype."""
    if type(saved) is tuple:
        shape, np_dtype = saved
    else:
        shape, np_dtype = saved._data.shape, saved._data.dtype
    if g._data.shape != shape:
        raise AutogradError(
            f"{node.name} returned a gradient of shape {shape_str(g.shape)} for input {i}, "
            f"which has shape {shape_str(shape)}"
        )
    if g._data.dtype != np_dtype:
        from ..dtypes import from_numpy_dtype

        g = g.to(from_numpy_dtype(np_dtype))
    return g


def run_backward(roots, grads, retain_graph, create_graph, capture=None):
    """The engine. ``capture``: {key: None} of leaves/nodes whose gradient is returned
    instead of accumulated into ``.grad`` (for ``autograd.grad``)."""
    Tensor = _tensor_cls()
    root_grads = _make_root_grads(roots, grads)
    buffers: dict = {}
    root_keys = []
    for r, g in zip(roots, root_grads):
        if not r._requires_grad:
            raise AutogradError(
                "element 0 of tensors does not require grad and does not have a grad_fn; "
                "did you compute it under no_grad, or from tensors without requires_grad=True?"
            )
        key = r._node if r._node is not None else r
        _accumulate(buffers, key, g)
        root_keys.append(key)

    counts = _topo_counts(root_keys)
    ready = [k for k in dict.fromkeys(root_keys) if counts.get(k, 0) == 0]
    prev_mode = grad_mode.enabled
    grad_mode.enabled = bool(create_graph)
    try:
        while ready:
            key = ready.pop()
            g = buffers.pop(key, None)
            if isinstance(key, Tensor):  # a leaf
                _deliver_leaf(key, g, capture, create_graph)
                continue
            node = key
            if g is None:  # no gradient reached this node: its inputs get none either
                for edge in node.edges:
                    if isinstance(edge, Node):
                        _consume(edge, counts, ready)
                continue
            if node.pre_hooks:
                for hook in list(node.pre_hooks):
                    new = hook(g)
                    if new is not None:
                        g = new
            if node.retained is not None:
                t = node.retained()
                if t is not None and t._node is node:
                    t.grad = g if t.grad is None else t.grad + g
            if capture is not None and node in capture:
                capture[node] = g if capture[node] is None else capture[node] + g
            if node.op.vjp is None:
                raise AutogradError(f"{node.name}: op {node.op.name} is not differentiable")
            input_grads = node.op.vjp(node, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.edges):
                raise AutogradError(
                    f"{node.name} returned {len(input_grads)} gradients for "
                    f"{len(node.edges)} inputs"
                )
            specs = node._inputs
            if not retain_graph:
                node.release()
            for i, (edge, ig) in enumerate(zip(node.edges, input_grads)):
                if edge is None or ig is None:
                    if isinstance(edge, Node):
                        _consume(edge, counts, ready)
                    continue
                if not isinstance(ig, Tensor):
                    raise AutogradError(f"{node.name} returned a {type(ig).__name__}, not a Tensor")
                ig = _check_grad(node, i, ig, specs[i])
                if isinstance(edge, Node):
                    _accumulate(buffers, edge, ig)
                    _consume(edge, counts, ready)
                else:
                    first = edge not in buffers
                    _accumulate(buffers, edge, ig)
                    if first:
                        ready.insert(0, edge)  # leaves last: their sums complete meanwhile
    finally:
        grad_mode.enabled = prev_mode


def _consume(node, counts, ready):
    c = counts[node] - 1
    counts[node] = c
    if c == 0:
        ready.append(node)


def _deliver_leaf(leaf, g, capture, create_graph):
    if g is None:
        return
    if leaf._hooks:
        for hook in list(leaf._hooks):
            new = hook(g)
            if new is not None:
                g = new
    if capture is not None:
        if leaf in capture:
            capture[leaf] = g if capture[leaf] is None else capture[leaf] + g
        return
    if not create_graph:
        g = g.detach() if g._node is not None else g
    from ..tensor import _make

    if leaf.grad is None:
        # own the array: the same gradient object may reach several leaves (a + b)
        leaf.grad = g if create_graph else _make(np.array(g._data, copy=True))
    elif create_graph:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad._data = leaf.grad._data + g._data


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the gradient of ``tensors`` w.r.t. graph leaves and accumulate into ``.grad``.

    With ``inputs``, only those tensors' ``.grad`` are accumulated.
    """
    Tensor = _tensor_cls()
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(tuple(tensors), grad_tensors, retain_graph, create_graph)
        return
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    captured = grad(tensors, inputs, grad_tensors, retain_graph, create_graph, allow_unused=True)
    for t, g in zip(inputs, captured):
        if g is not None:
            t.grad = g if t.grad is None else t.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned rather than accumulated.

    Returns a tuple with one tensor per input. An input the outputs do not depend on raises
    unless ``allow_unused=True`` (then it is None, or zeros with ``materialize_grads``).
    """
    Tensor = _tensor_cls()
    single = isinstance(outputs, Tensor)
    outputs = (outputs,) if single else tuple(outputs)
    inputs_t = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs_t):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t._requires_grad:
            raise AutogradError(f"grad: inputs[{i}] does not require grad")
    keys = [t._node if t._node is not None else t for t in inputs_t]
    capture = {k: None for k in keys}
    run_backward(outputs, grad_outputs, retain_graph, create_graph, capture)
    result = []
    for i, (t, k) in enumerate(zip(inputs_t, keys)):
        g = capture[k]
        if g is None:
            if not allow_unused:
                raise AutogradError(
                    f"grad: inputs[{i}] was not used to compute the outputs; pass "
                    "allow_unused=True if this is expected"
                )
            if materialize_grads:
                from ..tensor import _make

                g = _make(np.zeros_like(t._data))
        elif not create_graph and g._node is not None:
            g = g.detach()
        result.append(g)
    return tuple(result)
