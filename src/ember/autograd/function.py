"""Custom differentiable ops: subclass :class:`Function`, as in PyTorch.

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    y = Cube.apply(x)

``forward`` runs without recording; ``backward`` is written with ember ops, so with
``create_graph=True`` it is differentiated like any other code. ``forward`` may return a
tuple of tensors; ``backward`` then receives one gradient per output.

A multi-output Function records one node for the op plus one small node per output (whose
``grad_fn`` shows the Function's name); PyTorch instead gives every output the same
``grad_fn`` with a different ``output_nr``.
"""

from __future__ import annotations

import weakref

from ..errors import AutogradError, shape_str
from . import grad_mode
from .node import Node


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``; also holds any attribute the
    Function sets on it (``ctx.k = k``)."""

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved = ()
        self._saved_versions = ()
        self._freed = False
        self._non_differentiable = set()
        self._saved_outputs = None  # {position in saved: output index}, set by apply
        self._node_ref = None

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (inputs or outputs of forward, or None) for ``backward``; an
        in-place change to them before backward is caught there."""
        from ..tensor import Tensor

        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save tensors or None, but argument {i} is a "
                    f"{type(t).__name__}; store other values as ctx attributes"
                )
        self._saved = tensors
        self._saved_versions = tuple(
            None if t is None else (t._version[0] if t._version else 0) for t in tensors
        )

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``; a saved output of ``forward`` comes
        back connected to this Function's node, so double backward goes through it."""
        if self._freed:
            raise AutogradError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
            )
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and (t._version[0] if t._version else 0) != v:
                raise AutogradError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor of shape {shape_str(t.shape)} saved "
                    "with ctx.save_for_backward changed after it was saved"
                )
        if not self._saved_outputs:
            return self._saved
        return tuple(self._reconnect(p, t) for p, t in enumerate(self._saved))

    def _reconnect(self, position: int, t):
        index = self._saved_outputs.get(position)
        if index is None:
            return t
        from ..tensor import _make

        node = self._node_ref() if self._node_ref is not None else None
        if node is None or not grad_mode.enabled:
            return _make(t._data)
        n = node.attrs["n_outputs"]
        if n > 1:  # a fresh stand-in for output `index`: it holds no state of its own
            node = Node.output_select(node, index, n)
        return _make(t._data, True, node)

    def _release(self) -> None:
        self._saved = ()
        self._saved_versions = ()
        self._freed = True

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (indices, masks); their backward grad is zeros."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` gets None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


def _function_vjp(node: Node, grad):
    attrs = node.attrs
    ctx = attrs["ctx"]
    cls = attrs["cls"]
    if type(grad) is list:  # multi-output: one slot per output, None where nothing arrived
        grads = grad
        if ctx.materialize_grads:
            from ..creation import zeros

            grads = [zeros(spec[0], dtype=spec[1]) if g is None and spec is not None else g
                     for g, spec in zip(grads, attrs["output_specs"])]
        result = cls.backward(ctx, *grads)
    else:
        result = cls.backward(ctx, grad)
    if not isinstance(result, tuple):
        result = tuple(result) if isinstance(result, list) else (result,)
    n_args = attrs["n_args"]
    name = f"{cls.__name__}Backward"
    if len(result) < n_args or any(r is not None for r in result[n_args:]):
        raise AutogradError(
            f"function {name} returned an incorrect number of gradients (expected {n_args}, "
            f"got {len(result)}): one per argument of forward, None for non-tensors"
        )
    positions = attrs["tensor_positions"]
    if len(positions) != n_args:
        for i in range(n_args):
            if result[i] is not None and i not in positions:
                raise AutogradError(
                    f"function {name} returned a gradient different than None at position "
                    f"{i}, but the corresponding forward input was not a Tensor"
                )
        return tuple([result[p] for p in positions])
    return result if len(result) == n_args else result[:n_args]


class _FunctionOp:
    """What the engine reads of a custom Function's node (the counterpart of a registry
    ``Op``; custom Functions do not join the op registry)."""

    __slots__ = ("name", "backward_name")
    vjp = staticmethod(_function_vjp)
    save = ()
    save_out = False
    differentiable = True

    def __init__(self, name: str):
        self.name = name
        self.backward_name = f"{name}Backward"

    def __repr__(self) -> str:
        return f"<ember custom Function {self.name}>"


class _FunctionMeta(type):
    """Gives each Function subclass its own op, named ``<Class>Backward`` in graphs."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._ember_op = _FunctionOp(name)


class Function(metaclass=_FunctionMeta):
    """Base class of custom ops; implement ``forward(ctx, ...)`` and ``backward(ctx, ...)``.

    Alternatively, as in PyTorch, ``forward(*args)`` without ``ctx`` plus
    ``setup_context(ctx, inputs, output)``.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward(ctx, ...)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and record the op so ``backward`` is called later."""
        from ..tensor import Tensor, _make

        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(needs)
        separate_setup = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            if separate_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        if not (grad_mode.enabled and any(needs)):
            return out
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        if not any(isinstance(o, Tensor) for o in outs):
            raise AutogradError(f"{cls.__name__}.forward must return a Tensor or a tuple of "
                                f"Tensors, got {type(out).__name__}")
        differentiable = [isinstance(o, Tensor) and o.dtype.is_floating_point
                          and id(o) not in ctx._non_differentiable for o in outs]
        if not any(differentiable):
            return out
        tensors = tuple(args[i] for i in positions)
        attrs = {"ctx": ctx, "cls": cls, "tensor_positions": positions, "n_args": len(args),
                 "n_outputs": len(outs)}
        node = Node.record(cls._ember_op, tensors, attrs, None)
        if not single:
            attrs["output_specs"] = tuple(
                (o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs)
        results = []
        for k, (o, diff) in enumerate(zip(outs, differentiable)):
            if not diff:
                results.append(o)
                continue
            owner = node if single else Node.output_select(node, k, len(outs))
            r = _make(o._data, True, owner)
            r._version = o._version_box()  # in-place on the result is seen by saved checks
            results.append(r)
        saved_ids = {id(o): k for k, o in enumerate(outs) if isinstance(o, Tensor)}
        slots = {p: saved_ids[id(t)] for p, t in enumerate(ctx._saved)
                 if t is not None and id(t) in saved_ids and differentiable[saved_ids[id(t)]]}
        if slots:
            ctx._saved_outputs = slots
            ctx._node_ref = weakref.ref(node)  # weak: the node owns ctx, a strong ref would cycle
        return results[0] if single else tuple(results)
