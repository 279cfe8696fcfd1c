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
``create_graph=True`` it is differentiated like any other code.
"""

from __future__ import annotations

from ..errors import AutogradError, shape_str
from . import grad_mode
from .node import Node


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``."""

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._saved_versions = ()
        self.materialize_grads = True
        self._non_differentiable = set()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for ``backward``; an in-place change to them is caught there."""
        self._saved = tensors
        self._saved_versions = tuple(
            None if t is None else (t._version[0] if t._version else 0) for t in tensors
        )

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise AutogradError(
                "Trying to backward through the graph a second time: the saved tensors of "
                "this Function were freed; pass retain_graph=True to the first backward"
            )
        for t, v in zip(self._saved, self._saved_versions):
            if t is not None and (t._version[0] if t._version else 0) != v:
                raise AutogradError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor of shape {shape_str(t.shape)} saved "
                    "with ctx.save_for_backward changed after it was saved"
                )
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


def _function_vjp(node, grad):
    ctx = node.attrs["ctx"]
    cls = node.attrs["cls"]
    result = cls.backward(ctx, grad)
    if not isinstance(result, tuple):
        result = (result,)
    positions = node.attrs["tensor_positions"]
    n_args = node.attrs["n_args"]
    if len(result) < n_args:
        if len(result) != len(positions):
            raise AutogradError(
                f"{cls.__name__}.backward returned {len(result)} gradients; forward took "
                f"{n_args} arguments, so it must return {n_args} (None for non-tensors)"
            )
        return result
    return tuple(result[p] for p in positions)


class Function:
    """Base class of custom ops; implement ``forward(ctx, ...)`` and ``backward(ctx, ...)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must implement backward(ctx, ...)")

    @classmethod
    def _op(cls):
        op = cls.__dict__.get("_ember_op")
        if op is None:
            from ..ops.registry import Op

            op = Op(f"{cls.__name__}", forward=None, vjp=_function_vjp, save=())
            op.backward_name = f"{cls.__name__}Backward"
            cls._ember_op = op
        return op

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor, _make

        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        tensors = tuple(args[i] for i in positions)
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with grad_mode.no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        record = grad_mode.enabled and any(needs)
        if not record:
            return out
        if isinstance(out, tuple):
            raise AutogradError(
                f"{cls.__name__}.forward returned {len(out)} outputs; ember's custom Functions "
                "support one differentiable output (return the others from a second Function)"
            )
        if not isinstance(out, Tensor):
            raise AutogradError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        if id(out) in ctx._non_differentiable:
            return out
        attrs = {"ctx": ctx, "cls": cls, "tensor_positions": positions, "n_args": len(args)}
        node = Node.record(cls._op(), tensors, attrs, None)
        result = _make(out._data, True, node)
        return result
