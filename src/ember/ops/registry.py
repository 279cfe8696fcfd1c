"""The op registry: every primitive is one :class:`Op`, and :func:`apply` runs it eagerly.

An op holds, in one place:

- ``forward(*arrays, **attrs)``: the computation on NumPy arrays;
- ``vjp(ctx, grad)``: the backward rule, written with ember ops so that ``create_graph=True``
  gives higher-order gradients. ``ctx`` is the autograd node: ``ctx.inputs`` (saved input
  tensors, or :class:`TensorSpec` for inputs the rule does not need), ``ctx.out`` (the
  output, when ``save_out``), ``ctx.attrs`` and ``ctx.needs_input_grad``. It returns one
  gradient (or None) per input;
- ``infer(*specs, **attrs)``: output :class:`TensorSpec` from input specs, raising a clear
  ``ShapeError``/``DTypeError``. Eager mode calls it only to explain a failed forward (NumPy
  already checks); graph mode calls it at trace time;
- ``onnx``: how the op lowers to ONNX (filled in by the export issue).

Eager path (kept lean, its overhead over NumPy is benchmarked): arrays -> forward -> wrap ->
record a node when grad mode is on and an input requires grad.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from .. import tracing as _tracing
from ..autograd import grad_mode
from ..autograd.node import Node
from ..dtypes import DType, from_numpy_dtype
from ..errors import DTypeError, EmberError, IndexingError, ShapeError
from ..spec import TensorSpec
from ..tensor import Tensor, _make

# NumPy's floating-point warnings (log(0), x/0) are attributed to the caller of the ufunc,
# i.e. these modules; PyTorch returns inf/nan silently and so does ember. Zero per-op cost.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"ember\.")


def spec_of(x) -> TensorSpec:
    return TensorSpec(tuple(x.shape), x.dtype)


class Op:
    """One primitive. See the module docstring for the meaning of each field.

    ``save`` lists the input positions the vjp reads values of (default: all); the others are
    kept only as :class:`TensorSpec` so their memory can be freed before backward.
    ``differentiable=False`` marks ops whose output never requires grad (comparisons, argmax).
    ``stateful`` (set after construction) marks ops with effects beyond their output (random
    draws): graph passes never drop, merge or fold them.
    """

    __slots__ = ("name", "forward", "vjp", "infer", "onnx", "save", "save_out",
                 "differentiable", "backward_name", "stateful")

    def __init__(self, name: str, forward: Callable, vjp: Callable | None = None,
                 infer: Callable | None = None, *, save=None, save_out: bool = False,
                 differentiable: bool = True, onnx=None):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.infer = infer
        self.onnx = onnx
        self.save = save  # None = every input
        self.save_out = save_out
        self.differentiable = differentiable and vjp is not None
        self.stateful = False  # True: graph passes must keep every call (random draws)
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward"
        REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"<ember op {self.name}>"


REGISTRY: dict[str, Op] = {}

# Tests turn this on to check every op's infer rule against what its forward produced.
CHECK_INFER = False


def apply(op: Op, inputs: tuple, **attrs) -> Tensor:
    """Run ``op`` eagerly on Tensors ``inputs``; record an autograd node when needed."""
    try:
        # one and two inputs spelled out: a list comprehension is a frame of its own on 3.11
        n = len(inputs)
        if n == 2:
            data = op.forward(inputs[0]._data, inputs[1]._data, **attrs)
        elif n == 1:
            data = op.forward(inputs[0]._data, **attrs)
        else:
            data = op.forward(*[t._data for t in inputs], **attrs)
    except EmberError:
        raise
    except Exception as exc:  # NumPy's own complaint becomes an ember error naming the op
        raise explain_failure(op, inputs, attrs, exc) from None
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    if CHECK_INFER:
        _check_infer(op, inputs, attrs, data)
    if grad_mode.enabled and op.differentiable:
        for t in inputs:
            if t._requires_grad:
                if op.save_out:
                    box = [0]
                    out = _make(data, True, Node.record(op, inputs, attrs, data, box))
                    out._version = box
                else:
                    out = _make(data, True, Node.record(op, inputs, attrs, data))
                if _tracing.current is not None:
                    _tracing.current.record(op, inputs, attrs, (out,))
                return out
    out = _make(data)
    if _tracing.current is not None:
        _tracing.current.record(op, inputs, attrs, (out,))
    return out


def apply_multi(op: Op, inputs: tuple, **attrs) -> tuple:
    """Run a multi-output ``op`` eagerly and return its outputs as a tuple of Tensors.

    ``op.forward`` returns ``(outputs, workspace)``: the output arrays, and whatever arrays
    its vjp needs besides the saved inputs (read there as ``ctx.workspace``; freed with the
    node). The vjp receives one gradient per output, None for an output nothing depended on.
    """
    try:
        outs, workspace = op.forward(*[t._data for t in inputs], **attrs)
    except EmberError:
        raise
    except Exception as exc:
        raise explain_failure(op, inputs, attrs, exc) from None
    result = None
    if grad_mode.enabled and op.differentiable:
        for t in inputs:
            if t._requires_grad:
                n = len(outs)
                node = Node.record(op, inputs, dict(attrs, n_outputs=n), workspace)
                select = Node.output_select
                result = tuple([_make(a, True, select(node, k, n)) for k, a in enumerate(outs)])
                break
    if result is None:
        result = tuple([_make(a) for a in outs])
    if _tracing.current is not None:
        _tracing.current.record(op, inputs, attrs, result, workspace, multi=True)
    return result


def _check_infer(op: Op, inputs: tuple, attrs: dict, data: np.ndarray) -> None:
    if op.infer is None:
        raise AssertionError(f"op {op.name} has no infer rule")
    spec = op.infer(*[spec_of(t) for t in inputs], **attrs)
    if tuple(spec.shape) != data.shape or spec.dtype.np != data.dtype:
        raise AssertionError(
            f"infer of {op.name} says {spec}, forward gave {data.dtype}{list(data.shape)} "
            f"for inputs {[str(spec_of(t)) for t in inputs]} attrs {attrs}"
        )


def explain_failure(op: Op, inputs: tuple, attrs: dict, exc: Exception) -> Exception:
    """Turn a failure inside a forward into an error naming the op, shapes and dtypes."""
    specs = [spec_of(t) for t in inputs]
    if op.infer is not None:
        try:
            op.infer(*specs, **attrs)
        except EmberError as err:
            return err
        except Exception:  # an infer rule that itself chokes must not hide the real error
            pass
    described = ", ".join(str(s) for s in specs)
    attr_text = "".join(f", {k}={v!r}" for k, v in attrs.items())
    kind = ShapeError if isinstance(exc, ValueError) else EmberError
    return kind(f"{op.name}({described}{attr_text}) failed: {exc}")


# ---------------------------------------------------------------------------------------
# helpers used by the op families

def tensor_method(*names: str):
    """Bind the decorated function as Tensor method(s), e.g. ``@tensor_method("exp")``."""

    def bind(fn):
        for n in names:
            setattr(Tensor, n, fn)
        return fn

    return bind


def as_tensor_arg(x, name: str = "input", op: str = "") -> Tensor:
    """Accept a Tensor, or a number/list/array converted like ``ember.tensor``."""
    if isinstance(x, Tensor):
        return x
    from ..creation import tensor as _tensor  # lazy: creation imports ops

    where = f"{op}: " if op else ""
    try:
        return _tensor(x)
    except EmberError as err:
        raise type(err)(f"{where}argument '{name}' must be a Tensor or a number: {err}") from None
    except Exception:
        raise DTypeError(
            f"{where}argument '{name}' must be a Tensor or a number, got {type(x).__name__}"
        ) from None


def dtype_of_array(a: np.ndarray) -> DType:
    return from_numpy_dtype(a.dtype)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dim in ``[-ndim, ndim)`` as a non-negative int; IndexingError naming the op otherwise."""
    nd = ndim if ndim > 0 else 1  # PyTorch lets 0-d tensors take dim 0 / -1
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise IndexingError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if dim < -nd or dim >= nd:
        raise IndexingError(
            f"{op}: dim {dim} is out of range for a tensor of {ndim} dimension(s) "
            f"(expected in [{-nd}, {nd - 1}])"
        )
    return dim % nd if ndim > 0 else 0


def normalize_dims(dim, ndim: int, op: str) -> tuple | None:
    """``dim`` (None, int, or sequence of ints) as a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
        if len(set(dims)) != len(dims):
            raise ShapeError(f"{op}: dim {tuple(dim)} names a dimension twice")
        return dims
    return (normalize_dim(dim, ndim, op),)
