"""Activation functions: relu, leaky_relu, elu, gelu, silu, softplus.

(sigmoid and tanh are math functions in ``unary.py``, as ``torch.sigmoid``/``torch.tanh``.)
Each is one primitive for speed, with its vjp written with ember ops; ``nn.functional`` wraps
these with PyTorch's ``inplace=`` arguments.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import special as _special
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .operands import float_arg, same_spec, tensor_arg, zeros_like_t
from .registry import Op, TensorSpec, apply, tensor_method
from .selection import where
from .unary import exp, sigmoid, sigmoid_forward, tanh


def _zero(dtype) -> np.ndarray:
    zero = np.zeros((), dtype)
    zero.flags.writeable = False
    return zero


# 0-d zeros made once per dtype: a Python 0 is converted anew on every ufunc call (~0.5 us)
_ZEROS = {z.dtype: z for z in map(_zero, (np.float16, np.float32, np.float64, np.int64,
                                          np.int32, np.int16, np.int8, np.uint8))}


def _zero_of(dtype) -> np.ndarray:
    zero = _ZEROS.get(dtype)
    return zero if zero is not None else _zero(dtype)


def _relu_forward(a):
    return np.maximum(a, _zero_of(a.dtype))


def _relu_backward_forward(g, out):
    # one pass over g: the bool mask is cast inside the multiply's loop, never materialized
    # as a float array (np.where is ~10x slower here: it branches on a random mask)
    return np.multiply(g, np.greater(out, _zero_of(out.dtype)), dtype=g.dtype)


def _relu_backward_vjp(ctx, gg):
    # linear in g with the same mask; piecewise constant in out (zero, as PyTorch's
    # threshold_backward gives)
    need_g, need_out = ctx.needs_input_grad
    out = ctx.inputs[1]
    return (relu_backward(gg, out) if need_g else None,
            zeros_like_t(gg) if need_out else None)


def _relu_backward_infer(g: TensorSpec, out: TensorSpec) -> TensorSpec:
    if tuple(g.shape) != tuple(out.shape):
        raise ShapeError(f"relu_backward: grad of shape {shape_str(g.shape)} for an output "
                         f"of shape {shape_str(out.shape)}")
    return g


# The gradient of relu, a primitive of its own so the backward is one pass and yet
# differentiable again (create_graph=True).
RELU_BACKWARD = Op("relu_backward", _relu_backward_forward, _relu_backward_vjp,
                   _relu_backward_infer, save=(1,))


def relu_backward(grad: Tensor, out: Tensor) -> Tensor:
    """``grad`` where relu's output ``out`` is positive, else 0 (the vjp of relu)."""
    return apply(RELU_BACKWARD, (grad, out))


RELU = Op("relu", _relu_forward, lambda ctx, g: (relu_backward(g, ctx.out),), same_spec,
          save=(), save_out=True)


def _leaky_forward(a, *, negative_slope):
    return np.where(a > 0, a, a * np.asarray(negative_slope, a.dtype))


LEAKY_RELU = Op("leaky_relu", _leaky_forward,
                lambda ctx, g: (where(ctx.inputs[0] > 0, g,
                                      g * ctx.attrs["negative_slope"]),), same_spec)


def _elu_forward(a, *, alpha):
    return np.where(a > 0, a, np.expm1(np.minimum(a, 0)) * np.asarray(alpha, a.dtype))


ELU = Op("elu", _elu_forward,
         lambda ctx, g: (where(ctx.inputs[0] > 0, g, g * (ctx.out + ctx.attrs["alpha"])),),
         same_spec, save_out=True)

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _in_kernel_dtype(fn, *arrays):
    """``fn`` on float32/float64 arrays; float16 is computed in float32 and rounded once."""
    dtype = arrays[0].dtype
    if dtype in _KERNEL_DTYPES:
        return fn(*arrays)
    return fn(*(a.astype(np.float32) for a in arrays)).astype(dtype)


def _gelu_forward(a, *, approximate):
    if approximate == "tanh":
        inner = np.tanh((a + 0.044715 * a * a * a) * np.asarray(_SQRT_2_OVER_PI, a.dtype))
        return (0.5 * a * (1 + inner)).astype(a.dtype, copy=False)
    return _in_kernel_dtype(_special.gelu, a)


def _gelu_backward_vjp(ctx, gg):
    # gelu_backward(g, x) = g * (cdf + x * pdf) is linear in g; its x-derivative is
    # g * pdf * (2 - x^2), since pdf'(x) = -x * pdf(x)
    need_g, need_x = ctx.needs_input_grad
    g, x = ctx.inputs
    gg_g = gelu_backward(gg, x) if need_g else None
    gg_x = None
    if need_x:
        pdf = exp(-0.5 * x * x) * _INV_SQRT_2PI
        gg_x = gg * g * pdf * (2 - x * x)
    return gg_g, gg_x


def _gelu_backward_infer(g: TensorSpec, x: TensorSpec) -> TensorSpec:
    if tuple(g.shape) != tuple(x.shape):
        raise ShapeError(f"gelu_backward: grad of shape {shape_str(g.shape)} for an input "
                         f"of shape {shape_str(x.shape)}")
    return g


# The gradient of exact GELU as one blocked kernel (no chain of full-size temporaries),
# a primitive of its own so it is still differentiable (create_graph=True).
GELU_BACKWARD = Op("gelu_backward", lambda g, x: _in_kernel_dtype(_special.gelu_backward, g, x),
                   _gelu_backward_vjp, _gelu_backward_infer)


def gelu_backward(grad: Tensor, input: Tensor) -> Tensor:
    """``grad * d gelu(input) / d input`` for exact GELU (the vjp of ``gelu``)."""
    return apply(GELU_BACKWARD, (grad, input))


def _gelu_vjp(ctx, g):
    x = ctx.inputs[0]
    if ctx.attrs["approximate"] == "tanh":
        inner = (x + 0.044715 * x * x * x) * _SQRT_2_OVER_PI
        t = tanh(inner)
        d_inner = (1 + 3 * 0.044715 * x * x) * _SQRT_2_OVER_PI
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)
    return (gelu_backward(g, x),)


GELU = Op("gelu", _gelu_forward, _gelu_vjp, same_spec)


def _silu_vjp(ctx, g):
    x = ctx.inputs[0]
    s = sigmoid(x)
    return (g * s * (1 + x * (1 - s)),)


SILU = Op("silu", lambda a: a * sigmoid_forward(a), _silu_vjp, same_spec)


def _softplus_forward(a, *, beta, threshold):
    bx = a * np.asarray(beta, a.dtype)
    soft = np.logaddexp(0, bx).astype(a.dtype, copy=False) / np.asarray(beta, a.dtype)
    return np.where(bx > threshold, a, soft)


def _softplus_vjp(ctx, g):
    x = ctx.inputs[0]
    beta, threshold = ctx.attrs["beta"], ctx.attrs["threshold"]
    return (where(x * beta > threshold, g, g * sigmoid(x * beta)),)


SOFTPLUS = Op("softplus", _softplus_forward, _softplus_vjp, same_spec)


@tensor_method("relu")
def relu(input) -> Tensor:
    """max(input, 0)."""
    return apply(RELU, (tensor_arg(input, "relu"),))


@tensor_method("leaky_relu")
def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``."""
    return apply(LEAKY_RELU, (float_arg(input, "leaky_relu"),),
                 negative_slope=float(negative_slope))


@tensor_method("elu")
def elu(input, alpha: float = 1.0) -> Tensor:
    """``input`` where positive, else ``alpha * (exp(input) - 1)``."""
    return apply(ELU, (float_arg(input, "elu"),), alpha=float(alpha))


@tensor_method("gelu")
def gelu(input, approximate: str = "none") -> Tensor:
    """GELU, exact (``approximate='none'``, with erf) or the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(GELU, (float_arg(input, "gelu"),), approximate=approximate)


@tensor_method("silu")
def silu(input) -> Tensor:
    """x * sigmoid(x) (a.k.a. swish)."""
    return apply(SILU, (float_arg(input, "silu"),))


@tensor_method("softplus")
def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` for stability."""
    return apply(SOFTPLUS, (float_arg(input, "softplus"),), beta=float(beta),
                 threshold=float(threshold))


__all__ = ["relu", "leaky_relu", "elu", "gelu", "silu", "softplus"]
