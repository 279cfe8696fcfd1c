"""Softmax family: ``softmax`` and ``log_softmax`` along one dim, numerically stable.

Both subtract the maximum along ``dim`` before exponentiating, so ``[1000, 0, -1000]`` does
not overflow. As in PyTorch, ``-inf`` entries get probability 0 (masked attention), a slice
that is entirely ``-inf`` gives nan, and float16 is computed in float32 and rounded once.

Each is a primitive whose backward is written with ember ops (so it can be differentiated
again) from the saved output ``y``:

- softmax:      ``grad_in = y * (g - sum(g * y, dim, keepdim=True))``
- log_softmax:  ``grad_in = g - exp(y) * sum(g, dim, keepdim=True)``
"""

from __future__ import annotations

import numpy as np

from ..dtypes import as_dtype
from ..errors import DTypeError
from ..tensor import Tensor
from .broadcast import expand
from .elementwise import cast, exp, mul, sub
from .registry import Op, TensorSpec, apply, as_tensor_arg, normalize_dim, tensor_method

# ------------------------------------------------------------------------ sum along one dim


def _sum_keepdim_infer(a: TensorSpec, *, dim) -> TensorSpec:
    shape = list(a.shape)
    if dim is not None:
        shape[dim] = 1
    return TensorSpec(tuple(shape), a.dtype)


# The vjps need a keepdim sum along one dim; this tiny primitive keeps this module
# independent of reduce.py (its vjp is a broadcast back to the input's shape).
SUM_KEEPDIM = Op("softmax_sum", lambda a, *, dim: a.sum(axis=dim, keepdims=True),
                 lambda ctx, g: (expand(g, ctx.inputs[0].shape),), _sum_keepdim_infer,
                 save=())


def _sum_keepdim(x: Tensor, dim) -> Tensor:
    return apply(SUM_KEEPDIM, (x,), dim=dim)


# ------------------------------------------------------------------------ forwards

_FLOAT16 = np.dtype(np.float16)


def _shifted(a: np.ndarray, dim) -> np.ndarray:
    """``a - max(a, dim)`` as a new array; float16 is widened to float32 first."""
    if a.dtype is _FLOAT16:
        a = a.astype(np.float32)
    if a.ndim == 0:  # out= keeps the result an array (a - a would be a NumPy scalar)
        return np.subtract(a, a, out=np.empty_like(a))
    if a.size == 0:  # max over an empty dim has no identity
        return a.copy()
    return a - a.max(axis=dim, keepdims=True)


def _softmax_forward(a: np.ndarray, *, dim) -> np.ndarray:
    out = _shifted(a, dim)
    np.exp(out, out=out)
    out /= out.sum(axis=dim, keepdims=True)
    return out.astype(a.dtype, copy=False)


def _log_softmax_forward(a: np.ndarray, *, dim) -> np.ndarray:
    out = _shifted(a, dim)
    out -= np.log(np.exp(out).sum(axis=dim, keepdims=True))
    return out.astype(a.dtype, copy=False)


def _softmax_vjp(ctx, g):
    y = ctx.out
    dim = ctx.attrs["dim"]
    return (mul(y, sub(g, _sum_keepdim(mul(g, y), dim))),)


def _log_softmax_vjp(ctx, g):
    y = ctx.out
    return (sub(g, mul(exp(y), _sum_keepdim(g, ctx.attrs["dim"]))),)


def _float_spec(op: str):
    def infer(a: TensorSpec, *, dim) -> TensorSpec:
        if not a.dtype.is_floating_point:
            raise DTypeError(f"{op}: expected a floating-point input, got {a.dtype.name}")
        if dim is not None:
            normalize_dim(dim, a.ndim, op)
        return a

    return infer


SOFTMAX = Op("softmax", _softmax_forward, _softmax_vjp, _float_spec("softmax"), save=(),
             save_out=True)
LOG_SOFTMAX = Op("log_softmax", _log_softmax_forward, _log_softmax_vjp,
                 _float_spec("log_softmax"), save=(), save_out=True)


# ------------------------------------------------------------------------ public functions


def _prepare(op: str, input, dim, dtype) -> tuple:
    """The input (cast to ``dtype`` if given) and ``dim`` as a NumPy axis."""
    x = input if type(input) is Tensor else as_tensor_arg(input, "input", op)
    nd = x._data.ndim
    if type(dim) is int and -nd <= dim < nd:
        axis = dim + nd if dim < 0 else dim
    elif dim is None:
        raise TypeError(f"{op}: missing required argument 'dim' (the dimension to normalize "
                        "over); PyTorch's implicit choice of dim is deprecated")
    else:
        axis = normalize_dim(dim, nd, op)  # raises for a bad dim
        if nd == 0:  # PyTorch lets a 0-d tensor take dim 0 or -1; NumPy wants axis=None
            axis = None
    if dtype is not None:
        dtype = as_dtype(dtype)
        if not dtype.is_floating_point:
            raise DTypeError(f"{op}: dtype must be a floating-point dtype, got {dtype.name}")
        x = cast(x, dtype)
    elif x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point input, got {x.dtype.name}; pass "
                         "dtype=ember.float32 to convert it first")
    return x, axis


@tensor_method("softmax")
def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x), dim)``, computed stably; each slice along ``dim`` sums to 1.

    ``dim`` is required (PyTorch only warns when it is left out). ``dtype`` casts the input
    first, e.g. to compute a float16 tensor's softmax in float32.
    """
    x, axis = _prepare("softmax", input, dim, dtype)
    return apply(SOFTMAX, (x,), dim=axis)


@tensor_method("log_softmax")
def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``x - logsumexp(x, dim)``: the log of ``softmax``, without its underflow to 0."""
    x, axis = _prepare("log_softmax", input, dim, dtype)
    return apply(LOG_SOFTMAX, (x,), dim=axis)


__all__ = ["softmax", "log_softmax"]
