"""Activation functions of ``ember.nn.functional``, with PyTorch's names and defaults.

Most are thin wrappers over the ember ops of ``ops/elementwise.py`` and ``ops/nn.py``
(relu, gelu, silu, softplus, softmax, ...), so each primitive exists once. The rest are
composites of those ops, except ``hardtanh`` (and ``relu6``, which is a hardtanh): its
gradient is 0 *at* the bounds, as in PyTorch, where ``clamp``'s is 1, so it is its own
primitive.

``inplace=True`` writes the result into ``input`` (through ``copy_``, so autograd's in-place
rules apply) and returns it, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from ... import ops as _ops  # noqa: F401  (registers the op families)
from ...errors import DTypeError
from ...ops import elementwise as _ew
from ...ops import nn as _nn
from ...ops.registry import Op, TensorSpec, apply, as_tensor_arg
from ...tensor import Tensor

# PyTorch's SELU constants (Klambauer et al., 2017), to full double precision.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_input(input, op: str) -> Tensor:
    x = input if type(input) is Tensor else as_tensor_arg(input, "input", op)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating-point input, got {x.dtype.name}")
    return x


def _finish(input, out: Tensor, inplace: bool) -> Tensor:
    """Return ``out``, or write it into ``input`` when ``inplace`` (PyTorch's ``relu_`` etc.)."""
    if inplace:
        return input.copy_(out)
    return out


# ------------------------------------------------------------------------ hardtanh primitive


def _hardtanh_vjp(ctx, g):
    x = ctx.inputs[0]
    lo, hi = ctx.attrs["min_val"], ctx.attrs["max_val"]
    inside = _ew.logical_and(x > lo, x < hi)
    return (_ew.where(inside, g, _ew.zeros_like_t(g)),)


def _hardtanh_infer(a: TensorSpec, **_) -> TensorSpec:
    return a


HARDTANH = Op("hardtanh", lambda a, *, min_val, max_val: np.clip(a, min_val, max_val),
              _hardtanh_vjp, _hardtanh_infer)


# ------------------------------------------------------------------------ public functions


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)`` elementwise."""
    return _finish(input, _ew.relu(input), inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Clamp to ``[min_val, max_val]``; the gradient is 0 outside the open interval."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    x = _float_input(input, "hardtanh")
    out = apply(HARDTANH, (x,), min_val=float(min_val), max_val=float(max_val))
    return _finish(input, out, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``negative_slope * input`` elsewhere."""
    return _finish(input, _ew.leaky_relu(input, negative_slope), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere."""
    return _finish(input, _ew.elu(input, alpha), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Self-normalizing ELU: ``scale * elu(input, alpha)`` with PyTorch's fixed constants."""
    x = _float_input(input, "selu")
    return _finish(input, _ew.elu(x, _SELU_ALPHA) * _SELU_SCALE, inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` uses the tanh approximation."""
    return _ew.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * sigmoid(input)`` (swish)."""
    return _finish(input, _ew.silu(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * tanh(softplus(input))``."""
    x = _float_input(input, "mish")
    return _finish(input, x * _ew.tanh(_ew.softplus(x)), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * input)) / beta``; linear where ``beta * input > threshold``."""
    return _ew.softplus(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """``input / (1 + |input|)``."""
    x = _float_input(input, "softsign")
    return x / (_ew.abs(x) + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Piecewise-linear sigmoid: ``relu6(input + 3) / 6``."""
    x = _float_input(input, "hardsigmoid")
    return _finish(input, hardtanh(x + 3, 0.0, 6.0) / 6, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``input * relu6(input + 3) / 6`` (MobileNetV3)."""
    x = _float_input(input, "hardswish")
    # Written piecewise rather than as x * hardsigmoid(x) so that the gradient at the kinks
    # is PyTorch's: 0 at x = -3 and 1 at x = 3 (the outer pieces' slopes).
    middle = x * (x + 3) / 6
    return _finish(input, _ew.where(x <= -3, x * 0, _ew.where(x >= 3, x, middle)), inplace)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-input))``."""
    return _ew.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _ew.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(input))``, computed as ``-softplus(-input)`` so it never underflows."""
    x = _float_input(input, "logsigmoid")
    return -_ew.softplus(-x)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """Softmax along ``dim`` (required); ``dtype`` casts the input first."""
    return _nn.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """Log of softmax along ``dim`` (required), computed stably."""
    return _nn.log_softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """``softmax(-input, dim)``."""
    x = input if isinstance(input, Tensor) else as_tensor_arg(input, "input", "softmin")
    return _nn.softmax(-x, dim, dtype)


def tanhshrink(input: Tensor) -> Tensor:
    """``input - tanh(input)``."""
    x = _float_input(input, "tanhshrink")
    return x - _ew.tanh(x)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    x = _float_input(input, "celu")
    out = _ew.elu(x / alpha, 1.0) * alpha
    return _finish(input, out, inplace)


__all__ = ["relu", "relu6", "hardtanh", "leaky_relu", "elu", "selu", "celu", "gelu", "silu",
           "mish", "softplus", "softsign", "hardsigmoid", "hardswish", "sigmoid", "tanh",
           "logsigmoid", "softmax", "log_softmax", "softmin", "tanhshrink"]
