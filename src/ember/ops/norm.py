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

Under ``create_graph=True`` the vjp recomputes ``mean`` and ``rstd`` from ``x`` with ember
ops, so the result is differentiable again (exact higher-order gradients); otherwise it reuses
the saved ones. Attributes: ``dims`` (tuple of non-negative ints), ``eps``, ``has_weight``,
``has_bias``. Tests check each op equals its composite, value and gradient.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import grad_mode
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from .broadcast import broadcast_shapes, sum_to
from .elementwise import add, mul, rsqrt, sub
from .reduce_stats import mean as _mean
from .registry import Op, TensorSpec, apply

# ------------------------------------------------------------------------ statistics


def _keep_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _stats_forward(x: np.ndarray, *, dims: tuple) -> np.ndarray:
    out = np.empty((2,) + _keep_shape(x.shape, dims), dtype=x.dtype)
    np.mean(x, axis=dims, keepdims=True, out=out[0])
    centered = x - out[0]
    centered *= centered
    np.mean(centered, axis=dims, keepdims=True, out=out[1])  # two passes: no cancellation
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
    if grad_mode.enabled:  # create_graph: statistics as differentiable functions of x
        mean = _mean(x, dims, keepdim=True)
        centered = sub(x, mean)
        rstd = rsqrt(add(_mean(mul(centered, centered), dims, keepdim=True), attrs["eps"]))
        xhat = mul(centered, rstd)
    else:
        xhat = mul(sub(x, mean), rstd)
    grads = [None, None, None]
    if need[0]:
        gh = mul(g, w) if w is not None else g
        inner = sub(gh, _mean(gh, dims, keepdim=True))
        inner = sub(inner, mul(xhat, _mean(mul(gh, xhat), dims, keepdim=True)))
        grads[0] = mul(inner, rstd)
    if has_weight:
        grads.append(sum_to(mul(g, xhat), w.shape) if need[3] else None)
    if has_bias:
        grads.append(sum_to(g, params[-1].shape) if need[-1] else None)
    return tuple(grads)


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

    ``op`` is :data:`LAYER_NORM`, :data:`BATCH_NORM` or :data:`GROUP_NORM`; ``weight``/``bias`` must already
    broadcast against ``x``; ``stats`` is ``norm_stats(x, dims)`` if the caller has it.
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
