"""Fused normalization primitives: the core of ``layer_norm``, ``batch_norm`` and ``group_norm``.

Written as ember ops, a layer norm is ~10 nodes (mean, sub, square, mean, add, rsqrt, mul,
mul, add) each with its own temporary; here it is two:

- ``norm_stats(x, dims)``: ``[mean, biased var]`` over ``dims`` (keepdim), stacked in one
  array; not differentiable (its users treat the statistics as functions of ``x``, see below);
- ``layer_norm(x, mean, rstd[, weight][, bias])``, and ``batch_norm``/``group_norm`` (the
  same op under other names, so that ``grad_fn`` names say which layer made them):
  ``(x - mean) * rstd * weight + bias`` with ``weight``/``bias`` broadcast against ``x``.

``mean`` and ``rstd`` MUST be the statistics of ``x`` over ``dims`` (``rstd = 1 /
sqrt(var + eps)``): they are inputs so that the forward, a batch norm's running-stat update and
the backward share one computation (as PyTorch's ``native_batch_norm`` returns ``save_mean`` and
``save_invstd``). The vjp is the full derivative through the statistics, written with ember
ops, with ``xhat = (x - mean) * rstd``, ``gh = g * weight`` and means over ``dims``::

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))
    dweight = sum_to(g * xhat),  dbias = sum_to(g)

Under ``create_graph=True`` the vjp is exactly that formula in ember ops, with ``mean`` and
``rstd`` recomputed from ``x`` so the result is differentiable again (exact higher-order
gradients). A first-order backward instead runs the same formula as one fused NumPy kernel,
the primitive ``norm_backward`` (~7 passes over ``x`` instead of ~20 ember ops), reusing the
saved statistics. Attributes: ``dims`` (tuple of non-negative ints), ``eps``, ``has_weight``,
``has_bias``. Tests check each op equals its composite, value and gradient.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..autograd import grad_mode
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from .broadcast import broadcast_shapes, sum_to
from .elementwise import add, mul, rsqrt, sub
from .reduce_stats import mean as _mean
from .registry import Op, TensorSpec, apply, apply_multi

# ------------------------------------------------------------------------ statistics


def _keep_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@functools.lru_cache(maxsize=256)
def _reduce_subscripts(ndim: int, dims: tuple, operands: int) -> str:
    """einsum subscripts multiplying ``operands`` arrays and summing out ``dims``."""
    ins = _LETTERS[:ndim]
    return ",".join([ins] * operands) + "->" + "".join(c for i, c in enumerate(ins)
                                                     if i not in dims)


def _sum_product(dims: tuple, shape: tuple, *arrays) -> np.ndarray:
    """``sum(prod(arrays), dims)`` with keepdim shape ``shape``; einsum reads the operands
    once and allocates no product temporary (2-5x faster than ``(a * b).sum(dims)``)."""
    sub = _reduce_subscripts(arrays[0].ndim, dims, len(arrays))
    return np.einsum(sub, *arrays).reshape(shape)


def _stats_forward(x: np.ndarray, *, dims: tuple) -> np.ndarray:
    keep = _keep_shape(x.shape, dims)
    n = max(math.prod(x.shape[d] for d in dims), 1)
    out = np.empty((2,) + keep, dtype=x.dtype)
    out[0] = _sum_product(dims, keep, x) / n
    centered = x - out[0]  # two passes: no cancellation in E[x^2] - E[x]^2
    out[1] = _sum_product(dims, keep, centered, centered) / n
    return out


def _stats_infer(x: TensorSpec, *, dims: tuple) -> TensorSpec:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"norm_stats: expected a floating-point input, got {x.dtype.name}")
    return TensorSpec((2,) + _keep_shape(tuple(x.shape), dims), x.dtype)


NORM_STATS = Op("norm_stats", _stats_forward, None, _stats_infer, differentiable=False)


def norm_stats(x: Tensor, dims: tuple) -> tuple:
    """``(mean, biased variance)`` of ``x`` over ``dims`` (keepdim shape), without gradient."""
    stats = apply(NORM_STATS, (x,), dims=tuple(dims))
    return stats[0], stats[1]


# ------------------------------------------------------------------------ normalize + affine


def _normalize_forward(x, mean, rstd, *params, dims, eps, has_weight, has_bias):
    w = params[0] if has_weight else None
    b = params[-1] if has_bias else None
    small = broadcast_shapes(mean.shape, w.shape if w is not None else (),
                             b.shape if b is not None else ())
    if math.prod(small) < x.size:
        # per-channel parameters (batch norm): fold everything into one scale and one shift
        # on the small statistics, then two passes over x
        scale = rstd * w if w is not None else rstd
        shift = -mean * scale
        if b is not None:
            shift = shift + b
        out = x * scale
        out += shift
        return out
    out = x - mean
    out *= rstd
    if w is not None:
        out *= w
    if b is not None:
        out += b
    return out


def _normalize_vjp(ctx, g):
    x, mean, rstd, *params = ctx.inputs
    attrs = ctx.attrs
    dims, has_weight, has_bias = attrs["dims"], attrs["has_weight"], attrs["has_bias"]
    need = ctx.needs_input_grad
    w = params[0] if has_weight else None
    b = params[-1] if has_bias else None
    need_w = has_weight and need[3]
    need_b = has_bias and need[-1]
    if grad_mode.enabled:
        dx, dw, db = _composite_grads(g, x, w, b, dims, attrs["eps"], need[0], need_w, need_b)
    else:  # first order: one fused kernel, a primitive so that tracing records it
        wanted = (need[0], need_w, need_b)
        inputs = (g, x, mean, rstd) + ((w,) if has_weight else ())
        found = iter(apply_multi(NORM_BACKWARD, inputs, dims=dims, wanted=wanted,
                                 bias_shape=tuple(b.shape) if need_b else None))
        dx, dw, db = (next(found) if n else None for n in wanted)
    grads = (dx, None, None)
    if has_weight:
        grads += (dw,)
    if has_bias:
        grads += (db,)
    return grads


def _composite_grads(g, x, w, b, dims, eps, need_x, need_w, need_b):
    """The vjp as ember ops, the statistics recomputed from ``x`` so that the result is
    differentiable again (used under ``create_graph=True``)."""
    mean = _mean(x, dims, keepdim=True)
    centered = sub(x, mean)
    rstd = rsqrt(add(_mean(mul(centered, centered), dims, keepdim=True), eps))
    xhat = mul(centered, rstd)
    dx = dw = db = None
    if need_x:
        gh = mul(g, w) if w is not None else g
        inner = sub(gh, _mean(gh, dims, keepdim=True))
        inner = sub(inner, mul(xhat, _mean(mul(gh, xhat), dims, keepdim=True)))
        dx = mul(inner, rstd)
    if need_w:
        dw = sum_to(mul(g, xhat), w.shape)
    if need_b:
        db = sum_to(g, b.shape)
    return dx, dw, db


# ------------------------------------------------------------------------ backward kernel


def _padded(shape: tuple, ndim: int) -> tuple:
    return (1,) * (ndim - len(shape)) + tuple(shape)


def _param_grad(target: tuple, ndim: int, *arrays) -> np.ndarray:
    """``sum_to(prod(arrays), target)`` with one einsum."""
    padded = _padded(target, ndim)
    dims = tuple(i for i in range(ndim) if padded[i] == 1)
    return _sum_product(dims, padded, *arrays).reshape(target)


def _backward_forward(g, x, mean, rstd, *params, dims, wanted, bias_shape):
    """dx, dweight, dbias (those ``wanted``) of ``normalize`` in NumPy, in ~7 passes over
    ``x``: with ``t = x - mean``, ``dx = gh * rstd + t * a + c`` where ``gh = g * weight`` and
    the per-group ``a``, ``c`` come from ``sum(gh)`` and ``sum(gh * t)``. A weight that is
    constant within each group (batch norm's per-channel weight) is folded into ``a``, ``c``
    and the scale instead of multiplying ``g``."""
    w = params[0] if params else None
    ndim, keep = x.ndim, mean.shape
    n = max(math.prod(x.shape[d] for d in dims), 1)
    t = x - mean
    w_per_group = w is None or all(_padded(w.shape, ndim)[d] == 1 for d in dims)
    gh = g if w_per_group else g * w
    outs = []
    dw = None
    if wanted[1]:
        if w_per_group:  # sum(g * xhat) over the group is already per channel
            dw = _param_grad(w.shape, ndim, _sum_product(dims, keep, g, t) * rstd)
        else:
            dw = _param_grad(w.shape, ndim, g, t * rstd)
    if wanted[0]:
        sum_g = _sum_product(dims, keep, gh)
        sum_gt = _sum_product(dims, keep, gh, t)
        scale = rstd * w if w_per_group and w is not None else rstd
        a = scale * rstd * rstd * sum_gt * (-1.0 / n)
        c = scale * sum_g * (-1.0 / n)
        t *= a
        t += c
        if gh is g:
            t += g * scale
        else:
            gh *= scale
            t += gh
        outs.append(t)
    if wanted[1]:
        outs.append(dw.astype(x.dtype, copy=False))
    if wanted[2]:
        outs.append(_param_grad(bias_shape, ndim, g).astype(x.dtype, copy=False))
    return tuple(outs), None


NORM_BACKWARD = Op("norm_backward", _backward_forward, None, None, differentiable=False)


def _normalize_infer(x, mean, rstd, *params, dims, eps, has_weight, has_bias):
    shapes = [tuple(p.shape) for p in (mean, rstd, *params)]
    try:
        broadcast_shapes(tuple(x.shape), *shapes)
    except ShapeError:
        raise ShapeError(f"normalize: statistics/parameters {[shape_str(s) for s in shapes]} "
                         f"do not broadcast against input {shape_str(x.shape)}") from None
    for p in (mean, rstd, *params):
        if p.dtype != x.dtype:
            raise DTypeError(f"normalize: expected all tensors to be {x.dtype.name}, got "
                             f"{p.dtype.name}")
    return x


LAYER_NORM = Op("layer_norm", _normalize_forward, _normalize_vjp, _normalize_infer)
BATCH_NORM = Op("batch_norm", _normalize_forward, _normalize_vjp, _normalize_infer)
GROUP_NORM = Op("group_norm", _normalize_forward, _normalize_vjp, _normalize_infer)


def normalize(op: Op, x: Tensor, dims: tuple, eps: float, weight: Tensor | None,
              bias: Tensor | None, stats: tuple | None = None) -> Tensor:
    """``(x - mean) * rstd * weight + bias`` with ``x``'s own statistics over ``dims``.

    ``op`` is :data:`LAYER_NORM`, :data:`BATCH_NORM` or :data:`GROUP_NORM`; ``weight`` and
    ``bias`` must already broadcast against ``x``; ``stats`` is ``norm_stats(x, dims)`` if the
    caller has it.
    """
    if stats is None:
        stats = norm_stats(x, dims)
    mean, var = stats
    with grad_mode.no_grad():
        rstd = rsqrt(add(var, eps))
    inputs = (x, mean, rstd)
    if weight is not None:
        inputs += (weight,)
    if bias is not None:
        inputs += (bias,)
    return apply(op, inputs, dims=tuple(dims), eps=float(eps), has_weight=weight is not None,
                 has_bias=bias is not None)


def normalize_composite(x: Tensor, dims: tuple, eps: float, weight: Tensor | None,
                        bias: Tensor | None) -> Tensor:
    """The same computation as plain ember ops (the reference the fused ops are tested
    against)."""
    mean = _mean(x, dims, keepdim=True)
    centered = sub(x, mean)
    out = mul(centered, rsqrt(add(_mean(mul(centered, centered), dims, keepdim=True), eps)))
    if weight is not None:
        out = mul(out, weight)
    if bias is not None:
        out = add(out, bias)
    return out


__all__: list = []  # internal primitives; the public functions are in nn.functional
