"""Index-based ops: gather/scatter/scatter_add, index_select, take_along_dim, masked_fill,
masked_select, nonzero.

``gather`` and ``scatter_add`` are each other's adjoint (as ``index``/``index_backward`` are),
so gradients of any order stay inside these ops. ``index_select``, ``take_along_dim`` and
``masked_select`` are expressed with ``index`` (indexing.py) and need no primitive of their own.
"""

from __future__ import annotations

import numpy as np

from .. import tracing as _tracing
from ..errors import AutogradError, DTypeError, IndexingError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .broadcast import broadcast_shapes, broadcast_to
from .checks import require_tensor
from .indexing import INDEX, index_backward
from .registry import Op, TensorSpec, apply, normalize_dim, tensor_method


def index_arg(index, op: str) -> Tensor:
    if not isinstance(index, Tensor):
        raise DTypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}")
    if index._data.dtype.kind not in "iu" or index._data.dtype == np.uint8:
        raise DTypeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype.name}")
    return index


def check_range(idx: np.ndarray, dim: int, size: int, op: str) -> None:
    if idx.size and (idx.max() >= size or idx.min() < 0):
        bad = int(idx.max() if idx.max() >= size else idx.min())
        raise IndexingError(f"{op}(): index {bad} is out of bounds for dimension {dim} "
                            f"with size {size}")


def _check_index_shape(op: str, self_shape: tuple, dim: int, idx_shape: tuple,
                       src_shape: tuple | None = None) -> None:
    """PyTorch's gather/scatter rule: same ndim; index no larger than self (apart from
    ``dim``) and than src (in every dim)."""
    nd = max(len(self_shape), 1)
    if max(len(idx_shape), 1) != nd:
        raise ShapeError(f"{op}(): Index tensor must have the same number of dimensions as "
                         f"input tensor; index {shape_str(idx_shape)}, input "
                         f"{shape_str(self_shape)}")
    for d, s in enumerate(idx_shape):
        if d != dim and s > self_shape[d]:
            raise ShapeError(
                f"{op}(): Size does not match at dimension {d} expected index "
                f"{shape_str(idx_shape)} to be smaller than self {shape_str(self_shape)} "
                f"apart from dimension {dim}")
        if src_shape is not None and len(src_shape) and s > src_shape[d]:
            raise ShapeError(
                f"{op}(): Expected index {shape_str(idx_shape)} to be smaller than src "
                f"{shape_str(src_shape)} in every dimension")


def _grid(idx: np.ndarray, dim: int) -> tuple:
    """The full NumPy index addressing, for each element of ``idx``, position ``idx`` along
    ``dim`` and its own position along every other dim."""
    grids = list(np.ogrid[tuple(slice(0, s) for s in idx.shape)])
    grids[dim] = idx
    return tuple(grids)


def _head(a: np.ndarray, shape: tuple) -> np.ndarray:
    return a if a.shape == shape or a.ndim == 0 else a[tuple(slice(0, s) for s in shape)]


def _as_1d(a: np.ndarray) -> np.ndarray:
    return a.reshape(1) if a.ndim == 0 else a


# ------------------------------------------------------------------------ gather / scatter


def _gather_forward(a, idx, *, dim):
    out = _as_1d(a)[_grid(_as_1d(idx), dim)]
    return out.reshape(idx.shape)


def _gather_vjp(ctx, g):
    a, idx = ctx.inputs
    zeros = _make(np.zeros(a.shape, g._data.dtype))
    return apply(SCATTER_ADD, (zeros, idx, g), dim=ctx.attrs["dim"]), None


def _gather_infer(a: TensorSpec, idx: TensorSpec, *, dim) -> TensorSpec:
    _check_index_shape("gather", tuple(a.shape), dim, tuple(idx.shape))
    return TensorSpec(tuple(idx.shape), a.dtype)


GATHER = Op("gather", _gather_forward, _gather_vjp, _gather_infer, save=(1,))


def _pad_to(g: Tensor, shape: tuple) -> Tensor:
    """``g`` in the leading corner of zeros of ``shape`` (the adjoint of ``_head``)."""
    if tuple(g.shape) == tuple(shape):
        return g
    return index_backward(g, shape, tuple(slice(0, s) for s in g.shape), True)


def scatter_into(out: np.ndarray, idx: np.ndarray, src: np.ndarray, dim: int, reduce) -> None:
    """Write (``reduce=None``), add or multiply ``src`` into ``out`` at ``idx`` along ``dim``."""
    target = _as_1d(out)
    where = _grid(_as_1d(idx), dim)
    values = src if src.ndim == 0 else _as_1d(_head(src, idx.shape))
    if reduce is None:
        target[where] = values
    else:  # ufunc.at, unlike assignment, accumulates repeated indices
        (np.add if reduce == "add" else np.multiply).at(target, where, values)


def _scatter_forward(a, idx, src, *, dim, reduce):
    out = a.copy()
    scatter_into(out, idx, src, dim, reduce)
    return out


def _scatter_vjp(ctx, g):
    a, idx, src = ctx.inputs
    dim, reduce = ctx.attrs["dim"], ctx.attrs["reduce"]
    if reduce is not None:
        raise AutogradError(f"the derivative of scatter with reduce={reduce!r} is not implemented")
    na, _, ns = ctx.needs_input_grad
    ga = gs = None
    if na:  # overwritten elements do not reach the output
        ga = apply(SCATTER, (g, idx, _make(np.zeros((), g._data.dtype))), dim=dim, reduce=None)
    if ns:
        gs = _pad_to(apply(GATHER, (g, idx), dim=dim), tuple(src.shape))
    return ga, None, gs


def _scatter_infer(a: TensorSpec, idx: TensorSpec, src: TensorSpec, *, dim, **_) -> TensorSpec:
    _check_index_shape("scatter", tuple(a.shape), dim, tuple(idx.shape), tuple(src.shape))
    return TensorSpec(tuple(a.shape), a.dtype)


SCATTER = Op("scatter", _scatter_forward, _scatter_vjp, _scatter_infer, save=(1,))


def _scatter_add_vjp(ctx, g):
    _, idx, src = ctx.inputs
    na, _, ns = ctx.needs_input_grad
    gs = _pad_to(apply(GATHER, (g, idx), dim=ctx.attrs["dim"]), tuple(src.shape)) if ns else None
    return (g if na else None), None, gs


SCATTER_ADD = Op("scatter_add", lambda a, idx, src, *, dim: _scatter_forward(
    a, idx, src, dim=dim, reduce="add"), _scatter_add_vjp, _scatter_infer, save=(1,))


def prepare(op: str, input: Tensor, dim: int, index, src=None, value=None):
    """Checked (dim, index, src-tensor) for gather/scatter-family calls."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): input must be a Tensor, got {type(input).__name__}")
    dim = normalize_dim(dim, input._data.ndim, op)
    index = index_arg(index, op)
    size = input._data.shape[dim] if input._data.ndim else 1
    check_range(index._data, dim, size, op)
    if src is None and value is None:
        _check_index_shape(op, input._data.shape, dim, index._data.shape)
        return dim, index, None
    if src is not None and isinstance(src, Tensor):
        _check_index_shape(op, input._data.shape, dim, index._data.shape, src._data.shape)
        if src._data.ndim != input._data.ndim and src._data.ndim:
            raise ShapeError(f"{op}(): src must have the same number of dimensions as input; "
                             f"src {shape_str(src.shape)}, input {shape_str(input.shape)}")
        if src._data.dtype is not input._data.dtype:
            raise DTypeError(f"{op}(): Expected self.dtype to be equal to src.dtype; got "
                             f"{input.dtype.name} and {src.dtype.name}")
        return dim, index, src
    fill = value if src is None else src
    if isinstance(fill, Tensor) or not isinstance(fill, (int, float, bool, np.generic)):
        raise TypeError(f"{op}(): src must be a Tensor or value a number, got "
                        f"{type(fill).__name__}")
    _check_index_shape(op, input._data.shape, dim, index._data.shape)
    return dim, index, _make(np.asarray(fill, dtype=input._data.dtype))


@tensor_method("gather")
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (for ``dim=0``): values picked along ``dim``.

    ``index`` (int64 or int32) has input's number of dims and is no larger than input
    outside ``dim``.
    """
    dim, index, _ = prepare("gather", input, dim, index)
    return apply(GATHER, (input, index), dim=dim)


@tensor_method("scatter")
def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor) or ``value`` (a number) written at
    ``index`` along ``dim``; ``reduce='add'``/``'multiply'`` combines instead of overwriting."""
    if src is None and value is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    dim, index, src = prepare("scatter", input, dim, index, src, value)
    return apply(SCATTER, (input, index, src), dim=dim, reduce=reduce)


@tensor_method("scatter_add")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats accumulate)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    dim, index, src = prepare("scatter_add", input, dim, index, src)
    return apply(SCATTER_ADD, (input, index, src), dim=dim)


# ------------------------------------------------------------------------ via ``index``


def _apply_index(input: Tensor, index: tuple) -> Tensor:
    return apply(INDEX, (input,), index=index, basic=False)


@tensor_method("index_select")
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``input`` at positions ``index`` (a 1-D int tensor) along ``dim``."""
    require_tensor(input, "index_select")
    index = index_arg(index, "index_select")
    if index._data.ndim > 1:
        raise IndexingError(f"index_select(): Index is supposed to be a vector, got shape "
                            f"{shape_str(index.shape)}")
    dim = normalize_dim(dim, input._data.ndim, "index_select")
    if input._data.ndim == 0:
        check_range(index._data, 0, 1, "index_select")
        return _apply_index(input, (np.zeros(index._data.shape, np.intp),)) if index._data.ndim \
            else _apply_index(input, ())
    check_range(index._data, dim, input._data.shape[dim], "index_select")
    return _apply_index(input, (slice(None),) * dim + (_as_1d(index._data),))


@tensor_method("take_along_dim")
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting ``input`` and ``indices`` in every dim but ``dim``;
    with ``dim=None`` both are flattened first."""
    require_tensor(input, "take_along_dim")
    indices = index_arg(indices, "take_along_dim")
    if dim is None:
        _refuse_traced_index(indices, "take_along_dim(dim=None)")
        flat = indices._data.reshape(-1)
        check_range(flat, 0, input._data.size, "take_along_dim")
        return _apply_index(input, np.unravel_index(flat, input._data.shape))
    if input._data.ndim != indices._data.ndim:
        raise ShapeError(
            f"take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {input._data.ndim} dimensions for input, and {indices._data.ndim} "
            "dimensions for indices")
    dim = normalize_dim(dim, input._data.ndim, "take_along_dim")
    in_shape, ix_shape = list(input._data.shape), list(indices._data.shape)
    in_shape[dim] = ix_shape[dim] = 1
    common = list(broadcast_shapes(tuple(in_shape), tuple(ix_shape), op="take_along_dim"))
    if input._data.ndim:
        in_target = common[:dim] + [input._data.shape[dim]] + common[dim + 1:]
        ix_target = common[:dim] + [indices._data.shape[dim]] + common[dim + 1:]
        input = broadcast_to(input, tuple(in_target))
        indices = broadcast_to(indices, tuple(ix_target))  # an op: graph mode sees it
    return gather(input, dim, indices)


def _refuse_traced_index(index: Tensor, op: str) -> None:
    """Under ember.compile: these ops turn the index values into a NumPy index computed
    outside an op, which a graph would freeze; refuse instead of answering wrongly."""
    tracer = _tracing.current
    if tracer is not None and tracer.traced_origin(index._data) is not None:
        raise tracer.refuse_value_read(f"{op} with an index tensor computed in (or passed "
                                       "to) the compiled function")


@tensor_method("take")
def take(input: Tensor, index: Tensor) -> Tensor:
    """The entries of ``input`` read as 1-D, at ``index`` (negative counts from the end);
    the result has ``index``'s shape."""
    require_tensor(input, "take")
    index = index_arg(index, "take")
    _refuse_traced_index(index, "take")
    n = input._data.size
    idx = index._data
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexingError(f"take(): out of range: tried to access index {bad} on a tensor of "
                            f"{n} elements")
    if input._data.ndim == 0:
        input = apply(INDEX, (input,), index=(None,), basic=True)  # read as 1-D
    return _apply_index(input, np.unravel_index(np.where(idx < 0, idx + n, idx),
                                                input._data.shape))


def index_add_checked(op: str, input: Tensor, dim: int, index, source: Tensor):
    """Checked ``(dim, index positions)`` for index_add/index_add_."""
    index = index_arg(index, op)
    if index._data.ndim > 1:
        raise IndexingError(f"{op}(): Index is supposed to be a vector, got shape "
                            f"{shape_str(index.shape)}")
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): source must be a Tensor, got {type(source).__name__}")
    dim = normalize_dim(dim, input._data.ndim, op)
    nd = input._data.ndim
    expected = list(input._data.shape)
    if nd:
        expected[dim] = index._data.size
    if tuple(source._data.shape) != tuple(expected) and not (nd == 0 and index._data.size == 1
                                                            and source._data.size == 1):
        raise ShapeError(f"{op}(): source {shape_str(source.shape)} should have the shape of "
                         f"input {shape_str(input.shape)} with size {index._data.size} (the "
                         f"number of indices) at dim {dim}")
    if source._data.dtype is not input._data.dtype:
        raise DTypeError(f"{op}(): self ({input.dtype.name}) and source ({source.dtype.name}) "
                         "must have the same dtype")
    check_range(index._data, dim, input._data.shape[dim] if nd else 1, op)
    where = (slice(None),) * dim + (_as_1d(index._data),) if nd else ()
    return where


@tensor_method("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` (1-D) along
    ``dim``; repeated indices accumulate."""
    require_tensor(input, "index_add")
    from .elementwise import add, mul

    where = index_add_checked("index_add", input, dim, index, source)
    if alpha != 1:
        source = mul(source, alpha)
    if input._data.ndim == 0:
        return add(input, source.reshape(()))
    return add(input, index_backward(source, input._data.shape, where, False))


def mask_arg(mask, op: str) -> Tensor:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: mask must be a Tensor, got {type(mask).__name__}")
    if mask._data.dtype != np.bool_:
        raise DTypeError(f"{op} only supports boolean masks, but got mask with dtype "
                         f"{mask.dtype.name}")
    return mask


def scalar_value(value, input: Tensor, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise ShapeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                             f"with {value._data.ndim} dimension(s)")
        if value._data.dtype is input._data.dtype:
            return value
        from .elementwise import cast

        return cast(value, input.dtype)
    try:
        return _make(np.asarray(value, dtype=input._data.dtype))
    except (TypeError, ValueError, OverflowError):
        raise DTypeError(f"{op}: value must be a number or a 0-d tensor, got {value!r}") from None


@tensor_method("masked_fill")
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` where ``mask`` (bool, broadcast to input) is True."""
    require_tensor(input, "masked_fill")
    mask = mask_arg(mask, "masked_fill")
    if broadcast_shapes(mask.shape, input.shape, op="masked_fill") != tuple(input.shape):
        raise ShapeError(f"masked_fill: the mask {shape_str(mask.shape)} must be broadcastable "
                         f"to the input {shape_str(input.shape)}")
    from .elementwise import WHERE

    return apply(WHERE, (mask, scalar_value(value, input, "masked_fill"), input))


@tensor_method("masked_select")
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-D tensor of the entries of ``input`` where ``mask`` is True (broadcast together)."""
    require_tensor(input, "masked_select")
    mask = mask_arg(mask, "masked_select")
    shape = broadcast_shapes(input.shape, mask.shape, op="masked_select")
    if tuple(input.shape) != shape:
        input = broadcast_to(input, shape)
    m = mask._data if mask._data.shape == shape else np.broadcast_to(mask._data, shape)
    return _apply_index(input, (m,))


@tensor_method("nonzero")
def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero entries: an int64 ``[n, ndim]`` tensor, or with
    ``as_tuple=True`` one 1-D tensor per dim (``ember.where(cond)`` is the latter).

    Not an op with an infer rule: its output shape depends on the values.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"nonzero(): input must be a Tensor, got {type(input).__name__}")
    if _tracing.current is not None:
        raise _tracing.current.refuse_value_read("nonzero (its output shape depends on the "
                                                 "values)")
    a = input._data
    if as_tuple:
        return tuple(_make(i.astype(np.int64, copy=False)) for i in np.nonzero(np.atleast_1d(a)))
    return _make(np.argwhere(a).astype(np.int64, copy=False))

