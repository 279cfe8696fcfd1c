"""In-place arithmetic and math Tensor methods: ``add_``, ``mul_``, ``div_``, ``pow_``,
``x += y``, ``exp_``, ``sigmoid_``, ``clamp_``, and the optimizer helpers ``addcmul_``,
``addcdiv_``, ``lerp_``.

Each method either writes with a NumPy kernel into the tensor's own array (nothing to record:
the optimizer case) or hands an out-of-place ember function to
``inplace.inplace_with_graph``, which records it and rebases the tensor. ``copy_old`` says
whether the recorded op's vjp reads the tensor's old values (then they are copied first).
"""

from __future__ import annotations

import numpy as np

from .. import tracing as _tracing
from ..autograd import grad_mode
from ..dtypes import get_default_dtype, result_type
from ..errors import DTypeError, shape_str
from ..tensor import Tensor, _make
from . import elementwise as ew
from .inplace import (
    bump,
    check_cast,
    check_operand,
    check_shape,
    check_writable,
    float_target,
    inplace_with_graph,
    needs_graph,
    overwrite,
)
from .registry import Op, as_tensor_arg, tensor_method

_NUMBER = (int, float, bool, np.number)


def _saves_input(op: Op) -> bool:
    return op.save is None or 0 in op.save


def _operand(other, op: str):
    return other if isinstance(other, (Tensor,) + _NUMBER) else as_tensor_arg(other, "other", op)


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def _is_one(x) -> bool:
    # never ``tensor == 1``: that would run (and maybe record) an ember op on every call
    return not isinstance(x, Tensor) and x == 1


def _check_scalar(self: Tensor, x, what: str, name: str) -> None:
    """``alpha``/``value`` are PyTorch Scalars: a number, or a one-element tensor (which, like
    a number, may not move ``self`` up a dtype category)."""
    if not isinstance(x, Tensor):
        check_operand(self, x, name)
        return
    if x._data.size != 1:
        raise TypeError(f"{name}(): argument '{what}' must be a number or a one-element "
                        f"tensor, got a tensor of shape {shape_str(x._data.shape)}")
    if x._data.dtype is not self._data.dtype:
        check_cast(result_type(self, x), self.dtype, name)


def _scalar_array(x: Tensor, self: Tensor) -> np.ndarray:
    """A one-element tensor ``alpha``/``value`` (e.g. a 0-d learning rate) as a raw 0-d array
    of ``self``'s dtype, so the kernels run in that dtype, as for PyTorch's Scalars."""
    return x._data.reshape(()).astype(self._data.dtype, copy=False)


# ------------------------------------------------------------------------ arithmetic


def _binary_inplace(self: Tensor, other, name: str, kernel, functional, copy_old: bool):
    a = self._data
    if not a.flags.writeable:
        check_writable(self, name)
    kind = type(other)
    if kind is not Tensor and kind is not float and kind is not int:
        other = _operand(other, name)
    if (grad_mode.enabled or _tracing.current is not None) and needs_graph(self, (other,), name):
        return inplace_with_graph(self, functional, (other,), copy_old, name)
    check_operand(self, other, name)
    try:
        if kind is not Tensor:
            kernel(a, other, out=a)
        elif other._data.dtype is a.dtype:
            kernel(a, other._data, out=a)
        elif result_type(self, other) is self.dtype:
            # PyTorch computes in self's dtype here (e.g. float32 * a 0-d float64 tensor, or
            # + an integer tensor); NumPy would run the wider loop and round once more
            kernel(a, other._data.astype(a.dtype), out=a)
        else:  # check_operand allowed it; NumPy's default rule refuses e.g. int16 -> uint8
            kernel(a, other._data, out=a, casting="unsafe")
    except OverflowError:
        raise DTypeError(f"{name}: the number {other} does not fit in {self.dtype.name}") from None
    box = self._version
    if box is None:
        box = self._version = [0]
    box[0] += 1
    return self


def _scaled(other, alpha, self: Tensor, name: str):
    """``alpha * other`` for add_/sub_; ``alpha`` is not 1."""
    _check_scalar(self, alpha, "alpha", name)
    if isinstance(alpha, float) and not self.dtype.is_floating_point:
        raise DTypeError(f"{name}: for integral input tensors, argument alpha must not be a "
                         "floating point number")
    if isinstance(other, Tensor) and (other._requires_grad and grad_mode.enabled
                                      or _tracing.current is not None):
        return ew.mul(other, alpha)
    if isinstance(alpha, Tensor):
        alpha = _scalar_array(alpha, self)
    if not isinstance(other, Tensor):
        return other * alpha
    return _make(np.multiply(other._data, alpha))  # the optimizer path: p.add_(g, alpha=-lr)


@tensor_method("add_")
def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    """``self += alpha * other`` in place (``other`` broadcast to ``self``'s shape)."""
    if not _is_one(alpha):
        other = _scaled(_operand(other, "add_"), alpha, self, "add_")
    return _binary_inplace(self, other, "add_", np.add, ew.add, False)


@tensor_method("sub_", "subtract_")
def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    """``self -= alpha * other`` in place."""
    if not _is_one(alpha):
        other = _scaled(_operand(other, "sub_"), alpha, self, "sub_")
    return _binary_inplace(self, other, "sub_", np.subtract, ew.sub, False)


@tensor_method("mul_", "multiply_")
def mul_(self: Tensor, other) -> Tensor:
    """``self *= other`` in place."""
    return _binary_inplace(self, other, "mul_", np.multiply, ew.mul, _saves_input(ew.MUL))


@tensor_method("div_", "divide_", "true_divide_")
def div_(self: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    """``self /= other`` in place; an integer tensor needs a ``rounding_mode``, as in PyTorch."""
    if rounding_mode is not None:
        check_writable(self, "div_")
        other = _operand(other, "div_")

        def functional(old, o):
            return ew.div(old, o, rounding_mode=rounding_mode)

        if needs_graph(self, (other,), "div_"):
            return inplace_with_graph(self, functional, (other,), True, "div_")
        check_operand(self, other, "div_")
        new = functional(self, other)
        check_cast(new.dtype, self.dtype, "div_")
        return overwrite(self, new, "div_")
    other = _operand(other, "div_")
    if not self.dtype.is_floating_point:
        dt = result_type(self, other)
        check_cast(dt if dt.is_floating_point else get_default_dtype(), self.dtype, "div_")
    return _binary_inplace(self, other, "div_", np.true_divide, ew.div, _saves_input(ew.DIV))


@tensor_method("pow_")
def pow_(self: Tensor, exponent) -> Tensor:
    """``self **= exponent`` in place."""
    exponent = _operand(exponent, "pow_")
    if not self.dtype.is_floating_point and np.any(np.asarray(_arr(exponent)) < 0):
        raise ValueError("pow_: integers to negative integer powers are not allowed")
    return _binary_inplace(self, exponent, "pow_", np.power, ew.pow, _saves_input(ew.POW))


def _iop(method):
    def augmented(self, other):
        return method(self, other)

    augmented.__doc__ = f"Augmented assignment: in place, like PyTorch (calls {method.__name__})."
    return augmented


Tensor.__iadd__ = _iop(add_)
Tensor.__isub__ = _iop(sub_)
Tensor.__imul__ = _iop(mul_)
Tensor.__itruediv__ = _iop(div_)
Tensor.__ipow__ = _iop(pow_)


# ------------------------------------------------------------------------ unary


def _sigmoid_kernel(a):
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    a += 1
    a *= 0.5


_UNARY = [  # name, op, out-of-place function, kernel writing into its argument, float-valued
    ("neg_", ew.NEG, ew.neg, lambda a: np.negative(a, out=a), False),
    ("abs_", ew.ABS, ew.abs, lambda a: np.abs(a, out=a), False),
    ("exp_", ew.EXP, ew.exp, lambda a: np.exp(a, out=a), True),
    ("log_", ew.LOG, ew.log, lambda a: np.log(a, out=a), True),
    ("sqrt_", ew.SQRT, ew.sqrt, lambda a: np.sqrt(a, out=a), True),
    ("sin_", ew.SIN, ew.sin, lambda a: np.sin(a, out=a), True),
    ("cos_", ew.COS, ew.cos, lambda a: np.cos(a, out=a), True),
    ("tanh_", ew.TANH, ew.tanh, lambda a: np.tanh(a, out=a), True),
    ("sigmoid_", ew.SIGMOID, ew.sigmoid, _sigmoid_kernel, True),
    ("relu_", ew.RELU, ew.relu, lambda a: np.maximum(a, 0, out=a), False),
]


def _unary_method(name: str, op: Op, functional, kernel, floating: bool):
    copy_old = _saves_input(op)

    def method(self: Tensor) -> Tensor:
        check_writable(self, name)
        if needs_graph(self, (), name):
            return inplace_with_graph(self, functional, (), copy_old, name)
        if floating and not self.dtype.is_floating_point:
            check_cast(get_default_dtype(), self.dtype, name)
        kernel(self._data)
        bump(self)
        return self

    method.__name__ = name
    method.__doc__ = f"In-place :func:`{functional.__name__}`."
    return method


for _name, _op, _fn, _kernel, _floating in _UNARY:
    setattr(Tensor, _name, _unary_method(_name, _op, _fn, _kernel, _floating))
Tensor.negative_ = Tensor.neg_
Tensor.absolute_ = Tensor.abs_


@tensor_method("clamp_", "clip_")
def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002  PyTorch's names
    """Limit ``self`` to [min, max] in place; bounds are numbers or tensors (broadcast)."""
    check_writable(self, "clamp_")
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must be given")
    bounds = tuple(b for b in (min, max) if isinstance(b, Tensor))
    if needs_graph(self, bounds, "clamp_"):
        return inplace_with_graph(self, lambda old, *_: ew.clamp(old, min, max), bounds,
                                  True, "clamp_")
    for b in (min, max):
        check_operand(self, b, "clamp_")
    a = self._data
    if bounds:
        if min is not None:
            np.maximum(a, _arr(min), out=a, casting="unsafe")
        if max is not None:
            np.minimum(a, _arr(max), out=a, casting="unsafe")
    else:
        np.clip(a, min, max, out=a)
    bump(self)
    return self


# ------------------------------------------------------------------------ optimizer helpers


def _value(value, self: Tensor):
    return _scalar_array(value, self) if isinstance(value, Tensor) else value


def _ternary_checks(self: Tensor, a: Tensor, b: Tensor, value, name: str) -> None:
    dt = self._data.dtype
    for t in (a, b):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected tensors, got {type(t).__name__}")
        if t._data.shape != self._data.shape:
            check_shape(self, t._data.shape, name)
    if a._data.dtype is not dt or b._data.dtype is not dt:
        check_cast(result_type(self, a, b), self.dtype, name)
    _check_scalar(self, value, "value", name)


def _add_combined_(self: Tensor, tensor1: Tensor, tensor2: Tensor, value, combine,
                   combine_arrays, name: str) -> Tensor:
    """``self += value * combine(tensor1, tensor2)``: recorded with ember ops when a graph is
    needed, else one NumPy temporary added into ``self``'s buffer."""
    if needs_graph(self, (tensor1, tensor2), name):
        return inplace_with_graph(self, lambda old, a, b: ew.add(old, combine(a, b) * value),
                                  (tensor1, tensor2), False, name)
    _ternary_checks(self, tensor1, tensor2, value, name)
    tmp = combine_arrays(tensor1._data, tensor2._data)
    if not _is_one(value):
        tmp *= _value(value, self)
    np.add(self._data, tmp, out=self._data, casting="unsafe")
    bump(self)
    return self


@tensor_method("addcmul_")
def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``self += value * tensor1 * tensor2`` in place."""
    check_writable(self, "addcmul_")
    return _add_combined_(self, tensor1, tensor2, value, ew.mul, np.multiply, "addcmul_")


@tensor_method("addcdiv_")
def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``self += value * tensor1 / tensor2`` in place (Adam's update)."""
    check_writable(self, "addcdiv_")
    for t in (tensor1, tensor2):
        if isinstance(t, Tensor) and not t.dtype.is_floating_point:
            raise DTypeError("addcdiv_: integer division with addcdiv is not supported; use "
                             "floating point tensors")
    return _add_combined_(self, tensor1, tensor2, value, ew.div, np.true_divide, "addcdiv_")


@tensor_method("lerp_")
def lerp_(self: Tensor, end: Tensor, weight) -> Tensor:
    """``self += weight * (end - self)`` in place."""
    check_writable(self, "lerp_")
    float_target(self, "lerp_")
    others = (end, weight) if isinstance(weight, Tensor) else (end,)
    if needs_graph(self, others, "lerp_"):
        return inplace_with_graph(self, lambda old, e, *w: ew.lerp(old, e, w[0] if w else weight),
                                  others, False, "lerp_")
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp_: end must be a Tensor, got {type(end).__name__}")
    for o in others:
        check_operand(self, o, "lerp_")
    tmp = np.subtract(end._data, self._data)
    tmp *= _arr(weight)
    np.add(self._data, tmp, out=self._data, casting="unsafe")
    bump(self)
    return self
