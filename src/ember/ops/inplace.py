"""In-place ops (``add_``, ``mul_``, ``zero_``, ``copy_``, ``x += y``, ...) with PyTorch's
autograd safety.

Two paths:

- nothing to record (grad mode off, or no tensor involved requires grad): the NumPy kernel
  writes straight into the tensor's array (``np.add(a, b, out=a)``) and bumps its version
  counter, which views share, so a node that saved the old values refuses to run backward;
- something to record: the op runs out of place on a *snapshot* of the tensor (a Tensor
  holding the old ``grad_fn``, with a copy of the old values only when the op's vjp reads
  them), the result is copied into the tensor's memory and the tensor's ``grad_fn`` is
  rebound to the new node (PyTorch's "rebase"). On a view made by indexing, the base is
  rebased instead, through ``index_put`` (PyTorch's CopySlices), and the views of that base
  get fresh ``grad_fn``s.

The rules (leaf tensors, views of leaves, read-only broadcast views, dtypes) follow PyTorch's,
with its messages. Views (CopySlices, regenerating views) are in ``inplace_views.py``; the
methods in ``inplace_methods.py`` (arithmetic, math, optimizer helpers) and
``inplace_index.py`` (masked_fill_, scatter_, index_put_, ...); ``zero_``/``fill_``/``copy_``/
``uniform_``/``normal_`` are here, on top of :func:`overwrite`.
"""

from __future__ import annotations

import numpy as np

from .. import tracing as _tracing
from ..autograd import grad_mode
from ..dtypes import DType, default_for_category, result_type, scalar_category
from ..errors import AutogradError, DTypeError, OverlapError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .broadcast import broadcast_shapes, sum_to
from .gather_scatter import scalar_value
from .operands import cast, zeros_like_t
from .random_draw import draw, normal_kernel, uniform_kernel
from .registry import Op, TensorSpec, apply, tensor_method

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
                "float64": "Double"}


# ------------------------------------------------------------------------ checks


def check_writable(t: Tensor, op: str) -> None:
    """Refuse to write into broadcast views (several elements, one memory location) and
    read-only arrays, as PyTorch does, instead of writing some elements twice."""
    a = t._data
    if a.flags.writeable:
        return
    if a.size > 1 and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape)):
        raise OverlapError(
            f"{op}: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before performing "
            "the operation."
        )
    raise OverlapError(f"{op}: the tensor's memory is read-only (it wraps a read-only NumPy "
                       "array); clone() it before writing to it")


def check_cast(result: DType, target: DType, op: str) -> None:
    """PyTorch's in-place dtype rule: the result may not move up a category (bool < integer
    < floating) when written back, so ``int_tensor.add_(1.5)`` is an error."""
    if result.category > target.category:
        raise DTypeError(f"{op}: result type {_TORCH_NAMES[result.name]} can't be cast to the "
                         f"desired output type {_TORCH_NAMES[target.name]}")


def check_operand(t: Tensor, other, op: str) -> None:
    """Dtype and shape checks of ``t.op_(other)`` before anything is written."""
    if isinstance(other, Tensor):
        if other._data.dtype is not t._data.dtype:
            check_cast(result_type(t, other), t.dtype, op)
        if other._data.shape != t._data.shape:
            check_shape(t, other._data.shape, op)
    elif other is not None:
        try:
            cat = scalar_category(other)
        except DTypeError:
            raise DTypeError(f"{op}: expected a Tensor or a number, got "
                             f"{type(other).__name__}") from None
        if cat > t.dtype.category:
            check_cast(default_for_category(cat), t.dtype, op)


def check_shape(t: Tensor, other_shape: tuple, op: str) -> None:
    try:
        shape = np.broadcast_shapes(t._data.shape, tuple(other_shape))
    except ValueError:
        shape = None
    if shape != t._data.shape:
        raise ShapeError(
            f"{op}: output with shape {shape_str(t.shape)} doesn't match the broadcast shape "
            + (shape_str(shape) if shape is not None
               else f"of {shape_str(t.shape)} and {shape_str(other_shape)} (they do not broadcast)")
        )


def needs_graph(t: Tensor, others: tuple, op: str) -> bool:
    """Whether ``t.op_(*others)`` must be recorded; raises for in-place writes PyTorch forbids
    (into a leaf that requires grad, or a view of one, while grad mode is on)."""
    if not grad_mode.enabled:
        # a trace records every in-place update as an op (a new value of t's memory)
        return _tracing.current is not None
    if t._requires_grad:
        if t._node is None:
            raise AutogradError(f"{op}: a leaf Variable that requires grad is being used in an "
                                "in-place operation.")
        base = t._base
        if base is not None and base._node is None and base._requires_grad:
            raise AutogradError(f"{op}: a view of a leaf Variable that requires grad is being "
                                "used in an in-place operation.")
        return True
    for o in others:
        if isinstance(o, Tensor) and o._requires_grad:
            return True
    return _tracing.current is not None


def bump(t: Tensor) -> None:
    """Record one in-place change in ``t``'s version counter (shared with its views)."""
    box = t._version
    if box is None:
        box = t._version = [0]
    box[0] += 1


# ------------------------------------------------------------------------ the recorded path

ALIAS = Op("alias", lambda a: a, lambda ctx, g: (g,), lambda a: a, save=())


def fit_result(new: Tensor, like: Tensor, op: str) -> Tensor:
    """``new`` (an out-of-place result) checked to be writable into ``like``."""
    if new._data.shape != like._data.shape:
        raise ShapeError(f"{op}: output with shape {shape_str(like.shape)} doesn't match the "
                         f"broadcast shape {shape_str(new.shape)}")
    if new._data.dtype is not like._data.dtype:
        check_cast(new.dtype, like.dtype, op)
        new = cast(new, like.dtype)
    if new._node is None and new._requires_grad:  # e.g. copy_ of a leaf: keep it a non-leaf
        new = apply(ALIAS, (new,))
    return new


def _snapshot(t: Tensor, copy: bool) -> Tensor:
    """The tensor as it is before the write: its node, and its values if they are needed."""
    if copy:
        old = _make(t._data.copy(), t._requires_grad, t._node)
        if _tracing.current is not None:
            _tracing.current.same_value(old._data, t)
        return old
    old = _make(t._data, t._requires_grad, t._node)
    # sharing the counter: should a vjp read these (overwritten) values after all, backward
    # raises the version error instead of computing with the new ones
    old._version = t._version_box()
    return old


def inplace_with_graph(t: Tensor, fn, others: tuple, copy_old: bool, op: str = "") -> Tensor:
    """Write ``fn(old_t, *others)`` (ember ops, recorded) into ``t`` and rebase ``t``."""
    tracer = _tracing.current
    if tracer is not None:
        if t._base is not None or t._data.base is not None and not t._data.flags.owndata:
            tracer.check_inplace_target(t, op)
        if not (grad_mode.enabled and (t._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in others))):
            # nothing for autograd: the trace records fn as the new value of t's memory
            new = fit_result(fn(t, *others), t, op)
            np.copyto(t._data, new._data)
            bump(t)
            tracer.rebind(t, new)
            return t
    if t._base is not None:
        return copy_slices(t, fn, others, op)
    new = fit_result(fn(_snapshot(t, copy_old), *others), t, op)
    np.copyto(t._data, new._data)
    bump(t)
    if tracer is not None:
        tracer.rebind(t, new)
    node = t._node = new._node
    t._requires_grad = new._requires_grad
    if node is not None and node._out_data is not None and node._out_data is new._data:
        # the op saved its output (exp_, sigmoid_, ...): that output is now t itself, so save
        # t's memory and watch t's counter; a later write into t then fails backward, as in
        # PyTorch, instead of backward silently using a private copy
        node._out_data = t._data
        node._out_version = _VersionSince(t._version)
    regenerate_views(t)
    return t


class _VersionSince:
    """A version counter reading 0 until the watched one moves past its current value (what
    ``Node.out`` expects of a saved output's counter)."""

    __slots__ = ("box", "start")

    def __init__(self, box: list):
        self.box = box
        self.start = box[0]

    def __getitem__(self, i: int) -> int:
        return self.box[i] - self.start


# ------------------------------------------------------------------------ overwrite op


def _fill_forward(a, v):
    out = np.empty_like(a)
    out[...] = v
    return out


def _fill_vjp(ctx, g):
    na, nv = ctx.needs_input_grad
    return (zeros_like_t(g) if na else None), (sum_to(g, ctx.inputs[1].shape) if nv else None)


def _fill_infer(a: TensorSpec, v: TensorSpec) -> TensorSpec:
    if broadcast_shapes(a.shape, v.shape, op="fill") != tuple(a.shape):
        raise ShapeError(f"fill: value of shape {shape_str(v.shape)} does not broadcast to "
                         f"{shape_str(a.shape)}")
    return TensorSpec(a.shape, a.dtype)


# ``input`` overwritten by ``value`` (broadcast, cast): fill_, zero_, copy_, uniform_, normal_
# on recorded tensors. The old values get a zero gradient, as in PyTorch.
FILL = Op("fill", _fill_forward, _fill_vjp, _fill_infer, save=())


def overwrite(t: Tensor, value, op: str) -> Tensor:
    """Write ``value`` (a Tensor, broadcast and cast to ``t``'s dtype) into ``t``."""
    check_writable(t, op)
    if needs_graph(t, (value,), op):
        return inplace_with_graph(t, lambda old, v: apply(FILL, (old, v)), (value,), False, op)
    np.copyto(t._data, value._data, casting="unsafe")
    bump(t)
    return t


# ------------------------------------------------------------------------ overwriting methods


@tensor_method("zero_")
def zero_(self: Tensor) -> Tensor:
    """Fill ``self`` with zeros."""
    return overwrite(self, _make(np.zeros((), self._data.dtype)), "zero_")


@tensor_method("fill_")
def fill_(self: Tensor, value) -> Tensor:
    """Fill ``self`` with ``value`` (a number or a 0-d tensor, converted to ``self``'s dtype)."""
    if isinstance(value, Tensor) and value._data.ndim:
        raise ShapeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                         f"{value._data.ndim} dimensions")
    return overwrite(self, scalar_value(value, self, "fill_"), "fill_")


@tensor_method("copy_")
def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` into ``self``, broadcasting it and converting it to ``self``'s dtype."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): src must be a Tensor, got {type(src).__name__}")
    if src._data.shape != self._data.shape:
        check_shape(self, src._data.shape, "copy_")
    return overwrite(self, src, "copy_")


def float_target(self: Tensor, op: str) -> None:
    if not self.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating point tensor, got {self.dtype.name}")


@tensor_method("uniform_")
def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None,
             **kwargs) -> Tensor:
    """Fill ``self`` with samples uniform on [from, to) (``from`` may be passed by name)."""
    from_ = kwargs.pop("from", from_)
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    float_target(self, "uniform_")
    if from_ > to:
        raise ValueError(f"uniform_ expects to return a [from, to) range, but found "
                         f"from={from_} > to={to}")
    shape = self._data.shape
    values = draw(uniform_kernel, generator, shape, np.float64, shape, np.float64, from_, to)
    return overwrite(self, values, "uniform_")


@tensor_method("normal_")
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill ``self`` with samples from N(mean, std**2)."""
    float_target(self, "normal_")
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    shape = self._data.shape
    values = draw(normal_kernel, generator, shape, np.float64, shape, np.float64, mean, std)
    return overwrite(self, values, "normal_")


from . import inplace_index, inplace_methods  # noqa: E402,F401  bind add_, mul_, ... on Tensor
from .inplace_views import copy_slices, regenerate_views  # noqa: E402

__all__: list = []
