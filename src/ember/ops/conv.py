"""Convolution primitives: ``conv2d`` and the two adjoints that are its backward.

With ``T(x, w, g) = <conv2d(x, w), g>`` (trilinear), the three primitives are the three
partial derivatives of ``T``, so each one's vjp is made of the others and gradients of any
order stay in this closed set:

- ``conv2d(x, w[, b])``                     vjp: ``x <- backward_input(g, w)``,
  ``w <- backward_weight(g, x)``, ``b <- sum(g, (0, 2, 3))`` (first order with both weight
  and bias gradients: one ``conv2d_backward_weight_bias`` op, which oneDNN runs as one
  primitive)
- ``conv2d_backward_input(g, w)``   vjp: ``g <- conv2d(u, w)``, ``w <- backward_weight(g, u)``
- ``conv2d_backward_weight(g, x)``  vjp: ``g <- conv2d(x, v)``, ``x <- backward_input(g, v)``

``conv_transpose2d`` is ``conv2d_backward_input`` run forward. 1-D convolutions are 2-D ones
with a height of 1 (nn.functional does the reshaping).

The kernels are in ``ember/backend/conv.py``. When the weight's gradient will be needed, the
functional layer passes ``cache=[]``: the forward leaves its im2col matrix there and the vjp
hands it to ``conv2d_backward_weight``, which then skips a second im2col (memory: the matrix,
``kH*kW`` times the input, lives from forward to backward; the vjp drops it after use).

Attributes: ``stride``/``dilation`` ``(h, w)``, ``padding`` ``((top, bottom), (left, right))``,
``groups``; ``weight_version``: in eager mode the entry points pass the weight tensor's
version counter, so that the oneDNN backend reuses its reordered copy of the weight until the
tensor changes (``backends/onednn/conv.py``). While tracing they pass None: a compiled graph
may rewrite a weight's memory (a planned buffer, an update computed in place) with the
counter moved only at the end of the run, so compiled kernels reorder on every call.
"""

from __future__ import annotations

from .. import tracing as _tracing
from ..autograd import grad_mode
from ..backend import conv as kernels
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor
from .reduce import sum as _sum
from .registry import Op, TensorSpec, apply, apply_multi

# ------------------------------------------------------------------------ infer rules


def _check_dtypes(op: str, a: TensorSpec, b: TensorSpec, what: str) -> None:
    if not a.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating-point input, got {a.dtype.name}")
    if a.dtype != b.dtype:
        raise DTypeError(f"{op}: input ({a.dtype.name}) and {what} ({b.dtype.name}) must have "
                         "the same dtype")


def conv2d_output_shape(op: str, x_shape: tuple, w_shape: tuple, stride, padding, dilation,
                        groups: int) -> tuple:
    """``(N, C_out, H_out, W_out)``, or a ShapeError naming ``op`` and the shapes."""
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ShapeError(f"{op}: expected a 4-D input and a 4-D weight, got input "
                         f"{shape_str(x_shape)} and weight {shape_str(w_shape)}")
    n, c, h, w = x_shape
    cout, cg, kh, kw = w_shape
    if groups < 1 or cout % groups:
        raise ShapeError(f"{op}: out_channels {cout} (weight {shape_str(w_shape)}) must be "
                         f"divisible by groups={groups}")
    if c != cg * groups:
        raise ShapeError(f"{op}: expected input {shape_str(x_shape)} to have {cg * groups} "
                         f"channels (weight {shape_str(w_shape)}, groups={groups}), got {c}")
    out = []
    for d, size, k in ((0, h, kh), (1, w, kw)):
        padded = size + padding[d][0] + padding[d][1]
        span = dilation[d] * (k - 1) + 1
        if span > padded:
            raise ShapeError(
                f"{op}: kernel size {(kh, kw)} (dilated: {span}) is larger than the padded "
                f"input size {padded} along {'HW'[d]} (input {shape_str(x_shape)})")
        out.append(kernels.conv_output_size(size, k, stride[d], padding[d], dilation[d]))
    return (n, cout, out[0], out[1])


def _conv2d_infer(x, w, b=None, *, stride, padding, dilation, groups, cache=None,
                  weight_version=None):
    _check_dtypes("conv2d", x, w, "weight")
    if b is not None:
        _check_dtypes("conv2d", x, b, "bias")
        if tuple(b.shape) != (w.shape[0],):
            raise ShapeError(f"conv2d: bias of shape {shape_str(b.shape)} does not match "
                             f"{w.shape[0]} output channels")
    shape = conv2d_output_shape("conv2d", tuple(x.shape), tuple(w.shape), stride, padding,
                                dilation, groups)
    return TensorSpec(shape, x.dtype)


def _backward_input_infer(g, w, *, input_shape, stride, padding, dilation, groups,
                          weight_version=None):
    _check_dtypes("conv2d_backward_input", g, w, "weight")
    expected = conv2d_output_shape("conv2d_backward_input", tuple(input_shape), tuple(w.shape),
                                   stride, padding, dilation, groups)
    if tuple(g.shape) != expected:
        raise ShapeError(f"conv2d_backward_input: gradient of shape {shape_str(g.shape)} "
                         f"does not fit input {shape_str(input_shape)} and weight "
                         f"{shape_str(w.shape)} (expected {shape_str(expected)})")
    return TensorSpec(tuple(input_shape), g.dtype)


def _backward_weight_infer(g, x, *, weight_shape, stride, padding, dilation, groups,
                           cols=None):
    _check_dtypes("conv2d_backward_weight", g, x, "input")
    expected = conv2d_output_shape("conv2d_backward_weight", tuple(x.shape),
                                   tuple(weight_shape), stride, padding, dilation, groups)
    if tuple(g.shape) != expected:
        raise ShapeError(f"conv2d_backward_weight: gradient of shape {shape_str(g.shape)} "
                         f"does not fit input {shape_str(x.shape)} and weight "
                         f"{shape_str(weight_shape)} (expected {shape_str(expected)})")
    return TensorSpec(tuple(weight_shape), g.dtype)


# ------------------------------------------------------------------------ forwards and vjps


def _conv2d_forward(x, w, b=None, *, stride, padding, dilation, groups, cache=None,
                    weight_version=None):
    out, cols = kernels.conv2d_forward(x, w, b, stride, padding, dilation, groups,
                                       keep_cols=cache is not None,
                                       weight_version=weight_version)
    if cache is not None:
        cache[:] = [cols]
    return out


def _geometry(attrs: dict) -> dict:
    return {k: attrs[k] for k in ("stride", "padding", "dilation", "groups")}


def _conv2d_vjp(ctx, g):
    need = ctx.needs_input_grad
    x, w = ctx.inputs[0], ctx.inputs[1]
    geo = _geometry(ctx.attrs)
    cache = ctx.attrs.get("cache")
    cols = cache.pop() if cache else None  # used once: the memory goes with this backward
    gx = conv2d_backward_input(g, w, tuple(x.shape), **geo) if need[0] else None
    if len(need) == 3 and need[1] and need[2] and not grad_mode.enabled:
        # first order: weight and bias gradients from one op (one oneDNN primitive)
        gw, gb = apply_multi(CONV2D_BACKWARD_WEIGHT_BIAS, (g, x), weight_shape=tuple(w.shape),
                             cols=cols, **geo)
        return gx, gw, gb
    gw = conv2d_backward_weight(g, x, tuple(w.shape), cols=cols, **geo) if need[1] else None
    if len(need) == 3:
        return gx, gw, (_sum(g, dim=(0, 2, 3)) if need[2] else None)
    return gx, gw


def _backward_input_vjp(ctx, u):
    need = ctx.needs_input_grad
    g, w = ctx.inputs
    geo = _geometry(ctx.attrs)
    return (conv2d(u, w, **geo) if need[0] else None,
            conv2d_backward_weight(g, u, tuple(w.shape), **geo) if need[1] else None)


def _backward_weight_vjp(ctx, v):
    need = ctx.needs_input_grad
    g, x = ctx.inputs
    geo = _geometry(ctx.attrs)
    return (conv2d(x, v, **geo) if need[0] else None,
            conv2d_backward_input(g, v, tuple(x.shape), **geo) if need[1] else None)


def _backward_weight_forward(g, x, *, weight_shape, stride, padding, dilation, groups,
                             cols=None):
    return kernels.conv2d_backward_weight(g, x, weight_shape, stride, padding, dilation, groups,
                                          cols)


def _backward_weight_bias_forward(g, x, *, weight_shape, stride, padding, dilation, groups,
                                  cols=None):
    outs = kernels.conv2d_backward_weight(g, x, weight_shape, stride, padding, dilation,
                                          groups, cols, with_bias=True)
    return outs, None


def _backward_weight_bias_infer(g, x, *, weight_shape, stride, padding, dilation, groups,
                                cols=None):
    gw = _backward_weight_infer(g, x, weight_shape=weight_shape, stride=stride,
                                padding=padding, dilation=dilation, groups=groups)
    return gw, TensorSpec((weight_shape[0],), g.dtype)


CONV2D = Op("conv2d", _conv2d_forward, _conv2d_vjp, _conv2d_infer, save=(0, 1))
CONV2D_BACKWARD_INPUT = Op(
    "conv2d_backward_input",
    lambda g, w, *, input_shape, stride, padding, dilation, groups, weight_version=None:
        kernels.conv2d_backward_input(g, w, input_shape, stride, padding, dilation, groups,
                                      weight_version=weight_version),
    _backward_input_vjp, _backward_input_infer)
CONV2D_BACKWARD_WEIGHT = Op("conv2d_backward_weight", _backward_weight_forward,
                            _backward_weight_vjp, _backward_weight_infer)
# (grad_weight, grad_bias) of conv2d in one call: first-order backward only (no vjp; a
# create_graph backward uses the two differentiable ops above)
CONV2D_BACKWARD_WEIGHT_BIAS = Op("conv2d_backward_weight_bias", _backward_weight_bias_forward,
                                 None, _backward_weight_bias_infer, differentiable=False)


def _version_of(w: Tensor) -> list | None:
    """``w``'s version counter for the backend's weight cache; None while tracing (see the
    module docstring)."""
    return w._version_box() if _tracing.current is None else None


# ------------------------------------------------------------------------ entry points
# Arguments are already normalized (pairs, padding pairs of pairs): nn.functional checks
# and converts what users pass.


def conv2d(x: Tensor, w: Tensor, b: Tensor | None = None, *, stride: tuple, padding: tuple,
           dilation: tuple, groups: int, cache: list | None = None) -> Tensor:
    """The ``conv2d`` primitive on a 4-D input (``cache=[]`` keeps im2col for backward)."""
    inputs = (x, w) if b is None else (x, w, b)
    return apply(CONV2D, inputs, stride=stride, padding=padding, dilation=dilation,
                 groups=groups, cache=cache, weight_version=_version_of(w))


def conv2d_backward_input(g: Tensor, w: Tensor, input_shape: tuple, *, stride: tuple,
                          padding: tuple, dilation: tuple, groups: int) -> Tensor:
    """Gradient of ``conv2d`` w.r.t. an input of ``input_shape`` (conv_transpose2d's forward)."""
    return apply(CONV2D_BACKWARD_INPUT, (g, w), input_shape=tuple(input_shape), stride=stride,
                 padding=padding, dilation=dilation, groups=groups,
                 weight_version=_version_of(w))


def conv2d_backward_weight(g: Tensor, x: Tensor, weight_shape: tuple, *, stride: tuple,
                           padding: tuple, dilation: tuple, groups: int, cols=None) -> Tensor:
    """Gradient of ``conv2d`` w.r.t. a weight of ``weight_shape``; ``cols`` is the forward's
    im2col of ``x`` when it was kept."""
    return apply(CONV2D_BACKWARD_WEIGHT, (g, x), weight_shape=tuple(weight_shape), stride=stride,
                 padding=padding, dilation=dilation, groups=groups, cols=cols)


__all__ = ["conv2d", "conv2d_backward_input", "conv2d_backward_weight",
           "conv2d_output_shape"]
