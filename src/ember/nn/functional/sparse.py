"""Index-based functions: ``embedding`` (a row lookup) and ``one_hot``.

``embedding`` is a primitive whose backward accumulates rows with a sort and
``np.add.reduceat`` (much faster than ``np.add.at`` for the (N*T, D) gradients of a language
model); the row ``padding_idx`` gets no gradient, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from ...autograd import grad_mode
from ...errors import DTypeError, IndexingError, ShapeError, shape_str
from ...ops import elementwise as _ew
from ...ops.movement_view import unsqueeze
from ...ops.registry import Op, TensorSpec, apply, as_tensor_arg
from ...tensor import Tensor

# ------------------------------------------------------------------------ primitives


def _embedding_backward_forward(g, idx, *, num_weights, padding_idx, scale_grad_by_freq):
    d = g.shape[-1]
    flat = idx.reshape(-1)
    rows = g.reshape(-1, d)
    out = np.zeros((num_weights, d), dtype=g.dtype)
    if flat.size:
        order = np.argsort(flat, kind="stable")
        sorted_idx = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_idx[1:] != sorted_idx[:-1])))
        sums = np.add.reduceat(rows[order], starts, axis=0)
        if scale_grad_by_freq:
            counts = np.diff(np.concatenate((starts, [flat.size])))
            sums /= counts[:, None].astype(g.dtype)
        out[sorted_idx[starts]] = sums
    if padding_idx is not None:
        out[padding_idx] = 0
    return out


def _keep_mask(idx: Tensor, padding_idx, dtype) -> Tensor | None:
    if padding_idx is None:
        return None
    return unsqueeze(_ew.cast(idx != padding_idx, dtype), -1)


def _embedding_backward_vjp(ctx, gg):
    idx = ctx.inputs[1]
    a = ctx.attrs
    if a["scale_grad_by_freq"]:
        raise NotImplementedError("embedding: double backward with scale_grad_by_freq=True "
                                  "is not supported")
    out = apply(EMBEDDING, (gg, idx), padding_idx=None, scale_grad_by_freq=False)
    keep = _keep_mask(idx, a["padding_idx"], gg.dtype)
    return (out if keep is None else out * keep, None)


def _embedding_backward_infer(g: TensorSpec, idx: TensorSpec, *, num_weights, **_):
    return TensorSpec((num_weights, g.shape[-1]), g.dtype)


EMBEDDING_BACKWARD = Op("embedding_backward", _embedding_backward_forward,
                        _embedding_backward_vjp, _embedding_backward_infer, save=(1,))


def _embedding_vjp(ctx, g):
    w, idx = ctx.inputs
    a = ctx.attrs
    gw = apply(EMBEDDING_BACKWARD, (g, idx), num_weights=w.shape[0],
               padding_idx=a["padding_idx"], scale_grad_by_freq=a["scale_grad_by_freq"])
    return (gw, None)


def _embedding_infer(w: TensorSpec, idx: TensorSpec, **_) -> TensorSpec:
    return TensorSpec(tuple(idx.shape) + (w.shape[1],), w.dtype)


EMBEDDING = Op("embedding", lambda w, idx, **_: np.take(w, idx, axis=0), _embedding_vjp,
               _embedding_infer, save=(1,))


# ------------------------------------------------------------------------ public functions


def _index_tensor(x, op: str, arg: str) -> Tensor:
    t = x if isinstance(x, Tensor) else as_tensor_arg(x, arg, op)
    if t._data.dtype.kind not in "iu":
        raise DTypeError(f"{op}: expected '{arg}' to be an integer tensor of indices (int64), "
                         f"got {t.dtype.name}")
    return t


def _renorm_rows(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``max_norm``: rescale, in place, the looked-up rows whose norm exceeds it."""
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        with grad_mode.no_grad():
            w[rows[over]] *= scale[:, None]
        from ...ops.inplace import bump

        bump(weight)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input``.

    The result has shape ``input.shape + (embedding_dim,)``. The row ``padding_idx`` receives
    no gradient. ``max_norm`` renormalizes the looked-up rows of ``weight`` in place.
    """
    idx = _index_tensor(input, "embedding", "input")
    if not isinstance(weight, Tensor) or weight._data.ndim != 2:
        got = shape_str(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ShapeError(f"embedding: weight must be a 2-D tensor (num_embeddings, "
                         f"embedding_dim), got {got}")
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported in ember; "
                                  "use sparse=False")
    n = weight._data.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({n})")
        padding_idx = int(padding_idx) % n
    data = idx._data
    if data.size:
        lo, hi = int(data.min()), int(data.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise IndexingError(f"embedding: index {bad} is out of range for an embedding "
                                f"with num_embeddings={n} (expected 0 <= index < {n})")
    if max_norm is not None:
        _renorm_rows(weight, data, float(max_norm), float(norm_type))
    return apply(EMBEDDING, (weight, idx), padding_idx=padding_idx,
                 scale_grad_by_freq=bool(scale_grad_by_freq))


def _one_hot_forward(data, *, num_classes: int):
    data = data.astype(np.int64, copy=False)
    if data.size:
        # checked here, in the op, so that a compiled function checks every call's values
        if data.min() < 0:
            raise IndexingError(f"one_hot: class values must be non-negative, got "
                                f"{int(data.min())}")
        if data.max() >= num_classes:
            raise IndexingError(f"one_hot: class value {int(data.max())} is out of range for "
                                f"num_classes={num_classes}")
    out = np.zeros(data.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, data[..., None], 1, axis=-1)
    return out


def _one_hot_infer(t: TensorSpec, *, num_classes: int) -> TensorSpec:
    from ...dtypes import int64

    return TensorSpec(tuple(t.shape) + (num_classes,), int64)


ONE_HOT = Op("one_hot", _one_hot_forward, None, _one_hot_infer, differentiable=False)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each index.

    ``num_classes=-1`` uses ``tensor.max() + 1`` (which reads the values: inside
    ``ember.compile`` pass ``num_classes``).
    """
    t = _index_tensor(tensor, "one_hot", "tensor")
    if num_classes == -1:
        if t._data.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes of an empty tensor; "
                             "pass num_classes")
        num_classes = int(t.max().item()) + 1
    elif num_classes < 1 and t._data.size:
        raise ValueError(f"one_hot: num_classes must be positive or -1, got {num_classes}")
    return apply(ONE_HOT, (t,), num_classes=int(num_classes))


__all__ = ["embedding", "one_hot"]
