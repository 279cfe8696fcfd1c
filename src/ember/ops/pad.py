"""``pad``: PyTorch's ``torch.nn.functional.pad`` (constant, reflect, replicate, circular).

Two primitive pairs. Constant padding with widths ``w`` is linear and its adjoint is
constant padding with ``-w`` (negative widths crop), so one op is its own backward. The other
modes copy input elements into the border; their adjoint ``pad_backward`` folds the border's
gradient back onto the elements it was copied from, and its adjoint is the pad again.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from .checks import require_tensor
from .registry import Op, TensorSpec, apply

_index = operator.index
_FULL = slice(None)
_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _padded_shape(shape: tuple, widths: tuple) -> tuple:
    return tuple(n + b + e for n, (b, e) in zip(shape, widths))


def _pad_infer(a: TensorSpec, *, widths: tuple, value=0.0) -> TensorSpec:
    if len(widths) != a.ndim:
        raise ShapeError(f"pad: widths for {len(widths)} dims given to a tensor of shape "
                         f"{shape_str(a.shape)}")
    for d, (n, (b, e)) in enumerate(zip(a.shape, widths)):
        if n + b + e < 0:
            raise ShapeError(f"pad: dim {d} of size {n} with padding ({b}, {e}) would have a "
                             f"negative size {n + b + e}")
    return TensorSpec(_padded_shape(a.shape, widths), a.dtype)


def _constant_forward(a, *, widths, value):
    if min(b for pair in widths for b in pair) < 0:  # negative widths crop first
        a = a[tuple(slice(max(-b, 0), n - max(-e, 0)) for n, (b, e) in zip(a.shape, widths))]
        widths = tuple((max(b, 0), max(e, 0)) for b, e in widths)
    out = np.full(_padded_shape(a.shape, widths), value, dtype=a.dtype)
    out[tuple(slice(b, b + n) for n, (b, _) in zip(a.shape, widths))] = a
    return out


PAD_CONSTANT = Op(
    "pad_constant", _constant_forward,
    lambda ctx, g: (apply(PAD_CONSTANT, (g,), value=0,
                          widths=tuple((-b, -e) for b, e in ctx.attrs["widths"])),),
    _pad_infer, save=())


def _mode_infer(a: TensorSpec, *, widths: tuple, mode: str) -> TensorSpec:
    for d, (n, (b, e)) in enumerate(zip(a.shape, widths)):
        if b < 0 or e < 0:
            raise ShapeError(f"pad: negative padding ({b}, {e}) at dim {d} is only supported "
                             "in 'constant' mode")
        if mode == "reflect" and (b >= n or e >= n) and (b or e):
            raise ShapeError(f"pad: reflect padding ({b}, {e}) must be smaller than the size "
                             f"{n} of dim {d} of the input {shape_str(a.shape)}")
        if mode == "circular" and (b > n or e > n):
            raise ShapeError(f"pad: circular padding ({b}, {e}) must be at most the size {n} "
                             f"of dim {d} of the input {shape_str(a.shape)}")
        if mode == "replicate" and n == 0 and (b or e):
            raise ShapeError(f"pad: cannot replicate-pad dim {d} of size 0 of the input "
                             f"{shape_str(a.shape)}")
    return _pad_infer(a, widths=widths)


def _fold_forward(g, *, widths, mode):
    out = g
    for d, (b, e) in enumerate(widths):
        if not (b or e):
            continue
        n = out.shape[d] - b - e

        def at(s, d=d):
            return (_FULL,) * d + (s,)

        res = out[at(slice(b, b + n))].copy()
        left, right = out[at(slice(0, b))], out[at(slice(b + n, b + n + e))]
        if mode == "reflect":  # border element j came from index b - j (mirror, no edge)
            if b:
                res[at(slice(1, b + 1))] += np.flip(left, d)
            if e:
                res[at(slice(n - 1 - e, n - 1))] += np.flip(right, d)
        elif mode == "replicate":
            if b:
                res[at(slice(0, 1))] += left.sum(axis=d, keepdims=True)
            if e:
                res[at(slice(n - 1, n))] += right.sum(axis=d, keepdims=True)
        else:  # circular
            if b:
                res[at(slice(n - b, n))] += left
            if e:
                res[at(slice(0, e))] += right
        out = res
    return out


def _fold_infer(g: TensorSpec, *, widths, mode) -> TensorSpec:
    shape = tuple(n - b - e for n, (b, e) in zip(g.shape, widths))
    _mode_infer(TensorSpec(shape, g.dtype), widths=widths, mode=mode)
    return TensorSpec(shape, g.dtype)


PAD = Op("pad", lambda a, *, widths, mode: np.pad(a, widths, mode=_NUMPY_MODE[mode]),
         lambda ctx, g: (apply(PAD_BACKWARD, (g,), **ctx.attrs),), _mode_infer, save=())
PAD_BACKWARD = Op("pad_backward", _fold_forward,
                  lambda ctx, g: (apply(PAD, (g,), **ctx.attrs),), _fold_infer, save=())


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad ``input``; ``pad`` lists (before, after) widths starting from the LAST dim:
    ``(left, right)`` pads dim -1, ``(left, right, top, bottom)`` dims -1 and -2, and so on.

    ``mode``: 'constant' (fill with ``value``, default 0; negative widths crop), 'reflect'
    (mirror without repeating the edge), 'replicate' (repeat the edge) or 'circular' (wrap
    around). Unlike PyTorch, the non-constant modes accept any number of dims and any
    input rank, not only the last 1-3 dims of a batched 2-5-D input.
    """
    require_tensor(input, "pad")
    try:
        widths = tuple(map(_index, pad))
    except TypeError:
        raise TypeError(f"pad: pad must be a sequence of ints, got {pad!r}") from None
    shape = input._data.shape
    if len(widths) % 2:
        raise ValueError(f"pad: the pad sequence must have an even length (pairs of before/after"
                         f" widths, last dim first), got {len(widths)} values {list(widths)}")
    if len(widths) // 2 > len(shape):
        raise ShapeError(f"pad: {len(widths)} values pad {len(widths) // 2} dims but the input "
                         f"{shape_str(shape)} has only {len(shape)}")
    pairs = [(0, 0)] * (len(shape) - len(widths) // 2)
    pairs += [(widths[i], widths[i + 1]) for i in range(len(widths) - 2, -1, -2)]
    pairs = tuple(pairs)
    if mode == "constant":
        _pad_infer(TensorSpec(shape, input.dtype), widths=pairs)
        return apply(PAD_CONSTANT, (input,), widths=pairs, value=0 if value is None else value)
    if mode not in _NUMPY_MODE:
        raise ValueError(f"pad: mode must be one of 'constant', 'reflect', 'replicate', "
                         f"'circular', got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: mode {mode!r} does not take a value argument (got {value})")
    _mode_infer(TensorSpec(shape, input.dtype), widths=pairs, mode=mode)
    return apply(PAD, (input,), widths=pairs, mode=mode)


__all__ = ["pad"]
