"""Scans along one dimension: cumsum and cumprod.

cumsum carries a private ``reverse`` flag: the vjp of a forward scan is a reverse scan of the
gradient and vice versa, so both directions are one primitive and gradients of any order work.
"""

from __future__ import annotations

import numpy as np

from ..dtypes import as_dtype, from_numpy_dtype, int64
from ..tensor import Tensor
from .elementwise import cast, eq, where
from .reduce import _arg, single_dim
from .registry import Op, TensorSpec, apply, tensor_method


def _scan_infer(a: TensorSpec, *, dim, dtype, **_) -> TensorSpec:
    return TensorSpec(tuple(a.shape), a.dtype if dtype is None else from_numpy_dtype(dtype))


def _cumsum_forward(a, *, dim, dtype, reverse):
    if a.ndim == 0:
        return a.astype(dtype or a.dtype)
    if reverse:
        return np.flip(np.cumsum(np.flip(a, dim), axis=dim, dtype=dtype), dim)
    return np.cumsum(a, axis=dim, dtype=dtype)


CUMSUM = Op("cumsum", _cumsum_forward,
            lambda ctx, g: (_cumsum(g, ctx.attrs["dim"], not ctx.attrs["reverse"]),),
            _scan_infer, save=())


def _cumsum(x: Tensor, dim: int, reverse: bool = False) -> Tensor:
    return apply(CUMSUM, (x,), dim=dim, dtype=None, reverse=reverse)


def _scan_dtype(x: Tensor, dtype):
    """(input, NumPy accumulation dtype): integers and bools accumulate in int64 unless
    ``dtype`` is given, which casts the input first (PyTorch's rule)."""
    if dtype is not None:
        target = as_dtype(dtype)
        x = cast(x, target)
        return x, (None if target.is_floating_point else target.np)
    return x, (None if x.dtype.is_floating_point else np.int64)


@tensor_method("cumsum")
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along ``dim``; integer and bool tensors sum to int64 unless ``dtype``."""
    x = _arg(input, "cumsum")
    d = single_dim(dim, x._data.ndim, "cumsum")
    x, acc = _scan_dtype(x, dtype)
    return apply(CUMSUM, (x,), dim=d, dtype=acc, reverse=False)


def _cumprod_forward(a, *, dim, dtype):
    if a.ndim == 0:
        return a.astype(dtype or a.dtype)
    return np.cumprod(a, axis=dim, dtype=dtype)


def _cumprod_vjp(ctx, g):
    # out_k = x_0 ... x_k. Let z be the first zero of a slice along dim. For i < z,
    # d out_k / d x_i = out_k / x_i, so grad_i = revcumsum(g * out)_i / x_i. At i = z the
    # division fails; there grad_z = sum_{k >= z} g_k * out'_k where out' is the cumprod with
    # x_z replaced by 1. Past z every out_k holds the factor x_z = 0, so the gradient is 0.
    x = ctx.inputs[0]
    dim = ctx.attrs["dim"]
    out = ctx.out
    is_zero = eq(x, 0)
    zeros_so_far = _cumsum(cast(is_zero, int64), dim)
    before = eq(zeros_so_far, 0)
    first = is_zero & eq(zeros_so_far, 1)
    x_safe = where(is_zero, 1.0, x)
    before_grad = _cumsum(g * out, dim, reverse=True) / x_safe
    at_zero_grad = _cumsum(g * cumprod(where(first, 1.0, x), dim), dim, reverse=True)
    return (where(before, before_grad, where(first, at_zero_grad, 0.0)),)


CUMPROD = Op("cumprod", _cumprod_forward, _cumprod_vjp, _scan_infer, save_out=True)


@tensor_method("cumprod")
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along ``dim``; the gradient is exact also where the input has zeros.
    Integer and bool tensors multiply in int64 unless ``dtype`` is given."""
    x = _arg(input, "cumprod")
    d = single_dim(dim, x._data.ndim, "cumprod")
    x, acc = _scan_dtype(x, dtype)
    return apply(CUMPROD, (x,), dim=d, dtype=acc)
