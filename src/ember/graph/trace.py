"""Tracing: run a function once, eagerly, while recording every op it applies into a Graph.

ember traces on concrete data (the first call really runs, so its results are the eager ones)
and records at the op registry: ``registry.apply``/``apply_multi`` call :meth:`Tracer.record`
after each op. Values are identified by the NumPy array that holds them, so a tensor and its
``detach()``/``.data`` (the same array) are one value.

What the tracer has to know besides ops (each hook checks ``ember.tracing.current``):

- in-place updates (``p.add_``, ``exp_avg.lerp_``, ``running_mean.mul_``) run functionally,
  recorded as ops, and :meth:`rebind` makes the tensor's array stand for the new value;
- a tensor the function did not make (a parameter, an optimizer's state, a captured tensor) is
  a *state* value read by reference on every run; at the end, every state whose value changed
  gets a write-back, and so does every ``.grad`` that was set or cleared;
- random draws are ops whose forward draws from the generator again on every run;
- reading a tensor's value in Python (``if loss > 0``, ``.item()``) raises GraphError at the
  user's line: the graph cannot depend on data.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
import weakref

import numpy as np

from ..errors import GraphError
from .ir import Graph, Value

# ops whose index attribute may hold a boolean mask (data-dependent output shape)
_MASK_INDEXING = frozenset(("index", "index_put"))

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_frame(depth: int = 2):
    """The innermost frame outside the ember package (the user's code), or None."""
    f = sys._getframe(depth)
    while f is not None:
        if not f.f_code.co_filename.startswith(_EMBER_DIR):
            return f
        f = f.f_back
    return None


def user_location(depth: int = 2) -> str:
    """``file:line`` of the user's code that is running now."""
    f = user_frame(depth + 1)
    if f is None:
        return "<ember>"
    return f"{f.f_code.co_filename}:{f.f_lineno}"


def location_of_traceback(tb) -> str | None:
    """``file:line`` of the last user frame in a traceback (where the error surfaced)."""
    where = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if not code.co_filename.startswith(_EMBER_DIR) and code.co_name != "<module>" or (
                not code.co_filename.startswith(_EMBER_DIR)):
            where = f"{code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


_PER_RUN = ("input", "node", "side", "grad")


def _describe(v: Value) -> str:
    what = {"input": f"argument {v.index} of the compiled function",
            "node": f"the result of {v.producer.name if v.producer else 'an op'}",
            "side": "an array an op kept for its backward",
            "grad": "a .grad"}[v.kind]
    return f"{what} ({v.type_str()})"


def _strip(attr, path: str, dynamic: dict):
    if path in dynamic:
        return None
    if isinstance(attr, (tuple, list)):
        return type(attr)(_strip(a, f"{path}.{i}", dynamic) for i, a in enumerate(attr))
    return attr


def _forget(by_array: dict, watch: dict, key: int, _ref) -> None:
    by_array.pop(key, None)
    watch.pop(key, None)


class Tracer:
    """Records one call of a function into :attr:`graph` (see the module docstring)."""

    def __init__(self, name: str = "fn"):
        self.graph = Graph(name)
        self.by_array: dict[int, Value] = {}  # id(ndarray) -> the value it holds now
        self.keep: list = []  # tensors kept alive so that ids stay unique
        self._watch: dict = {}  # id(ndarray) -> weak reference removing it from by_array
        self.states: dict[int, tuple] = {}  # id(tensor) -> (tensor, value, array at start)
        self.inputs: dict[int, int] = {}  # id(input tensor) -> input position
        self.input_tensors: list = []
        self.grad_values: dict[int, Value] = {}  # id(owner) -> its "grad" value
        self.grad_owners: dict[int, tuple] = {}  # id(tensor) -> (tensor, ._grad at first touch)
        self.side_effects_warned: set = set()
        self.branch_stack: list = []  # node lists of ember.cond branches being traced

    # ------------------------------------------------------------------ values
    def add_input(self, t) -> Value:
        """Register tensor argument ``t`` of the traced function."""
        if id(t) in self.inputs:  # the same tensor passed twice is one input
            return self.by_array[id(t._data)]
        v = self.graph.new_value(t._data.shape, t._data.dtype, "input",
                                 index=len(self.input_tensors))
        self.graph.inputs.append(v)
        self.inputs[id(t)] = len(self.input_tensors)
        self.input_tensors.append(t)
        self._bind(t._data, v)
        self.grad_owners.setdefault(id(t), (t, t._grad))
        return v

    def _bind(self, arr: np.ndarray, v: Value) -> None:
        key = id(arr)
        if key not in self._watch:
            # forget an array when it dies (before its id can be reused): the trace must not
            # keep every intermediate of the step alive, or tracing would need the memory of
            # all of them at once
            self._watch[key] = weakref.ref(arr, functools.partial(_forget, self.by_array,
                                                                  self._watch, key))
        self.by_array[key] = v

    def value_of(self, t) -> Value:
        """The value tensor ``t`` holds, registering it as state when it is new to the trace."""
        arr = t._data
        v = self.by_array.get(id(arr))
        if v is not None:
            return v
        owner = self.grad_of(t)
        if owner is not None:
            v = self.graph.new_value(arr.shape, arr.dtype, "grad", tensor=owner)
            self.grad_values[id(owner)] = v
        else:
            origin = self.traced_origin(arr)
            if origin is not None:
                raise GraphError(
                    f"{user_location(2)}: a tensor was made from the memory of "
                    f"{_describe(origin)} outside an op (a raw NumPy view of its array); the "
                    "graph would keep the values of the traced call. This is a bug in the op "
                    "that made it (every tensor computed from tensors must come from an op).")
            v = self.graph.new_value(arr.shape, arr.dtype, "state", tensor=t)
            self.states[id(t)] = (t, v, arr)
            self.grad_owners.setdefault(id(t), (t, t._grad))
        self.keep.append(t)
        self._bind(arr, v)
        return v

    def grad_of(self, t):
        """The tensor whose ``.grad`` ``t`` is (among tensors the trace has seen), or None."""
        for owner, _ in self.grad_owners.values():
            if owner._grad is t and id(owner) not in self.grad_values:
                return owner
        return None

    def same_value(self, copy: np.ndarray, of) -> None:
        """``copy`` (a fresh copy of tensor ``of``'s array) holds the same value."""
        self._bind(copy, self.value_of(of))

    # ------------------------------------------------------------------ recording
    def record(self, op, inputs: tuple, attrs: dict, outputs: tuple, workspace=None,
               multi: bool = False) -> None:
        """Record ``outputs = op(*inputs, **attrs)`` (called by the registry after the op ran)."""
        in_values = [self.value_of(t) for t in inputs]
        node = self.graph.add_node(op, in_values, attrs, user_location(3), multi=multi)
        if self.branch_stack:
            self.graph.nodes.pop()
            self.branch_stack[-1].append(node)
        for k, a in attrs.items():
            if isinstance(a, (np.ndarray, tuple, list)):
                self._dynamic_attr(node, k, a)
        for i, t in enumerate(outputs):
            arr = t._data
            v = self.graph.new_value(arr.shape, arr.dtype, "node", producer=node, index=i)
            if (arr.ndim == 4 and arr.strides[1] == arr.itemsize and arr.shape[1] > 1
                    and not arr.flags.c_contiguous):
                v.layout = "channels_last"
            node.outputs.append(v)
            self._bind(arr, v)
        if workspace is not None:
            for i, a in enumerate(workspace):
                if isinstance(a, np.ndarray) and id(a) not in self.by_array:
                    self._side(node, a, ("workspace", i))
        cache = attrs.get("cache")
        if isinstance(cache, list):
            for i, a in enumerate(cache):
                if isinstance(a, np.ndarray):
                    self._side(node, a, ("cache", "cache", i))
            node.attrs["cache"] = []  # the executor makes a fresh list per run
        # the graph must not hold the traced call's arrays (conv's im2col columns, index
        # arrays): the dynamic attributes keep their structure, with None where a value goes
        for root in {k.split(".", 1)[0] for k in node.dynamic}:
            node.attrs[root] = _strip(node.attrs[root], root, node.dynamic)

    def _dynamic_attr(self, node, key: str, a) -> None:
        """Attributes holding arrays the graph computes (an index tensor's array inside
        ``index=(...)``, conv's ``cols``) become inputs of the node: ``node.dynamic`` maps
        ``"name"`` or a path ``"name.0.1"`` into nested tuples/lists to the value."""
        if isinstance(a, np.ndarray):
            v = self.by_array.get(id(a))
            if v is not None:
                if a.dtype == np.bool_ and a.ndim and node.op.name in _MASK_INDEXING:
                    raise GraphError(
                        f"{node.location}: {node.op.name} with a boolean mask tensor has a "
                        "shape that depends on the mask's values, which a compiled graph "
                        "cannot have; use ember.where(mask, x, other) or multiply by the mask")
                node.dynamic[key] = v
                return
            origin = self.traced_origin(a)
            if origin is not None:
                raise GraphError(
                    f"{node.location}: {node.op.name} takes (a view of) the values of "
                    f"{_describe(origin)} as a static argument ({key.split('.')[0]}=), so the "
                    "graph would reuse the traced call's values on every run; ember.compile "
                    "cannot trace an op whose arguments are computed from tensor values "
                    "outside ops. Index with ember.gather / take_along_dim instead, or move "
                    "the line out of the compiled function.")
        elif isinstance(a, (tuple, list)):
            for i, item in enumerate(a):
                if isinstance(item, (np.ndarray, tuple, list)):
                    self._dynamic_attr(node, f"{key}.{i}", item)

    def traced_origin(self, arr) -> Value | None:
        """The per-run value (an input, a node's result, a side array, a ``.grad``) whose
        memory ``arr`` is or views, or None (constants and states are not per-run)."""
        a = arr
        while isinstance(a, np.ndarray):
            v = self.by_array.get(id(a))
            if v is not None:
                return v if v.kind in _PER_RUN else None
            a = a.base
        return None

    def _side(self, node, arr: np.ndarray, where: tuple) -> None:
        v = self.graph.new_value(arr.shape, arr.dtype, "side", producer=node, index=where)
        node.sides.append((v, where))
        self._bind(arr, v)

    def rebind(self, t, new) -> None:
        """In-place update: ``t``'s memory now holds the value of tensor ``new``."""
        v = self.value_of(new)
        self.value_of(t)  # registers t as state when it is new
        self._bind(t._data, v)

    def check_inplace_target(self, t, op: str) -> None:
        """In-place writes into a view of another tensor are not traced yet: say so."""
        if t._base is not None:
            raise GraphError(
                f"{user_location(3)}: {op or 'an in-place op'} writes into a view of another "
                "tensor; ember.compile does not trace in-place writes into views yet. Write "
                "the result out of place (e.g. x = torch.cat(...) or ember.where) instead.")

    def note_grad_owner(self, t) -> None:
        """``t.grad`` is being set or cleared: remember its original so it gets written back."""
        if id(t) not in self.grad_owners:
            self.grad_owners[id(t)] = (t, t._grad)
            self.keep.append(t)

    # ------------------------------------------------------------------ Python-side reads
    def refuse_value_read(self, what: str) -> GraphError:
        """The error for reading a tensor's value in Python while tracing."""
        where = user_location(3)
        return GraphError(
            f"{where}: {what} needs the tensor's value, which does not exist while "
            "ember.compile traces the function (the graph must work for every value). Use "
            "ember.where(cond, a, b) for an elementwise choice or ember.cond(pred, true_fn, "
            "false_fn, *operands) for a branch; or move the line out of the compiled function."
        )

    def warn_side_effect(self, what: str) -> None:
        where = user_location(3)
        if where in self.side_effects_warned:
            return
        self.side_effects_warned.add(where)
        warnings.warn(f"{where}: {what} runs only while ember.compile traces the function, "
                      "not on later calls", stacklevel=4)

    # ------------------------------------------------------------------ finishing
    def finish(self, result_tensors: list) -> Graph:
        """Set the outputs and compute the write-backs; returns the graph."""
        g = self.graph
        g.outputs = [None if t is None else self.value_of(t) for t in result_tensors]
        self._constants()
        wbs = []
        for t, start_value, start_arr in list(self.states.values()):
            if t._data is not start_arr:
                wbs.append(("replace", t, self.value_of(t)))
            elif self.by_array[id(start_arr)] is not start_value:
                wbs.append(("copy", t, self.by_array[id(start_arr)]))
        for i, t in enumerate(self.input_tensors):
            cur = self.by_array[id(t._data)]
            if cur is not g.inputs[i]:
                wbs.append(("copy", ("input", i), cur))
        for t, start_grad in list(self.grad_owners.values()):
            grad = t._grad
            target = ("input", self.inputs[id(t)]) if id(t) in self.inputs else t
            if grad is None:
                if start_grad is not None:
                    wbs.append(("grad", target, None))
                continue
            v = self.value_of(grad)
            if v.kind == "grad" and v.tensor is t:
                continue  # unchanged
            wbs.append(("grad", target, v))
        g.writebacks = wbs
        # a .grad that was None when traced and that the graph sets: the graph *set* it where
        # a later call with a .grad present must *accumulate* (a guard retraces then)
        g.grads_assumed_none = [wb[1] for wb in wbs if wb[0] == "grad" and wb[2] is not None
                                and not isinstance(wb[1], tuple)
                                and self.grad_owners[id(wb[1])][1] is None]
        g.link()
        return g

    def _constants(self) -> None:
        """States that only the trace still holds (a Python number wrapped for an op, a
        tensor made inside the function) cannot change between runs: make them constants,
        which the passes can fold."""
        for key, (t, v, arr) in list(self.states.items()):
            # references: states' tuple, the items list's tuple, keep, Value.tensor, the
            # loop's t and getrefcount's argument
            if sys.getrefcount(t) <= 6 and t._data is arr and self.by_array[id(arr)] is v:
                v.kind = "const"
                v.array = arr
                v.tensor = None
                del self.states[key]
                self.grad_owners.pop(key, None)
