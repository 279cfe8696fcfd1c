"""The autograd node: one recorded application of an op.

A node keeps what its op's ``vjp`` needs and nothing more: the inputs listed in ``op.save``
(with their version counters, so an in-place change is caught instead of giving a wrong
gradient), shapes and dtypes of the others, and the output's array when ``op.save_out``.
It does not keep the output tensor itself (that would be a reference cycle): ``ctx.out``
rebuilds a tensor on the saved array whose ``grad_fn`` is this node, which is exactly what
higher-order gradients need.

``edges[i]`` is where the gradient of input ``i`` goes: the node that made it, the leaf
tensor itself (which accumulates into ``.grad``), or None when it does not require grad.
"""

from __future__ import annotations

from .. import tensor as _tensor  # the module, not _make: tensor.py imports this package
from ..dtypes import from_numpy_dtype
from ..errors import AutogradError, shape_str
from ..spec import TensorSpec
from . import grad_mode

_new = object.__new__


class Node:
    """A recorded op application; ``tensor.grad_fn`` is one of these."""

    __slots__ = ("op", "attrs", "edges", "_inputs", "_versions", "_out_data", "_out_version",
                 "pre_hooks", "retained", "_mask", "__weakref__")

    @classmethod
    def record(cls, op, inputs: tuple, attrs: dict, out_data, out_box=None) -> Node:
        """Record ``op`` applied to ``inputs`` (the eager hot path: keep it lean)."""
        node = _new(cls)
        node.op = op
        node.attrs = attrs
        save = op.save
        n = len(inputs)
        if n <= 2 and (save is None or not save):
            # the common cases spelled out: a comprehension is a frame of its own on 3.11
            a = inputs[0]
            ea = a._node if a._node is not None else (a if a._requires_grad else None)
            if n == 2:
                b = inputs[1]
                node.edges = (ea, b._node if b._node is not None
                              else (b if b._requires_grad else None))
                if save is None:
                    node._inputs = inputs
                    node._versions = (a._version[0] if a._version else 0,
                                      b._version[0] if b._version else 0)
                else:
                    node._inputs = ((a._data.shape, a._data.dtype),
                                    (b._data.shape, b._data.dtype))
                    node._versions = None
            else:
                node.edges = (ea,)
                if save is None:
                    node._inputs = inputs
                    node._versions = (a._version[0] if a._version else 0,)
                else:
                    node._inputs = ((a._data.shape, a._data.dtype),)
                    node._versions = None
        else:
            node.edges = tuple([t._node if t._node is not None
                                else (t if t._requires_grad else None) for t in inputs])
            if save is None:
                node._inputs = inputs
                node._versions = tuple([t._version[0] if t._version else 0 for t in inputs])
            elif not save:
                # only shapes and dtypes, as plain tuples; TensorSpecs are built at backward
                node._inputs = tuple([(t._data.shape, t._data.dtype) for t in inputs])
                node._versions = None
            else:
                node._inputs = tuple([t if i in save else (t._data.shape, t._data.dtype)
                                      for i, t in enumerate(inputs)])
                node._versions = tuple([(t._version[0] if t._version else 0) if i in save
                                        else None for i, t in enumerate(inputs)])
        node._out_data = out_data if op.save_out else None
        node._out_version = out_box
        node.pre_hooks = None
        node.retained = None
        node._mask = None
        return node

    @property
    def needs_input_grad(self) -> tuple:
        """Per input: whether this backward pass wants its gradient (skip the rest).

        Usually "does the input require grad"; ``autograd.grad`` narrows it to the inputs
        that lead to the tensors it was asked about.
        """
        mask = self._mask
        if mask is not None:
            return mask
        edges = self.edges
        n = len(edges)
        if n == 2:
            return (edges[0] is not None, edges[1] is not None)
        if n == 1:
            return (edges[0] is not None,)
        return tuple([e is not None for e in edges])

    # --- what a vjp reads --------------------------------------------------------------
    @property
    def inputs(self) -> tuple:
        """Saved input tensors; TensorSpec (shape, dtype) for inputs the op did not save."""
        if self._inputs is None:
            self._raise_freed()
        versions = self._versions
        out = []
        for i, t in enumerate(self._inputs):
            if type(t) is tuple:
                out.append(TensorSpec(t[0], from_numpy_dtype(t[1])))
                continue
            v = versions[i]
            current = t._version[0] if t._version else 0
            if current != v:
                raise AutogradError(
                    "one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: [{t.dtype.name} "
                    f"{shape_str(t.shape)}], which is input {i} of {self.name}, is at "
                    f"version {current}; expected version {v} instead. Use an out-of-place "
                    "op (e.g. x = x + y instead of x += y) or .clone() the tensor first."
                )
            out.append(t)
        return tuple(out)

    @property
    def out(self):
        """The op's output, connected to this node (so a vjp using it is differentiable)."""
        if self._inputs is None:
            self._raise_freed()
        if self._out_data is None:
            raise AutogradError(f"{self.name}: the op did not save its output (save_out=False)")
        box = self._out_version
        if box is not None and box[0] != 0:
            raise AutogradError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: the output of {self.name} "
                f"[{self._out_data.dtype} {shape_str(self._out_data.shape)}] was changed "
                "after it was computed. Use an out-of-place op or .clone() it first."
            )
        recording = grad_mode.enabled
        out = _tensor._make(self._out_data, recording, self if recording else None)
        out._version = box
        return out

    @property
    def workspace(self):
        """What a multi-output op's forward kept for its backward (``registry.apply_multi``):
        the arrays besides the saved inputs, as the forward returned them."""
        if self._inputs is None:
            self._raise_freed()
        return self._out_data

    @property
    def freed(self) -> bool:
        """Whether backward already released this node's saved values."""
        return self._inputs is None

    @property
    def name(self) -> str:
        """``MulBackward``-style name (a property here; PyTorch's ``name()`` is a method)."""
        if self.op is OUTPUT_SELECT:
            return self.edges[0].name
        return self.op.backward_name

    @classmethod
    def output_select(cls, fn_node: Node, index: int, n_outputs: int) -> Node:
        """The node standing for output ``index`` of the multi-output node ``fn_node``: the
        engine files the gradient it receives in that slot of ``fn_node``'s gradient list."""
        node = _new(cls)
        node.op = OUTPUT_SELECT
        node.attrs = {"index": index, "n_outputs": n_outputs}
        node.edges = (fn_node,)
        node._inputs = ()
        node._versions = None
        node._out_data = None
        node._out_version = None
        node.pre_hooks = None
        node.retained = None
        node._mask = None
        return node

    def _raise_freed(self):
        raise AutogradError(
            f"Trying to backward through the graph a second time (through {self.name}), or "
            "to use saved tensors after they have been freed. Saved intermediate values of "
            "the graph are freed when you call .backward() or autograd.grad(). Pass "
            "retain_graph=True to the first backward call if you need to backward twice."
        )

    def release(self) -> None:
        """Free saved values after backward (unless retain_graph)."""
        ctx = self.attrs.get("ctx")  # a custom Function's context owns its saved tensors
        if ctx is not None:
            ctx._release()
        # nodes that saved only shapes keep them: backward through them again is harmless,
        # as in PyTorch (only saved values are freed)
        if self._versions is not None or self._out_data is not None:
            self._inputs = None
            self._out_data = None

    @property
    def next_functions(self) -> tuple:
        """``((node, 0), ...)`` per input, as in PyTorch: a leaf appears as an
        ``AccumulateGrad`` whose ``.variable`` is the leaf; an input that does not require
        grad as ``(None, 0)``."""
        if self.op is OUTPUT_SELECT:
            return self.edges[0].next_functions
        out = []
        for e in self.edges:
            if e is None or type(e) is Node:
                out.append((e, 0))
            else:
                out.append((AccumulateGrad(e), 0))
        return tuple(out)

    def register_prehook(self, hook):
        """Call ``hook(grad)`` with the gradient of this node's output before its backward
        runs; it may return a replacement. Returns a removable handle."""
        from .hooks import RemovableHandle

        if self.pre_hooks is None:
            self.pre_hooks = []
        self.pre_hooks.append(hook)
        return RemovableHandle(self.pre_hooks, hook)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the step that accumulates into ``.grad``."""

    __slots__ = ("variable",)

    name = "AccumulateGrad"

    def __init__(self, variable):
        self.variable = variable

    @property
    def next_functions(self) -> tuple:
        return ()

    def __eq__(self, other) -> bool:
        return type(other) is AccumulateGrad and other.variable is self.variable

    def __hash__(self) -> int:
        return id(self.variable)

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class _OutputSelect:
    """The op of a node standing for output ``attrs['index']`` of a multi-output custom
    Function. The engine files the gradient it receives under that index of the Function's
    node instead of calling a vjp."""

    __slots__ = ()
    name = "output_select"
    vjp = None
    save = ()
    save_out = False
    differentiable = True
    backward_name = "OutputSelectBackward"


OUTPUT_SELECT = _OutputSelect()
