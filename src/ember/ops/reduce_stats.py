"""Statistics over dimensions: mean, var, std, var_mean, std_mean, logsumexp, norm.

``mean``, ``var`` and ``logsumexp`` are primitives only for speed (one NumPy pass instead of
five to nine ops; their composites are tested to agree, value and gradient); their vjps are
written with ember ops, so higher-order gradients work. The p-norm is a primitive so that its
gradient at a zero vector is the 0 subgradient PyTorch gives, not the NaN that
``sqrt(sum(x * x))`` would produce. std is ``sqrt(var)``.
"""

from __future__ import annotations

import math

import numpy as np

from ..dtypes import as_dtype, get_default_dtype
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor
from .elementwise import abs, cast, eq, exp, ne, pow, sign, sqrt, where
from .reduce import (
    _arg,
    _reduce_infer,
    expand_reduced,
    reduce_dims,
    reduced_numel,
    reduced_shape,
    sum,
)
from .reduce_extreme import amax, amin
from .registry import Op, apply, tensor_method

# ------------------------------------------------------------------------ mean


def _floating(x: Tensor, dtype, op: str) -> Tensor:
    """``x`` cast to ``dtype`` if given; DTypeError (PyTorch's message) unless floating."""
    if dtype is not None:
        target = as_dtype(dtype)
        if not target.is_floating_point:
            raise DTypeError(
                f"{op}(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {target.name}"
            )
        return cast(x, target)
    if not x.dtype.is_floating_point:
        raise DTypeError(
            f"{op}(): could not infer output dtype. Input dtype must be either a floating "
            f"point or complex dtype. Got: {x.dtype.name} (pass dtype=ember.float32 or call "
            ".float() first)"
        )
    return x


def _mean_forward(a, *, dim, keepdim):
    # an empty reduction divides 0 by 0: NaN, as in PyTorch
    return a.sum(axis=dim, keepdims=keepdim) / reduced_numel(a.shape, dim)


def _mean_vjp(ctx, g):
    a = ctx.inputs[0]
    dims = ctx.attrs["dim"]
    n = reduced_numel(a.shape, dims)  # n == 0 only when the input (and its grad) is empty
    return (expand_reduced(g / max(n, 1), a.shape, dims, ctx.attrs["keepdim"]),)


MEAN = Op("mean", _mean_forward, _mean_vjp, _reduce_infer, save=())


@tensor_method("mean")
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (int, tuple, or None for all); floating tensors only, as in PyTorch
    (give ``dtype`` to average integers). The mean over an empty dimension is NaN."""
    x = _floating(_arg(input, "mean"), dtype, "mean")
    return apply(MEAN, (x,), dim=reduce_dims(dim, x._data.ndim, "mean"), keepdim=keepdim)


# ------------------------------------------------------------------------ var / std


def _correction(op: str, dim, unbiased, correction):
    """(dim, correction) from PyTorch's two spellings: ``correction=`` and legacy ``unbiased``
    (which may also come positionally in place of ``dim``, as in ``var(x, False)``)."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{op}(): got unbiased twice (positionally as dim and by name)")
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}(): pass either unbiased or correction, not both")
        if not isinstance(unbiased, bool):
            raise TypeError(f"{op}(): unbiased must be a bool, got {type(unbiased).__name__}")
        return dim, int(unbiased)
    return dim, 1 if correction is None else correction


def _var_forward(a, *, dim, keepdim, correction):
    n = reduced_numel(a.shape, dim)
    centered = a - a.sum(axis=dim, keepdims=True) / n
    centered *= centered  # in place (a 0-d input gives a NumPy scalar, rebound instead)
    # PyTorch divides by max(0, n - correction): 0/0 is NaN, a positive sum over 0 is inf
    return centered.sum(axis=dim, keepdims=keepdim) / max(n - correction, 0)


def _var_vjp(ctx, g):
    x = ctx.inputs[0]
    dims, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
    denom = max(reduced_numel(x.shape, dims) - ctx.attrs["correction"], 0)
    centered = x - mean(x, dims, keepdim=True)  # through ember ops: the mean's own
    g = expand_reduced(g * (2.0 / denom if denom else math.inf), x.shape, dims, keepdim)
    return (g * centered,)  # dependence on x gives the right second derivative


VAR = Op("var", _var_forward, _var_vjp,
         lambda a, *, dim, keepdim, correction: _reduce_infer(a, dim=dim, keepdim=keepdim))


def _var_parts(input, dim, unbiased, keepdim, correction, op: str):
    """(var, dims, x) for var/std and friends."""
    dim, correction = _correction(op, dim, unbiased, correction)
    x = _arg(input, op)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}(): std and var only support floating point dtypes, got "
                         f"{x.dtype.name}")
    dims = reduce_dims(dim, x._data.ndim, op)
    return apply(VAR, (x,), dim=dims, keepdim=keepdim, correction=correction), dims, x


@tensor_method("var")
def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Variance over ``dim``, dividing by ``N - correction`` (default 1, Bessel's
    correction); ``unbiased=False`` is the legacy spelling of ``correction=0``."""
    return _var_parts(input, dim, unbiased, keepdim, correction, "var")[0]


@tensor_method("std")
def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """Standard deviation, ``sqrt(var(...))``; arguments as :func:`var`."""
    return sqrt(_var_parts(input, dim, unbiased, keepdim, correction, "std")[0])


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(var, mean)`` over ``dim``; arguments as :func:`var`."""
    var_, dims, x = _var_parts(input, dim, unbiased, keepdim, correction, "var_mean")
    return var_, mean(x, dims, keepdim)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple:
    """``(std, mean)`` over ``dim``; arguments as :func:`var`."""
    var_, dims, x = _var_parts(input, dim, unbiased, keepdim, correction, "std_mean")
    return sqrt(var_), mean(x, dims, keepdim)


# ------------------------------------------------------------------------ logsumexp


def _logsumexp_forward(a, *, dim, keepdim):
    if reduced_numel(a.shape, dim) == 0:  # an empty sum: log(0) = -inf
        return np.log(np.exp(a).sum(axis=dim, keepdims=keepdim))
    if a.ndim == 0:  # the log-sum-exp of one element is that element
        return a.copy()
    shift = a.max(axis=dim, keepdims=True)
    # infinite maxima are not subtracted (inf - inf would give NaN)
    shift[~np.isfinite(shift)] = 0
    out = np.log(np.exp(a - shift).sum(axis=dim, keepdims=True))
    out += shift
    return out if keepdim else out.reshape(reduced_shape(a.shape, dim, False))


def _logsumexp_vjp(ctx, g):
    # d logsumexp / dx = softmax(x) = exp(x - out); ctx.out is connected to this node, so the
    # second derivative flows through it
    x = ctx.inputs[0]
    dims, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
    out = expand_reduced(ctx.out, x.shape, dims, keepdim)
    return (expand_reduced(g, x.shape, dims, keepdim) * exp(x - out),)


LOGSUMEXP = Op("logsumexp", _logsumexp_forward, _logsumexp_vjp, _reduce_infer, save_out=True)


@tensor_method("logsumexp")
def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed stably (the maximum is subtracted first).
    Integer tensors compute in the default float dtype; an empty sum gives -inf."""
    x = _arg(input, "logsumexp")
    if not x.dtype.is_floating_point:
        x = cast(x, get_default_dtype())
    return apply(LOGSUMEXP, (x,), dim=reduce_dims(dim, x._data.ndim, "logsumexp"),
                 keepdim=keepdim)


# ------------------------------------------------------------------------ norm


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _pnorm_forward(a, *, p, dim, keepdim):
    if a.dtype == np.float16:  # accumulate in float32 as PyTorch does: squares overflow half
        return _pnorm_forward(a.astype(np.float32), p=p, dim=dim,
                              keepdim=keepdim).astype(np.float16)
    if p == 2.0:
        if (dim is None or len(dim) == a.ndim) and a.dtype in _BLAS_DTYPES:
            # the whole tensor: one BLAS dot product (as np.linalg.norm does), ~5x faster
            # than squaring into a temporary and summing it
            flat = a.ravel(order="K")  # memory order: a view of any contiguous layout
            out = np.sqrt(np.dot(flat, flat))
            return np.full((1,) * a.ndim if keepdim else (), out, a.dtype)
        return np.sqrt(np.sum(a * a, axis=dim, keepdims=keepdim))
    return np.power(np.sum(np.power(np.abs(a), p), axis=dim, keepdims=keepdim), 1.0 / p)


def _pnorm_vjp(ctx, g):
    # d||x||_p / dx = sign(x) * (|x| / ||x||)^(p-1). Zero denominators are replaced by 1 so
    # the unused branches hold no inf/NaN that would leak into higher-order gradients; the
    # result at a zero vector is the 0 subgradient, as in PyTorch.
    x = ctx.inputs[0]
    p, dims, keepdim = ctx.attrs["p"], ctx.attrs["dim"], ctx.attrs["keepdim"]
    shape = x.shape
    out = expand_reduced(ctx.out, shape, dims, keepdim)
    out_safe = where(eq(out, 0), 1.0, out)
    g = expand_reduced(g, shape, dims, keepdim)
    if p == 2.0:
        return (g * x / out_safe,)
    abs_safe = where(eq(x, 0), 1.0, abs(x))
    return (g * sign(x) * pow(abs_safe / out_safe, p - 1.0),)


PNORM = Op("pnorm", _pnorm_forward, _pnorm_vjp,
           lambda a, *, p, dim, keepdim: _reduce_infer(a, dim=dim, keepdim=keepdim),
           save_out=True)


@tensor_method("norm")
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (int, tuple, or None for all elements).

    ``p``: 'fro' (the default; the 2-norm of the elements), any number, ``inf`` (max |x|),
    ``-inf`` (min |x|) or 0 (the count of non-zeros). The gradient at a zero vector is 0.
    ``p='nuc'`` (a matrix norm) is not supported.
    """
    x = _arg(input, "norm")
    if dtype is not None:
        x = cast(x, as_dtype(dtype))
    if not x.dtype.is_floating_point:
        raise DTypeError(f"norm(): expected a floating point tensor as input, got "
                         f"{x.dtype.name}")
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm(): p must be a number or 'fro', got {p!r}"
                             + (" (the nuclear norm is not supported)" if p == "nuc" else ""))
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ShapeError(f"norm(): p='fro' takes at most 2 dims, got dim={tuple(dim)}")
        p = 2.0
    elif isinstance(p, bool) or not isinstance(p, (int, float)):
        raise TypeError(f"norm(): p must be a number or 'fro', got {type(p).__name__}")
    p = float(p)
    dims = reduce_dims(dim, x._data.ndim, "norm")
    if math.isinf(p):
        if reduced_numel(x._data.shape, dims) == 0:
            raise ShapeError(
                f"norm(): cannot compute the {p} norm over an empty dimension (input shape "
                f"{list(x._data.shape)}): the operation has no identity"
            )
        return (amax if p > 0 else amin)(abs(x), dims, keepdim)
    if p == 0.0:
        return cast(sum(ne(x, 0), dims, keepdim), x.dtype)
    if p == 1.0:
        return sum(abs(x), dims, keepdim)
    return apply(PNORM, (x,), p=p, dim=dims, keepdim=keepdim)
