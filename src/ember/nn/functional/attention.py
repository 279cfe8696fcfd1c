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
    try:
        xd, wd = x._data, weight._data
        bd = None if bias is None else bias._data
    except AttributeError:  # only on bad input: no cost on the hot path
        bad = "weight" if not isinstance(weight, Tensor) else "bias"
        raise TypeError(f"linear(): argument '{bad}' must be Tensor, not "
                        f"{type(weight if bad == 'weight' else bias).__name__}") from None
    # the cheap common case skips the full check; anything unusual gets a precise error
    if (wd.ndim != 2 or xd.ndim == 0 or xd.shape[-1] != wd.shape[1] or xd.dtype != wd.dtype
            or xd.dtype.kind != "f"
            or (bd is not None and (bd.dtype != wd.dtype or bd.shape != (wd.shape[0],)))):
        _check_linear(x, weight, bias)
    if bias is None:
        return apply(LINEAR, (x, weight))
    return apply(LINEAR, (x, weight, bias))


__all__ = ["linear"]


# ========================================================================================
# Attention (scaled_dot_product_attention and helpers) goes below this line; it is owned by
# the attention work and extends ``__all__``.
# ========================================================================================

# the attention section's own imports
from ...ops import elementwise as _ew  # noqa: E402
from ...ops.linalg import matmul as _matmul  # noqa: E402
from ...ops.nn import softmax as _softmax  # noqa: E402
from ...ops.reduce_stats import mean as _mean  # noqa: E402
from ...tensor import _make  # noqa: E402
from .dropout import dropout as _dropout  # noqa: E402

# ------------------------------------------------------------------------ masks


def _attention_arg(x, name: str, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be an ember.Tensor, got {type(x).__name__}")
    return x


def _causal_mask(length: int, source: int, dtype: np.dtype) -> Tensor:
    """Additive (length, source) mask: 0 on and below the diagonal, -inf above (top-left
    aligned, like PyTorch's ``ones(L, S).tril()``)."""
    allowed = np.tri(length, source, dtype=bool)
    return _make(np.where(allowed, 0, -np.inf).astype(dtype))


def _additive_mask(mask, dtype: np.dtype, name: str, op: str, true_means_attend: bool):
    """``mask`` as a float tensor added to the scores: bool masks become 0 / -inf (which bool
    value blocks differs between ``scaled_dot_product_attention`` and ``MultiheadAttention``,
    as in PyTorch); float masks are used as given."""
    if mask is None:
        return None
    mask = _attention_arg(mask, name, op)
    data = mask._data
    if data.dtype == np.bool_:
        blocked = ~data if true_means_attend else data
        return _make(np.where(blocked, -np.inf, 0).astype(dtype))
    if data.dtype != dtype:
        raise DTypeError(f"{op}: {name} must be bool or {np.dtype(dtype).name} like the query, "
                         f"got {mask.dtype.name}")
    return mask


# ------------------------------------------------------------------------ scaled dot product


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float,
            scale: float) -> tuple:
    """softmax(q k^T * scale + mask) (dropped out) @ v over the last two dims; returns
    (output, attention weights). Scaling q rather than the scores touches fewer elements when
    the head dim is smaller than the key length."""
    scores = _matmul(_ew.mul(q, scale), k.transpose(-2, -1))
    if mask is not None:
        scores = _ew.add(scores, mask)
    weights = _softmax(scores, -1)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p, True)
    return _matmul(weights, v), weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over (..., L, E) queries, (..., S, E)
    keys and (..., S, Ev) values; returns (..., L, Ev).

    attn_mask: bool (True = may attend, as in PyTorch) or float (added to the scores),
        broadcastable to (..., L, S). is_causal: query i attends to keys 0..i (a top-left
        aligned lower triangle); not together with ``attn_mask``.
    dropout_p: dropout on the attention weights, drawn from ember's default generator.
    scale: default ``1 / sqrt(E)``. enable_gqa: allow fewer key/value heads (dim -3) than
        query heads, each shared by a group of query heads.
    """
    op = "scaled_dot_product_attention"
    q, k, v = (_attention_arg(t, n, op) for t, n in ((query, "query"), (key, "key"),
                                                    (value, "value")))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dimensions (..., L, E), "
                         f"got {shape_str(q.shape)}, {shape_str(k.shape)}, "
                         f"{shape_str(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: expected query (..., L, E), key (..., S, E) and value "
                         f"(..., S, Ev), got {shape_str(q.shape)}, {shape_str(k.shape)}, "
                         f"{shape_str(v.shape)}")
    if not q.dtype.is_floating_point or q.dtype != k.dtype or q.dtype != v.dtype:
        raise DTypeError(f"{op}: expected query, key and value of one floating-point dtype, "
                         f"got {q.dtype.name}, {k.dtype.name}, {v.dtype.name}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        if q.shape[-3] % k.shape[-3]:
            raise ShapeError(f"{op}: with enable_gqa, the query heads ({q.shape[-3]}) must be "
                             f"a multiple of the key/value heads ({k.shape[-3]})")
        repeats = q.shape[-3] // k.shape[-3]
        k = k.repeat_interleave(repeats, dim=-3)
        v = v.repeat_interleave(repeats, dim=-3)
    length, source = q.shape[-2], k.shape[-2]
    dtype = q._data.dtype
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: explicit attn_mask should not be set when is_causal=True")
        mask = _causal_mask(length, source, dtype)
    else:
        mask = _additive_mask(attn_mask, dtype, "attn_mask", op, true_means_attend=True)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    return _attend(q, k, v, mask, dropout_p, scale)[0]


# ------------------------------------------------------------------------ multi-head


def _check_mha(query, key, value, embed_dim: int, num_heads: int, op: str):
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{op}: expected query, key and value all 3-D (batched) or all 2-D "
                         f"(unbatched), got {shape_str(query.shape)}, {shape_str(key.shape)}, "
                         f"{shape_str(value.shape)}")
    if query.shape[-1] != embed_dim:
        raise ShapeError(f"{op}: was expecting embedding dimension of {embed_dim}, but got "
                         f"query of shape {shape_str(query.shape)}")
    if embed_dim % num_heads:
        raise ShapeError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if tuple(key.shape[:-1]) != tuple(value.shape[:-1]):
        raise ShapeError(f"{op}: key shape {shape_str(key.shape)} does not match value shape "
                         f"{shape_str(value.shape)}")


def _check_mha_dtypes(query: Tensor, op: str, **tensors) -> None:
    """A floating-point query; every other tensor argument (None allowed) of its dtype."""
    if not query.dtype.is_floating_point:
        raise DTypeError(f"{op}: expected a floating-point query, got {query.dtype.name}")
    for name, t in tensors.items():
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be an ember.Tensor or None, got "
                            f"{type(t).__name__}")
        if t.dtype is not query.dtype:
            raise DTypeError(f"{op}: {name} is {t.dtype.name} but query is {query.dtype.name}")


def _merged_mask(attn_mask, key_padding_mask, dtype, batch: int, heads: int, length: int,
                 source: int, op: str):
    """One additive mask broadcastable to (batch, heads, length, source), or None."""
    mask = _additive_mask(attn_mask, dtype, "attn_mask", op, true_means_attend=False)
    if mask is not None:
        if mask.ndim == 2 and tuple(mask.shape) != (length, source):
            raise ShapeError(f"{op}: the shape of the 2D attn_mask is {shape_str(mask.shape)}, "
                             f"but should be {shape_str((length, source))}")
        if mask.ndim == 3:
            if tuple(mask.shape) != (batch * heads, length, source):
                raise ShapeError(f"{op}: the shape of the 3D attn_mask is "
                                 f"{shape_str(mask.shape)}, but should be "
                                 f"{shape_str((batch * heads, length, source))}")
            mask = mask.reshape(batch, heads, length, source)
        elif mask.ndim != 2:
            raise ShapeError(f"{op}: attn_mask's dimension {mask.ndim} is not supported "
                             "(expected 2-D or 3-D)")
    padding = _additive_mask(key_padding_mask, dtype, "key_padding_mask", op,
                             true_means_attend=False)
    if padding is not None:
        if tuple(padding.shape) != (batch, source):
            raise ShapeError(f"{op}: expected key_padding_mask of shape "
                             f"{shape_str((batch, source))}, got {shape_str(padding.shape)}")
        padding = padding.reshape(batch, 1, 1, source)
        mask = padding if mask is None else _ew.add(mask, padding)
    return mask


def _split_heads(x: Tensor, heads: int, batch_first: bool) -> Tensor:
    """(L, N, E) or, batch first, (N, L, E) -> (N, heads, L, E // heads)."""
    a, b, e = x.shape
    x = x.reshape(a, b, heads, e // heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False, *, batch_first: bool = False) -> tuple:
    """The forward of ``nn.MultiheadAttention``, with PyTorch's arguments; returns
    ``(output, weights)``, ``weights`` None unless ``need_weights``.

    Inputs are (L, N, E) (or (N, L, E) with the ember-only ``batch_first=True``, which saves
    the two transposes PyTorch's module makes) or unbatched (L, E). Masks: bool True = may NOT
    attend (PyTorch's MultiheadAttention convention), float masks are added to the scores;
    ``attn_mask`` (L, S) or (N * num_heads, L, S), ``key_padding_mask`` (N, S). ``is_causal``
    is a hint, as in PyTorch: ``attn_mask`` must still be given, and is what is applied.
    Weights are averaged over heads unless ``average_attn_weights=False``. Not supported:
    ``bias_k``/``bias_v``, ``add_zero_attn``, ``static_k``/``static_v``.
    """
    op = "multi_head_attention_forward"
    if bias_k is not None or bias_v is not None or add_zero_attn:
        raise NotImplementedError(f"{op}: bias_k/bias_v and add_zero_attn are not supported")
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{op}: static_k/static_v are not supported")
    query, key, value = (_attention_arg(t, n, op) for t, n in ((query, "query"), (key, "key"),
                                                              (value, "value")))
    embed_dim = embed_dim_to_check
    _check_mha(query, key, value, embed_dim, num_heads, op)
    _check_mha_dtypes(query, op, key=key, value=value, in_proj_weight=in_proj_weight,
                      in_proj_bias=in_proj_bias, out_proj_weight=out_proj_weight,
                      out_proj_bias=out_proj_bias, q_proj_weight=q_proj_weight,
                      k_proj_weight=k_proj_weight, v_proj_weight=v_proj_weight)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: need attn_mask if specifying the is_causal hint (e.g. an "
                           "(L, L) bool mask with True above the diagonal)")
    unbatched = query.ndim == 2
    if unbatched:  # a batch of one, put where the layout expects the batch dim
        axis = 0 if batch_first else 1
        query, key, value = (t.unsqueeze(axis) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if use_separate_proj_weight:
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q = linear(query, w_q, b_q)
    k = linear(key, w_k, b_k)
    v = linear(value, w_v, b_v)
    batch_axis = 0 if batch_first else 1
    batch, length, source = q.shape[batch_axis], q.shape[1 - batch_axis], k.shape[1 - batch_axis]
    head_dim = embed_dim // num_heads
    mask = _merged_mask(attn_mask, key_padding_mask, q._data.dtype, batch, num_heads, length,
                        source, op)
    out, weights = _attend(_split_heads(q, num_heads, batch_first),
                           _split_heads(k, num_heads, batch_first),
                           _split_heads(v, num_heads, batch_first), mask,
                           dropout_p if training else 0.0, 1.0 / math.sqrt(head_dim))
    # (N, H, L, hd) -> the input's layout, heads concatenated
    out = out.permute(0, 2, 1, 3) if batch_first else out.permute(2, 0, 1, 3)
    out = linear(out.reshape(out.shape[0], out.shape[1], embed_dim), out_proj_weight,
                 out_proj_bias)
    if unbatched:
        out = out.squeeze(batch_axis)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = _mean(weights, 1)
    return out, (weights.squeeze(0) if unbatched else weights)


__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
