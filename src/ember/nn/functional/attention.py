"""``linear`` (the affine map of every dense layer) and, below it, attention.

``linear`` is one fused primitive, not ``matmul(input, weight.T) + bias``: it folds any batch
dims into the rows of a single GEMM, adds the bias in place, and records one autograd node
instead of three. Its backward is two GEMMs and a row sum, written with ember ops. A test
checks it equals the composite in value and gradient.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import DTypeError, ShapeError, shape_str
from ...ops.einsum import blas_layout
from ...ops.linalg import MM
from ...ops.movement_view import PERMUTE, RESHAPE
from ...ops.reduce import sum as _sum
from ...ops.registry import Op, TensorSpec, apply, as_tensor_arg
from ...tensor import Tensor

# ------------------------------------------------------------------------ linear primitive


def _linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    k = w.shape[1]
    if x.ndim > 2:  # one GEMM over all rows, not one per batch item
        out = np.matmul(blas_layout(x.reshape(-1, k)), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = np.matmul(blas_layout(x), w.T)
    if b is not None:
        out += b
    return out


def _rows(t: Tensor, shape: tuple, k: int) -> Tensor:
    """``t`` as a matrix of ``k`` columns (a view; 1-D becomes one row)."""
    if len(shape) == 2:
        return t
    return apply(RESHAPE, (t,), shape=(math.prod(shape[:-1]), k))


def _linear_vjp(ctx, g):
    x, w = ctx.inputs[0], ctx.inputs[1]
    need = ctx.needs_input_grad
    out_f, in_f = w.shape
    x_shape = tuple(x.shape)
    g2 = _rows(g, tuple(g.shape), out_f)
    gx = gw = gb = None
    if need[0]:
        gx = apply(MM, (g2, w))
        if len(x_shape) != 2:
            gx = apply(RESHAPE, (gx,), shape=x_shape)
    if need[1]:
        gw = apply(MM, (apply(PERMUTE, (g2,), dims=(1, 0)), _rows(x, x_shape, in_f)))
    if len(need) > 2 and need[2]:
        gb = _sum(g2, 0)
    return (gx, gw, gb) if len(need) > 2 else (gx, gw)


def _linear_infer(x: TensorSpec, w: TensorSpec, b: TensorSpec | None = None) -> TensorSpec:
    _check_linear(x, w, b)
    return TensorSpec(tuple(x.shape[:-1]) + (w.shape[0],), x.dtype)


def _check_linear(x, w, b) -> None:
    if len(w.shape) != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                         f"{shape_str(w.shape)}")
    if len(x.shape) == 0:
        raise ShapeError("linear: input must have at least 1 dimension, got a 0-d tensor")
    if x.shape[-1] != w.shape[1]:
        raise ShapeError(f"linear: expected input with last dimension {w.shape[1]} "
                         f"(in_features), got input of shape {shape_str(x.shape)}")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ShapeError(f"linear: bias must have shape [{w.shape[0]}] (out_features), got "
                         f"{shape_str(b.shape)}")
    if x.dtype is not w.dtype or (b is not None and b.dtype is not w.dtype):
        names = ", ".join(t.dtype.name for t in (x, w, b) if t is not None)
        raise DTypeError(f"linear: input, weight and bias must have the same dtype, got {names}")
    if not x.dtype.is_floating_point:
        raise DTypeError(f"linear: expected floating-point tensors, got {x.dtype.name}")


LINEAR = Op("linear", _linear_forward, _linear_vjp, _linear_infer, save=(0, 1))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input`` (*, in_features), ``weight`` (out_features,
    in_features), ``bias`` (out_features,) or None; result (*, out_features)."""
    x = input if type(input) is Tensor else as_tensor_arg(input, "input", "linear")
    xd, wd = x._data, weight._data
    # the cheap common case skips the full check; anything unusual gets a precise error
    if (wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1] or xd.dtype != wd.dtype
            or xd.dtype.kind != "f"
            or (bias is not None and (bias._data.dtype != wd.dtype
                                      or bias._data.shape != (wd.shape[0],)))):
        _check_linear(x, weight, bias)
    if bias is None:
        return apply(LINEAR, (x, weight))
    return apply(LINEAR, (x, weight, bias))


__all__ = ["linear"]


# ========================================================================================
# Attention (scaled_dot_product_attention and helpers) goes below this line; it is owned by
# the attention work and extends ``__all__``.
# ========================================================================================
