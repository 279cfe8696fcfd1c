"""``ember.cond``: a branch on a tensor's value that a compiled function keeps as a branch.

Eagerly, ``cond(pred, true_fn, false_fn, *operands)`` is ``true_fn(*operands) if pred else
false_fn(*operands)``. Inside ``ember.compile`` both functions are traced (each into its own
list of nodes) and the generated code runs only the branch ``pred`` selects, on every call:
the graph keeps the ``if``. The branches must return tensors of the same shapes and dtypes
(in the same structure) and must not write into tensors from outside (no in-place updates of
parameters or ``.grad``): their results are the only way out.
"""

from __future__ import annotations

from .. import tracing
from ..autograd import grad_mode
from ..errors import GraphError
from ..tensor import Tensor, _make
from .trace import user_location


class _Cond:
    """The pseudo-op of a cond node (the executor generates an ``if`` for it)."""

    name = "cond"
    stateful = True  # passes must not merge, fold or drop it by its inputs alone
    forward = None


COND = _Cond()


def _check_pred(pred, where: str):
    if isinstance(pred, Tensor):
        if pred._data.size != 1:
            raise GraphError(f"{where}: ember.cond: pred must have exactly one element, got a "
                             f"tensor of shape {list(pred.shape)}")
        return pred
    if isinstance(pred, (bool, int, float)):
        return bool(pred)
    raise TypeError(f"{where}: ember.cond: pred must be a Tensor or a Python bool, got "
                    f"{type(pred).__name__}")


def _flat(obj, out: list, what: str, where: str):
    if isinstance(obj, Tensor):
        out.append(obj)
        return "T"
    if isinstance(obj, (list, tuple)):
        return (type(obj), tuple(_flat(x, out, what, where) for x in obj))
    raise GraphError(f"{where}: ember.cond: {what} must return tensors (or tuples/lists of "
                     f"tensors), got {type(obj).__name__}")


def _build(spec, tensors: list, pos: list):
    if spec == "T":
        t = tensors[pos[0]]
        pos[0] += 1
        return t
    typ, items = spec
    return typ(_build(s, tensors, pos) for s in items)


def cond(pred, true_fn, false_fn, *operands):
    """Run ``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)``.

    ``pred`` is a one-element tensor (or a Python bool). Both functions return tensors of the
    same shapes and dtypes. In a compiled function the choice is made on every call, from the
    value ``pred`` has then (``if loss > 0:`` would fail to trace; this does not). Gradients
    through ``cond`` in a compiled function are not supported yet: use ``ember.where``, which
    computes both sides, when you need them.

    Example::

        y = ember.cond(x.sum() > 0, lambda x: x * 2, lambda x: -x, x)
    """
    where = user_location(1)
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError(f"{where}: ember.cond: true_fn and false_fn must be callable")
    pred = _check_pred(pred, where)
    tracer = tracing.current
    if tracer is None or not isinstance(pred, Tensor):
        if isinstance(pred, Tensor):
            pred = bool(pred._data.reshape(()).item())
        return true_fn(*operands) if pred else false_fn(*operands)
    if grad_mode.enabled and any(isinstance(t, Tensor) and t._requires_grad for t in operands):
        raise GraphError(f"{where}: ember.cond: gradients through cond are not supported in "
                         "a compiled function yet; use ember.where(pred, a, b) (both sides "
                         "are computed) or run the branch under ember.no_grad()")
    pred_value = tracer.value_of(pred)
    taken = bool(pred._data.reshape(()).item())
    branches = []
    for fn, what in ((true_fn, "true_fn"), (false_fn, "false_fn")):
        before = dict(tracer.by_array)
        grads = {k: t._grad for k, (t, _) in tracer.grad_owners.items()}
        tracer.branch_stack.append([])
        try:
            result = fn(*operands)
        finally:
            nodes = tracer.branch_stack.pop()
        changed = [key for key, v in before.items()
                   if key in tracer.by_array and tracer.by_array[key] is not v]
        changed += [id(arr) for _, v, arr in tracer.states.values()
                    if id(arr) not in before and tracer.by_array.get(id(arr)) is not v]
        for _ in changed[:1]:
                raise GraphError(f"{where}: ember.cond: {what} writes into a tensor from "
                                 "outside the branch (an in-place update); branches may only "
                                 "return new tensors")
        for k, (t, _) in tracer.grad_owners.items():
            if k in grads and t._grad is not grads[k]:
                raise GraphError(f"{where}: ember.cond: {what} changes a .grad; branches may "
                                 "only return new tensors")
        outs: list = []
        spec = _flat(result, outs, what, where)
        branches.append((nodes, outs, spec))
    (t_nodes, t_outs, t_spec), (f_nodes, f_outs, f_spec) = branches
    if t_spec != f_spec or len(t_outs) != len(f_outs):
        raise GraphError(f"{where}: ember.cond: true_fn and false_fn return different "
                         "structures")
    for i, (a, b) in enumerate(zip(t_outs, f_outs)):
        if a._data.shape != b._data.shape or a._data.dtype != b._data.dtype:
            raise GraphError(
                f"{where}: ember.cond: result {i} differs between the branches: "
                f"{a.dtype.name}{list(a.shape)} from true_fn, {b.dtype.name}{list(b.shape)} "
                "from false_fn")
    graph = tracer.graph
    node = graph.add_node(COND, [pred_value], {}, where)
    if tracer.branch_stack:  # a cond inside a branch of another cond
        graph.nodes.pop()
        tracer.branch_stack[-1].append(node)
    node.branches = (pred_value, t_nodes, f_nodes,
                     [tracer.value_of(t) for t in t_outs],
                     [tracer.value_of(t) for t in f_outs])
    results = []
    for i, t in enumerate(t_outs if taken else f_outs):
        # a copy (free: only at trace time) so the result is the cond's value, never an
        # operand's, even when a branch returns its input unchanged
        arr = t._data.copy()
        v = graph.new_value(arr.shape, arr.dtype, "node", producer=node, index=i)
        node.outputs.append(v)
        tracer._bind(arr, v)
        results.append(_make(arr))
    return _build(t_spec, results, [0])
