"""``batch_norm``, ``layer_norm`` and ``group_norm``, with PyTorch's arguments and semantics.

The normalization itself is one fused primitive per call (``ops/norm.py``); this file checks
the arguments, picks the dimensions to normalize over and, for ``batch_norm`` in training,
updates the running statistics in place (momentum-weighted, with the unbiased variance, as
PyTorch does).
"""

from __future__ import annotations

import math

from ...autograd import grad_mode
from ...errors import DTypeError, ShapeError, shape_str
from ...ops import norm as _norm
from ...ops.elementwise import add, mul, rsqrt, sub
from ...ops.registry import as_tensor_arg
from ...tensor import Tensor


def _float_input(input, op: str) -> Tensor:
    x = input if type(input) is Tensor else as_tensor_arg(input, "input", op)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")
    return x


def _channels_input(input, op: str) -> Tensor:
    """A floating-point input of shape (N, C, *)."""
    x = _float_input(input, op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an input of shape (N, C, *) with at least 2 "
                         f"dimensions, got {shape_str(x.shape)}")
    return x


def _check_param(t: Tensor | None, name: str, shape: tuple, x: Tensor, op: str) -> None:
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be an ember.Tensor or None, got {type(t).__name__}")
    if tuple(t.shape) != shape:
        raise ShapeError(f"{op}: expected {name} of shape {shape_str(shape)}, got "
                         f"{shape_str(t.shape)} (input {shape_str(x.shape)})")
    if t.dtype != x.dtype:
        raise DTypeError(f"{op}: {name} is {t.dtype.name} but the input is {x.dtype.name}")


# ------------------------------------------------------------------------ batch_norm


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) of an (N, C, *) input over the batch and spatial dims.

    In training, the batch's statistics are used and, when given, ``running_mean`` and
    ``running_var`` are updated in place: ``running = (1 - momentum) * running + momentum *
    batch`` (the variance unbiased). Otherwise the running statistics are used.
    """
    x = _channels_input(input, "batch_norm")
    shape = tuple(x.shape)
    c = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_param(t, name, (c,), x, "batch_norm")
    param_shape = (c,) + (1,) * (len(shape) - 2)  # broadcasts along dim 1
    w = weight.reshape(param_shape) if weight is not None else None
    b = bias.reshape(param_shape) if bias is not None else None
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when "
                             "training=False")
        # a fixed affine map: scale and shift are computed on (C,) vectors
        scale = rsqrt(add(running_var, eps))
        if weight is not None:
            scale = mul(scale, weight)
        shift = mul(running_mean, scale)
        shift = sub(bias, shift) if bias is not None else -shift
        return add(mul(x, scale.reshape(param_shape)), shift.reshape(param_shape))
    count = shape[0] * math.prod(shape[2:])
    if count <= 1:
        raise ValueError("batch_norm: Expected more than 1 value per channel when training, "
                         f"got input size {shape_str(shape)}")
    dims = (0,) + tuple(range(2, len(shape)))
    stats = _norm.norm_stats(x, dims)
    if running_mean is not None or running_var is not None:
        with grad_mode.no_grad():
            m = float(momentum)
            if running_mean is not None:
                running_mean.mul_(1.0 - m).add_(stats[0].reshape(c), alpha=m)
            if running_var is not None:
                unbiased = stats[1].reshape(c) * (count / (count - 1))
                running_var.mul_(1.0 - m).add_(unbiased, alpha=m)
    return _norm.normalize(_norm.BATCH_NORM, x, dims, eps, w, b, stats)


# ------------------------------------------------------------------------ layer_norm


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the trailing dims given by ``normalized_shape`` (an int or a tuple),
    then scale by ``weight`` and shift by ``bias`` (both of shape ``normalized_shape``)."""
    x = _float_input(input, "layer_norm")
    norm_shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(s) for s in normalized_shape)
    shape, k = tuple(x.shape), len(norm_shape)
    if k == 0 or len(shape) < k or shape[len(shape) - k:] != norm_shape:
        raise ShapeError(f"layer_norm: given normalized_shape={shape_str(norm_shape)}, expected "
                         f"input with shape [*, {', '.join(map(str, norm_shape))}], but got "
                         f"input of size {shape_str(shape)}")
    _check_param(weight, "weight", norm_shape, x, "layer_norm")
    _check_param(bias, "bias", norm_shape, x, "layer_norm")
    dims = tuple(range(len(shape) - k, len(shape)))
    return _norm.normalize(_norm.LAYER_NORM, x, dims, eps, weight, bias)


# ------------------------------------------------------------------------ group_norm


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) of an (N, C, *) input into ``num_groups`` groups and
    normalize each group over its channels and spatial dims; then a per-channel affine."""
    x = _channels_input(input, "group_norm")
    shape = tuple(x.shape)
    c = shape[1]
    if not isinstance(num_groups, int) or num_groups <= 0 or c % num_groups:
        raise ShapeError(f"group_norm: expected number of channels in input to be divisible "
                         f"by num_groups, but got input of shape {shape_str(shape)} and "
                         f"num_groups={num_groups}")
    _check_param(weight, "weight", (c,), x, "group_norm")
    _check_param(bias, "bias", (c,), x, "group_norm")
    grouped = x.reshape(shape[0], num_groups, -1)
    out = _norm.normalize(_norm.GROUP_NORM, grouped, (2,), eps, None, None).reshape(shape)
    param_shape = (c,) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = mul(out, weight.reshape(param_shape))
    if bias is not None:
        out = add(out, bias.reshape(param_shape))
    return out


__all__ = ["batch_norm", "layer_norm", "group_norm"]
