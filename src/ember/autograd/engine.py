"""The backward pass: walk the recorded nodes from the outputs to the leaves.

Nodes run in reverse topological order (Kahn's algorithm over the nodes reachable from the
roots, with an explicit stack, so a graph 100,000 ops deep needs no recursion), each once,
after every gradient flowing into it has been summed. Leaves are delivered last, each once
with its summed gradient, so a hook on a leaf sees the total. Vjps run with grad mode equal
to ``create_graph``: with ``create_graph=True`` the backward pass is itself recorded and can
be differentiated again.

``autograd.grad`` first marks which nodes lead to the tensors it was asked about, and runs
only those; within a node, ``ctx.needs_input_grad`` is narrowed the same way, so no vjp
computes a gradient nobody asked for.
"""

from __future__ import annotations

import numpy as np

from .. import tracing as _tracing
from ..errors import AutogradError, shape_str
from . import accumulate, anomaly_mode, grad_mode
from .accumulate import accumulate_grad, deliver_leaf, fix_grad, run_hooks
from .node import OUTPUT_SELECT, Node

# Filled on first use: tensor.py imports this package, so these cannot be imported at load.
Tensor = None
_make = None


def _load() -> None:
    global Tensor, _make
    from ..tensor import Tensor as _Tensor
    from ..tensor import _make as _make_fn

    Tensor, _make = _Tensor, _make_fn
    accumulate.load()


# ------------------------------------------------------------------------ helpers


def _as_tensors(value, what: str) -> tuple:
    if isinstance(value, Tensor):
        return (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}") from None
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}] is a {type(t).__name__}, not a Tensor")
    return out


def _as_grads(grads, n: int, what: str):
    if grads is None:
        return None
    grads = (grads,) if isinstance(grads, Tensor) else tuple(grads)
    if len(grads) != n:
        raise AutogradError(f"{what} should be a sequence of length {n} (one per output), "
                            f"got {len(grads)}")
    return grads


def _root_grad(i: int, root, g):
    """The gradient seeding output ``i``: ones for a scalar, else the given tensor checked."""
    data = root._data
    if g is None:
        if data.size != 1:
            raise AutogradError(
                f"grad can be implicitly created only for scalar outputs; output {i} has "
                f"shape {shape_str(data.shape)}, so pass a gradient of that shape"
            )
        return _make(np.ones_like(data))
    if not isinstance(g, Tensor):
        g = _make(np.asarray(g, dtype=data.dtype))
    if g._data.shape != data.shape:
        raise AutogradError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {shape_str(g._data.shape)} "
            f"and output[{i}] has a shape of {shape_str(data.shape)}"
        )
    if g._data.dtype != data.dtype:
        g = g.to(root.dtype)
    return g


def _add(prev, g, create_graph: bool):
    """Sum two gradients of the same tensor (recorded only when building a graph)."""
    if create_graph or _tracing.current is not None:
        return prev + g
    return _make(prev._data + g._data)


def _count_consumers(root_keys) -> dict:
    """For every node reachable from the roots, how many edges lead into it."""
    counts: dict = {}
    stack = []
    for k in root_keys:
        if type(k) is Node and k not in counts:
            counts[k] = 0
            stack.append(k)
    while stack:
        for e in stack.pop().edges:
            if type(e) is Node:
                c = counts.get(e)
                if c is None:
                    counts[e] = 1
                    stack.append(e)
                else:
                    counts[e] = c + 1
    return counts


def _prune(root_keys, capture: dict):
    """For ``autograd.grad``: per node, the mask of edges that lead to a captured key (or
    False when none does and the node is not captured itself), and consumer counts over the
    kept edges. Post-order depth-first walk with an explicit stack."""
    state: dict = {}
    for root in root_keys:
        if type(root) is not Node or root in state:
            continue
        state[root] = None
        nodes, iters = [root], [iter(root.edges)]
        while nodes:
            for e in iters[-1]:
                if type(e) is Node and e not in state:
                    state[e] = None
                    nodes.append(e)
                    iters.append(iter(e.edges))
                    break
            else:
                node = nodes.pop()
                iters.pop()
                mask = tuple([(state[e] is not False) if type(e) is Node
                              else (e is not None and e in capture) for e in node.edges])
                state[node] = mask if (True in mask or node in capture) else False
    counts: dict = {}
    for node, mask in state.items():
        if mask is False:
            continue
        counts.setdefault(node, 0)
        for e, keep in zip(node.edges, mask):
            if keep and type(e) is Node:
                counts[e] = counts.get(e, 0) + 1
    return counts, state


# ------------------------------------------------------------------------ the engine


def run_backward(roots: tuple, grads, retain_graph: bool, create_graph: bool,
                 capture: dict | None = None) -> None:
    """Run the backward pass from ``roots`` seeded with ``grads``.

    ``capture``: ``{key: None}`` for ``autograd.grad``, keyed by a leaf tensor or the node of
    a non-leaf; their gradients are stored there instead of accumulated into ``.grad``, and
    only nodes leading to them run.
    """
    if Tensor is None:
        _load()
    buffers: dict = {}
    root_keys = []
    for i, r in enumerate(roots):
        if not r._requires_grad:
            raise AutogradError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = _root_grad(i, r, None if grads is None else grads[i])
        key = r._node if r._node is not None else r
        prev = buffers.get(key)
        buffers[key] = g if prev is None else _add(prev, g, create_graph)
        root_keys.append(key)
    unique_roots = dict.fromkeys(root_keys)
    if capture is None:
        counts = _count_consumers(root_keys)
        masks = None
        ready = [k for k in unique_roots if type(k) is Node and counts[k] == 0]
        leaves = [k for k in unique_roots if type(k) is not Node]
    else:
        counts, masks = _prune(root_keys, capture)
        ready = [k for k in unique_roots
                 if type(k) is Node and masks[k] is not False and counts[k] == 0]
        leaves = [k for k in unique_roots if type(k) is not Node and k in capture]

    anomaly = anomaly_mode.enabled
    prev_mode = grad_mode.enabled
    grad_mode.enabled = create_graph
    try:
        while ready:
            node = ready.pop()
            g = buffers.pop(node, None)
            mask = None if masks is None else masks[node]
            edges = node.edges
            if g is None:  # nothing reached this node: its inputs get nothing from it
                for j, e in enumerate(edges):
                    if type(e) is Node and (mask is None or mask[j]):
                        c = counts[e] - 1
                        counts[e] = c
                        if c == 0:
                            ready.append(e)
                continue
            if node.pre_hooks:
                g = run_hooks(node.pre_hooks, g, f"the output of {node.name}")
            if node.retained is not None:
                t = node.retained()
                if t is not None and t._node is node:
                    accumulate.retain(t, g, create_graph)
            if capture is not None and node in capture:
                capture[node] = g
            if node.op is OUTPUT_SELECT:  # one output of a multi-output Function
                fn = edges[0]
                if mask is None or mask[0]:
                    slots = buffers.get(fn)
                    if slots is None:
                        slots = buffers[fn] = [None] * node.attrs["n_outputs"]
                    k = node.attrs["index"]
                    slots[k] = g if slots[k] is None else _add(slots[k], g, create_graph)
                    c = counts[fn] - 1
                    counts[fn] = c
                    if c == 0:
                        ready.append(fn)
                continue
            specs = node._inputs
            if specs is None:
                node._raise_freed()
            if mask is None:
                if anomaly:
                    input_grads = _vjp_checked(node, g)
                else:
                    input_grads = node.op.vjp(node, g)
            else:
                if True not in mask:  # wanted only for its own gradient (captured above)
                    continue
                node._mask = mask
                try:
                    input_grads = _vjp_checked(node, g) if anomaly else node.op.vjp(node, g)
                finally:
                    node._mask = None
            if type(input_grads) is not tuple:
                input_grads = tuple(input_grads) if type(input_grads) is list else (input_grads,)
            if len(input_grads) != len(edges):
                raise AutogradError(
                    f"Function {node.name} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(input_grads)})"
                )
            if not retain_graph:
                node.release()
            for j, e in enumerate(edges):
                if e is None or (mask is not None and not mask[j]):
                    continue
                ig = input_grads[j]
                if ig is not None:
                    spec = specs[j]
                    data = ig._data if ig.__class__ is Tensor else None
                    # `is not` on dtypes is the fast test; fix_grad compares properly
                    if type(spec) is tuple:
                        if data is None or data.shape != spec[0] or data.dtype is not spec[1]:
                            ig = fix_grad(node, j, ig, spec)
                    elif (data is None or data.shape != spec._data.shape
                          or data.dtype is not spec._data.dtype):
                        ig = fix_grad(node, j, ig, spec)
                if type(e) is Node:
                    if ig is not None:
                        prev = buffers.get(e)
                        if prev is None:
                            buffers[e] = ig
                        elif create_graph or _tracing.current is not None:
                            buffers[e] = prev + ig
                        else:  # _add inlined: this is the per-edge hot path
                            buffers[e] = _make(prev._data + ig._data)
                    c = counts[e] - 1
                    counts[e] = c
                    if c == 0:
                        ready.append(e)
                elif ig is not None:
                    prev = buffers.get(e)
                    if prev is None:
                        leaves.append(e)
                        buffers[e] = ig
                    else:
                        buffers[e] = _add(prev, ig, create_graph)
        # drop the loop's references, or a leaf could not adopt its gradient without a copy
        g = ig = prev = data = input_grads = None
        for leaf in leaves:
            deliver_leaf(leaf, buffers.pop(leaf), capture, create_graph)
    finally:
        grad_mode.enabled = prev_mode


def _vjp_checked(node: Node, g):
    """The vjp in anomaly mode: errors carry the forward stack; NaN gradients raise."""
    try:
        input_grads = node.op.vjp(node, g)
    except Exception as exc:
        anomaly_mode.annotate(node, exc)
        raise
    if anomaly_mode.check_nan:
        anomaly_mode.check_gradients(
            node, input_grads if type(input_grads) in (tuple, list) else (input_grads,))
    return input_grads


# ------------------------------------------------------------------------ public API


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradient of ``tensors`` w.r.t. the graph leaves into their ``.grad``.

    grad_tensors: the gradient of each of ``tensors`` (None for a one-element tensor).
    retain_graph: keep saved values for another backward (default: ``create_graph``).
    create_graph: record the backward pass, for higher-order gradients.
    inputs: accumulate only into these tensors' ``.grad`` (leaves or not).

    PyTorch's deprecated ``grad_variables`` argument is not accepted.
    """
    if Tensor is None:
        _load()
    tensors = _as_tensors(tensors, "tensors")
    grads = _as_grads(grad_tensors, len(tensors), "grad_tensors")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(tensors, grads, retain_graph, create_graph)
        return
    inputs = _as_tensors(inputs, "inputs")
    if not inputs:
        raise AutogradError("`inputs` argument to `backward()` cannot be empty.")
    keys = _input_keys(inputs)
    capture = dict.fromkeys(keys)
    run_backward(tensors, grads, retain_graph, create_graph, capture)
    for t, k in zip(inputs, keys):
        g = capture.pop(k, None)  # pop: a tensor listed twice accumulates once
        if g is not None:
            accumulate_grad(t, g, create_graph)


def _input_keys(inputs) -> list:
    keys = []
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise AutogradError(
                f"One of the differentiated Tensors does not require grad: input {i} "
                f"(shape {shape_str(t.shape)}) has requires_grad=False"
            )
        keys.append(t._node if t._node is not None else t)
    return keys


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (no ``.grad`` is touched).

    inputs: leaf or non-leaf tensors; one gradient is returned per input.
    grad_outputs: the gradient of each output (None for a one-element output).
    allow_unused: an input the outputs do not depend on gives None instead of an error
        (zeros with ``materialize_grads=True``).
    only_inputs: ignored, as in PyTorch (deprecated there).

    Only the part of the graph leading to ``inputs`` is run.
    """
    if Tensor is None:
        _load()
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True (vmap over grad_outputs) is "
                                  "not supported by ember; loop over the batch instead")
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: materialize_grads=True needs allow_unused=True or unset")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tensors(outputs, "outputs")
    inputs_t = _as_tensors(inputs, "inputs")
    if not inputs_t:
        raise AutogradError("grad requires at least one input (got an empty inputs)")
    grads = _as_grads(grad_outputs, len(outputs), "grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    keys = _input_keys(inputs_t)
    capture = dict.fromkeys(keys)
    run_backward(outputs, grads, retain_graph, create_graph, capture)
    result = []
    for i, (t, k) in enumerate(zip(inputs_t, keys)):
        g = capture[k]
        if g is None:
            if not allow_unused:
                raise AutogradError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:
                g = _make(np.zeros_like(t._data))
        elif not create_graph and g._node is not None:
            g = g.detach()
        result.append(g)
    return tuple(result)
