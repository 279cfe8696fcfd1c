"""Indexing: ``t[idx]``, ``t[idx] = v`` and the index-based ops.

Three primitives carry all of ``__getitem__``/``__setitem__``:

- ``index(a, index)``: NumPy indexing with PyTorch's checks. Basic indices (ints, slices,
  None, Ellipsis) give a view sharing memory and the version counter; integer/bool tensors
  (advanced indices) give a copy, with NumPy's broadcasting rules, which PyTorch shares.
- ``index_backward(g, shape, index)``: scatter-add ``g`` into zeros of ``shape``
  (``np.add.at``, so repeated indices accumulate); its vjp is ``index`` again.
- ``index_put(a, index, value)``: a copy of ``a`` with ``a[index] = value``; the functional
  form behind ``__setitem__`` on tensors that take part in autograd.

gather/scatter/index_select/masked_*/nonzero live in ``gather_scatter.py``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..errors import DTypeError, IndexingError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .broadcast import sum_to
from .checks import require_tensor
from .registry import Op, TensorSpec, apply, tensor_method

_INT_KINDS = "iu"
_PLAIN = (int, type(None))


# ------------------------------------------------------------------------ index parsing


def _index_array(item, op: str) -> np.ndarray:
    """An integer or bool array from a tensor/list/ndarray index; IndexingError otherwise."""
    arr = item._data if isinstance(item, Tensor) else np.asarray(item)
    kind = arr.dtype.kind
    if kind == "b":
        return arr
    if kind in _INT_KINDS:
        if arr.dtype == np.uint8:  # PyTorch reads uint8 index tensors as (deprecated) masks
            return arr.astype(bool)
        return arr
    if arr.size == 0 and kind == "f" and not isinstance(item, (Tensor, np.ndarray)):
        return np.zeros(arr.shape, np.int64)  # ``t[[]]``: an empty list is an empty index
    raise IndexingError(
        f"{op}: tensors used as indices must be long, int, byte or bool tensors, got "
        + (f"dtype {arr.dtype}" if kind != "O" else f"{type(item).__name__} {item!r}")
    )


def _check_bounds(arr: np.ndarray, dim: int, size: int) -> None:
    if arr.size == 0:
        return
    hi, lo = arr.max(), arr.min()
    if hi >= size or lo < -size:
        bad = int(hi if hi >= size else lo)
        raise IndexingError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _slice_part(v, what: str):
    if v is None or type(v) is int:
        return v
    try:
        return v.__index__()
    except (AttributeError, TypeError):
        raise IndexingError(
            f"slice {what} must be an int, None or a 0-d integer tensor, got {type(v).__name__}"
        ) from None


def parse_index(idx, shape: tuple, op: str = "index") -> tuple:
    """``idx`` as a tuple NumPy indexes with like PyTorch; ``(index, is_basic)``.

    Checks what NumPy would either accept differently or reject with a vaguer message:
    negative slice steps, float indices, out-of-range integers, mask shapes.
    """
    t = type(idx)
    if t is int and shape:  # the common x[i], without the general loop
        if idx >= shape[0] or idx < -shape[0]:
            raise IndexingError(f"index {idx} is out of bounds for dimension 0 with size "
                                f"{shape[0]}")
        return (idx, Ellipsis), True
    if t is slice and shape and (idx.step is None or type(idx.step) is int and idx.step > 0) \
            and type(idx.start) in _PLAIN and type(idx.stop) in _PLAIN:
        return (idx, Ellipsis), True
    if t is not tuple:
        idx = (idx,)
    items = []
    consumed = 0
    basic = True
    ellipsis = False
    for item in idx:
        t = type(item)
        if t is int or t is slice or item is None:
            pass
        elif item is Ellipsis:
            if ellipsis:
                raise IndexingError(f"{op}: an index can only have a single ellipsis ('...')")
            ellipsis = True
        elif t is bool or t is np.bool_:
            item = np.bool_(item)
            basic = False
        elif isinstance(item, np.integer):
            item = int(item)
        elif isinstance(item, (Tensor, np.ndarray, list, tuple)):
            item = _index_array(item, op)
            basic = False
        elif isinstance(item, float):
            raise IndexingError(
                f"{op}: only integers, slices, None, Ellipsis and integer or bool tensors are "
                f"valid indices, got the float {item!r}"
            )
        else:
            raise IndexingError(
                f"{op}: only integers, slices, None, Ellipsis and integer or bool tensors are "
                f"valid indices, got {type(item).__name__}"
            )
        items.append(item)
        if item is None or item is Ellipsis:
            continue
        if type(item) is np.ndarray and item.dtype.kind == "b":
            consumed += item.ndim
        elif type(item) is not np.bool_:
            consumed += 1
    ndim = len(shape)
    if consumed > ndim:
        raise IndexingError(f"too many indices for tensor of dimension {ndim}")
    dim = 0
    for pos, item in enumerate(items):
        t = type(item)
        if t is int:
            size = shape[dim]
            if item >= size or item < -size:
                raise IndexingError(
                    f"index {item} is out of bounds for dimension {dim} with size {size}"
                )
            dim += 1
        elif t is slice:
            step = _slice_part(item.step, "step")
            if step is not None and step <= 0:
                raise ValueError("step must be greater than zero")
            if not (type(item.start) in (int, type(None)) and type(item.stop) in (int, type(None))):
                items[pos] = slice(_slice_part(item.start, "start"), _slice_part(item.stop, "stop"),
                                   step)
            dim += 1
        elif item is Ellipsis:
            dim += ndim - consumed
        elif t is np.ndarray:
            if item.dtype.kind == "b":
                want = shape[dim:dim + item.ndim]
                for k, (m, s) in enumerate(zip(item.shape, want)):
                    if m != s:
                        raise IndexingError(
                            f"The shape of the mask {shape_str(item.shape)} at index {k} does "
                            f"not match the shape of the indexed tensor {shape_str(shape)} at "
                            f"index {dim + k}"
                        )
                dim += item.ndim
            else:
                _check_bounds(item, dim, shape[dim])
                dim += 1
    if basic and not ellipsis:
        items.append(Ellipsis)  # x[1] on a 1-D array would be a NumPy scalar, not a 0-d view
    return tuple(items), basic


def shape_after(shape: tuple, index: tuple) -> tuple:
    # a zero-strided dummy of ``shape`` costs no memory; NumPy computes the result shape
    dummy = np.lib.stride_tricks.as_strided(np.zeros(1, np.bool_), shape, (0,) * len(shape))
    return dummy[index].shape


# ------------------------------------------------------------------------ primitives


def _index_infer(a: TensorSpec, *, index, basic) -> TensorSpec:
    parse_index(index, tuple(a.shape))
    return TensorSpec(shape_after(tuple(a.shape), index), a.dtype)


INDEX = Op("index", lambda a, *, index, basic: a[index],
           lambda ctx, g: (index_backward(g, ctx.inputs[0].shape, ctx.attrs["index"],
                                          ctx.attrs["basic"]),),
           _index_infer, save=())


def _index_backward_forward(g, *, shape, index, basic):
    out = np.zeros(shape, g.dtype)
    if basic:
        out[index] = g  # a basic index names each element once: no accumulation needed
    else:
        np.add.at(out, index, g)
    return out


def _index_backward_infer(g: TensorSpec, *, shape, index, basic) -> TensorSpec:
    expected = shape_after(tuple(shape), index)
    if tuple(g.shape) != expected:
        raise ShapeError(
            f"index_backward: gradient of shape {shape_str(g.shape)} does not match the "
            f"indexed shape {shape_str(expected)}"
        )
    return TensorSpec(tuple(shape), g.dtype)


INDEX_BACKWARD = Op("index_backward", _index_backward_forward,
                    lambda ctx, g: (apply(INDEX, (g,), index=ctx.attrs["index"],
                                          basic=ctx.attrs["basic"]),),
                    _index_backward_infer, save=())


def index_backward(g: Tensor, shape: tuple, index: tuple, basic: bool = False) -> Tensor:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    return apply(INDEX_BACKWARD, (g,), shape=tuple(shape), index=index, basic=basic)


def _index_put_forward(a, v, *, index):
    out = a.copy()
    out[index] = v
    return out


def _index_put_vjp(ctx, g):
    index = ctx.attrs["index"]
    na, nv = ctx.needs_input_grad
    ga = gv = None
    if na:  # the overwritten elements do not reach the output
        ga = apply(INDEX_PUT, (g, _make(np.zeros((), g._data.dtype))), index=index)
    if nv:
        gv = sum_to(apply(INDEX, (g,), index=index, basic=False), ctx.inputs[1].shape)
    return ga, gv


def _index_put_infer(a: TensorSpec, v: TensorSpec, *, index) -> TensorSpec:
    target = shape_after(tuple(a.shape), index)
    check_value_shape(v.shape, target)
    return TensorSpec(a.shape, a.dtype)


def check_value_shape(value_shape: tuple, target: tuple) -> None:
    try:
        ok = np.broadcast_shapes(tuple(value_shape), tuple(target)) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(
            f"setitem: shape mismatch: value tensor of shape {shape_str(value_shape)} cannot "
            f"be broadcast to indexing result of shape {shape_str(target)}"
        )


INDEX_PUT = Op("index_put", _index_put_forward, _index_put_vjp, _index_put_infer, save=())


# ------------------------------------------------------------------------ public


def index(input: Tensor, idx) -> Tensor:
    """``input[idx]``; basic indices return a view that shares memory and version counter."""
    where, basic = parse_index(idx, input._data.shape)
    out = apply(INDEX, (input,), index=where, basic=basic)
    if basic:
        out._version = input._version_box()
        base = input._base
        if base is None:
            out._base = input
            out._view_chain = (where,)
        else:
            out._base = base
            chain = getattr(input, "_view_chain", None)  # None: a view by a movement op
            if chain is not None:
                out._view_chain = chain + (where,)
        if grad_mode.enabled:  # even without grad now: an in-place op may add it to base
            register_view(out._base, out)
    return out


Tensor.__getitem__ = index


@tensor_method("index_put")
def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added, ``accumulate=True``) at
    ``indices`` (a tuple of index tensors, as ``torch.index_put``, or any ``t[...]`` index)."""
    require_tensor(input, "index_put")
    index, basic = parse_index(indices, input._data.shape, "index_put")
    values = value_tensor(values, input, "index_put")
    if accumulate:
        from .elementwise import add

        target = shape_after(input._data.shape, index)
        check_value_shape(values.shape, target)
        values = values if tuple(values.shape) == target else values.expand(target)
        return add(input, index_backward(values, input._data.shape, index, basic))
    return apply(INDEX_PUT, (input, values), index=index)


def value_tensor(value, like: Tensor, op: str) -> Tensor:
    """``value`` as a tensor of ``like``'s dtype (setitem converts like ``copy_``)."""
    if isinstance(value, Tensor):
        if value._data.dtype is like._data.dtype:
            return value
        from .elementwise import cast

        return cast(value, like.dtype)
    try:
        arr = np.asarray(value)
    except Exception:
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise DTypeError(f"{op}: value must be a Tensor or a number, got {type(value).__name__}")
    return _make(arr.astype(like._data.dtype))


def _setitem(self: Tensor, idx, value) -> None:
    index, basic = parse_index(idx, self._data.shape, "setitem")
    check_writable(self, "setitem")
    kind = type(value)
    if (kind is float or kind is int or kind is bool) and not needs_graph(self, (), "setitem"):
        try:  # a number: NumPy converts it on assignment, no temporary tensor needed
            self._data[index] = value
        except OverflowError:
            raise DTypeError(f"setitem: value {value} does not fit in {self.dtype.name}") from None
        self._version_box()[0] += 1
        return
    v = value_tensor(value, self, "setitem")
    if needs_graph(self, (v,), "setitem"):
        inplace_with_graph(self, lambda old, val: apply(INDEX_PUT, (old, val), index=index),
                           (v,), False, "setitem")
        return
    try:
        self._data[index] = v._data
    except ValueError:
        check_value_shape(v.shape, shape_after(self._data.shape, index))
        raise
    self._version_box()[0] += 1


Tensor.__setitem__ = _setitem


from .gather_scatter import (  # noqa: E402
    gather,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take,
    take_along_dim,
)
from .inplace import check_writable, inplace_with_graph, needs_graph  # noqa: E402
from .inplace_views import register_view  # noqa: E402

__all__ = ["index_put", "gather", "scatter", "scatter_add", "index_select", "index_add", "take",
           "take_along_dim", "masked_fill", "masked_select", "nonzero"]
