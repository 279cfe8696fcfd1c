"""Reductions: sum, prod, all/any, count_nonzero, and the helpers every reduction shares.

The family spans four modules; this one's ``__all__`` exports them all:

- ``reduce.py``: dim handling, the reshape-and-broadcast of gradients, sum, prod, all/any,
  count_nonzero
- ``reduce_extreme.py``: amax/amin, max/min, argmax/argmin, aminmax
- ``reduce_stats.py``: mean, var/std (and var_mean/std_mean), logsumexp, norm
- ``reduce_scan.py``: cumsum, cumprod

Every backward rule must send a reduced gradient back to the input's shape: it re-inserts the
reduced dimensions as size 1 (the private ``reduce_reshape`` primitive, whose vjp is itself)
and broadcasts (``expand``, whose vjp is ``sum_to``), so higher-order gradients work.

``dim`` is normalized once, in the public function, to a sorted tuple of non-negative ints or
None (every dimension); ``dim=()`` means every dimension, as in PyTorch. A 0-d tensor takes
``dim`` 0 or -1 and reduces to itself.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..dtypes import as_dtype, bool_, from_numpy_dtype, int64
from ..errors import DTypeError, IndexingError, ShapeError, shape_str
from ..tensor import Tensor
from .broadcast import broadcast_to
from .elementwise import cast, eq, where
from .registry import Op, TensorSpec, apply, as_tensor_arg, tensor_method

# ------------------------------------------------------------------------ dims and shapes


def _dim_type_error(op: str, dim) -> TypeError:
    return TypeError(
        f"{op}(): argument 'dim' must be an int, a tuple of ints or None, got "
        f"{type(dim).__name__} ({dim!r})"
    )


def _one_dim(d, ndim: int, op: str) -> int:
    if type(d) is not int:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise _dim_type_error(op, d)
        d = int(d)
    nd = ndim or 1  # a 0-d tensor takes dim 0 or -1, like PyTorch
    if d < -nd or d >= nd:
        raise IndexingError(
            f"{op}(): dim {d} is out of range for a tensor of {ndim} dimension(s) "
            f"(expected to be in range [{-nd}, {nd - 1}])"
        )
    return d % nd


def reduce_dims(dim, ndim: int, op: str) -> tuple | None:
    """``dim`` (None, int, or a tuple/list of ints) as a sorted tuple of dims, or None for
    every dimension. Errors name ``op``: TypeError for a wrong type, IndexingError for a dim
    out of range, ShapeError for a dim given twice."""
    if dim is None:
        return None
    if type(dim) is int and 0 <= dim < ndim:  # the common case, kept fast
        return (dim,)
    if isinstance(dim, (tuple, list)):
        if not dim:
            return None
        dims = [_one_dim(d, ndim, op) for d in dim]
        if len(set(dims)) != len(dims):
            raise ShapeError(f"{op}(): dim {tuple(dim)} names dimension "
                             f"{next(d for d in dims if dims.count(d) > 1)} more than once")
        return None if ndim == 0 else tuple(sorted(dims))
    d = _one_dim(dim, ndim, op)
    return None if ndim == 0 else (d,)


def single_dim(dim, ndim: int, op: str) -> int:
    """An int ``dim`` for ops that reduce exactly one dimension (argmax, cumsum, max(dim))."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): argument 'dim' must be an int, not {type(dim).__name__}")
    return _one_dim(dim, ndim, op)


def reduced_shape(shape: tuple, dims: tuple | None, keepdim: bool) -> tuple:
    """The shape after reducing ``dims`` (None: all) of ``shape``."""
    if dims is None:
        return (1,) * len(shape) if keepdim else ()
    if keepdim:
        return tuple([1 if i in dims else s for i, s in enumerate(shape)])
    return tuple([s for i, s in enumerate(shape) if i not in dims])


def reduced_numel(shape: tuple, dims: tuple | None) -> int:
    """How many elements each output element of a reduction over ``dims`` combines."""
    n = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            n *= s
    return n


def require_nonempty(shape: tuple, dims: tuple | None, op: str) -> None:
    """PyTorch's error for max-like reductions (no identity element) over an empty dim."""
    if dims is None:
        if 0 in shape:
            raise ShapeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0 "
                f"(input shape {shape_str(shape)}). Specify the reduction dim with the "
                "'dim' argument."
            )
        return
    for d in dims:
        if shape[d] == 0:
            raise IndexingError(
                f"{op}(): Expected reduction dim {d} to have non-zero size (input shape "
                f"{shape_str(shape)})."
            )


def _reduce_infer(a: TensorSpec, *, dim, keepdim, dtype=None, **_) -> TensorSpec:
    if dim is not None and builtins.any(d >= a.ndim for d in dim):
        raise IndexingError(f"reduction: dim {dim} is out of range for {shape_str(a.shape)}")
    out_dtype = a.dtype if dtype is None else from_numpy_dtype(dtype)
    return TensorSpec(reduced_shape(tuple(a.shape), dim, keepdim), out_dtype)


# ------------------------------------------------------------------------ reshape back


def _reshape_infer(a: TensorSpec, *, shape: tuple) -> TensorSpec:
    n = 1
    for s in shape:
        n *= s
    if n != a.numel():
        raise ShapeError(f"reduce_reshape: cannot view {shape_str(a.shape)} as {shape_str(shape)}")
    return TensorSpec(tuple(shape), a.dtype)


# Only ever inserts or removes size-1 dimensions, so NumPy's reshape is always a view.
REDUCE_RESHAPE = Op("reduce_reshape", lambda a, *, shape: a.reshape(shape),
                    lambda ctx, g: (reshape_reduced(g, ctx.inputs[0].shape),),
                    _reshape_infer, save=())


def reshape_reduced(x: Tensor, shape: tuple) -> Tensor:
    """``x`` viewed as ``shape`` (same elements, size-1 dims added or dropped)."""
    if x._data.shape == shape:
        return x
    return apply(REDUCE_RESHAPE, (x,), shape=tuple(shape))


def expand_reduced(g: Tensor, shape: tuple, dims: tuple | None, keepdim: bool) -> Tensor:
    """Broadcast the result ``g`` of a reduction over ``dims`` back to the input ``shape``."""
    if not keepdim:
        g = reshape_reduced(g, reduced_shape(shape, dims, True))
    return broadcast_to(g, shape)


def _arg(x, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    try:
        return as_tensor_arg(x, "input", op)
    except DTypeError as exc:
        raise DTypeError(f"{op}(): argument 'input' must be a Tensor or a sequence of numbers, "
                         f"got {type(x).__name__} ({exc})") from None


# ------------------------------------------------------------------------ sum and prod


def _sum_vjp(ctx, g):
    a = ctx.inputs[0]
    return (expand_reduced(g, a.shape, ctx.attrs["dim"], ctx.attrs["keepdim"]),)


_add_reduce = np.add.reduce  # what ndarray.sum calls, minus its Python wrapper


SUM = Op("sum", lambda a, *, dim, keepdim, dtype: _add_reduce(a, dim, dtype, None, keepdim),
         _sum_vjp, _reduce_infer, save=())


def _accumulate_dtype(x: Tensor, dtype):
    """(input, NumPy accumulation dtype) for sum/prod: integers and bools accumulate in int64
    unless ``dtype`` says otherwise; a given ``dtype`` casts the input first, like PyTorch."""
    if dtype is not None:
        target = as_dtype(dtype)
        x = cast(x, target)
        return x, (None if target.is_floating_point else target.np)
    if x.dtype.is_floating_point:
        return x, None
    return x, np.int64


@tensor_method("sum")
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (int, tuple of ints, or None for all). Integer and bool tensors sum
    to int64 unless ``dtype`` is given; the sum over an empty dimension is 0."""
    x = input if type(input) is Tensor else _arg(input, "sum")
    dims = None if dim is None else reduce_dims(dim, x._data.ndim, "sum")
    if dtype is not None or x._data.dtype.kind != "f":
        x, acc = _accumulate_dtype(x, dtype)
    else:
        acc = None
    return apply(SUM, (x,), dim=dims, keepdim=keepdim, dtype=acc)


def _prod_vjp(ctx, g):
    # d prod / d x_i is the product of the other elements. Dividing out by x_i fails at zeros,
    # so: with no zero in a slice it is prod/x_i; with exactly one zero, only the zero's
    # position gets a gradient (the product of the non-zeros); with two or more, none does.
    x = ctx.inputs[0]
    dim, keepdim = ctx.attrs["dim"], ctx.attrs["keepdim"]
    dims = None if dim is None else (dim,)
    shape = x.shape
    is_zero = eq(x, 0)
    zeros = expand_reduced(sum(is_zero, dims, keepdim=True), shape, dims, True)
    x_safe = where(is_zero, 1.0, x)
    prod_nonzero = expand_reduced(prod(x_safe, dim, keepdim=True), shape, dims, True)
    weight = where(is_zero, cast(eq(zeros, 1), x.dtype), cast(eq(zeros, 0), x.dtype) / x_safe)
    return (expand_reduced(g, shape, dims, keepdim) * prod_nonzero * weight,)


PROD = Op("prod", lambda a, *, dim, keepdim, dtype: a.prod(axis=dim, dtype=dtype,
                                                         keepdims=keepdim),
          _prod_vjp,
          lambda a, *, dim, keepdim, dtype: _reduce_infer(
              a, dim=None if dim is None else (dim,), keepdim=keepdim, dtype=dtype))


@tensor_method("prod")
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over one ``dim``, or of all elements when ``dim`` is None. Integer and bool
    tensors multiply in int64 unless ``dtype`` is given; the product of nothing is 1."""
    x = _arg(input, "prod")
    d = None
    if dim is not None:
        d = single_dim(dim, x._data.ndim, "prod")
        if x._data.ndim == 0:
            d = None
    if dtype is not None or not x.dtype.is_floating_point:
        x, acc = _accumulate_dtype(x, dtype)
    else:
        acc = None
    return apply(PROD, (x,), dim=d, keepdim=keepdim, dtype=acc)


# ------------------------------------------------------------------------ all / any / count


def _logical_forward(method: str):
    def forward(a, *, dim, keepdim):
        out = getattr(a, method)(axis=dim, keepdims=keepdim)
        # PyTorch keeps uint8 for uint8 inputs (a legacy of bool tensors); bool otherwise
        return out.astype(np.uint8) if a.dtype == np.uint8 else out

    return forward


def _logical_infer(a: TensorSpec, *, dim, keepdim) -> TensorSpec:
    spec = _reduce_infer(a, dim=dim, keepdim=keepdim)
    return TensorSpec(spec.shape, a.dtype if a.dtype.np == np.uint8 else bool_)


def _logical_dims(dim, ndim: int, op: str):
    # unlike sum, PyTorch's all/any treat an empty dim list as "reduce nothing"
    if isinstance(dim, (tuple, list)) and not dim:
        return ()
    return reduce_dims(dim, ndim, op)


ALL = Op("all", _logical_forward("all"), None, _logical_infer, differentiable=False)
ANY = Op("any", _logical_forward("any"), None, _logical_infer, differentiable=False)


@tensor_method("all")
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` (int, tuple, or None for all) is non-zero.
    As in PyTorch, ``dim=()`` reduces nothing (sum and the others read it as "all")."""
    x = _arg(input, "all")
    return apply(ALL, (x,), dim=_logical_dims(dim, x._data.ndim, "all"), keepdim=keepdim)


@tensor_method("any")
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` (int, tuple, or None for all) is non-zero."""
    x = _arg(input, "any")
    return apply(ANY, (x,), dim=_logical_dims(dim, x._data.ndim, "any"), keepdim=keepdim)


COUNT_NONZERO = Op(
    "count_nonzero",
    lambda a, *, dim: np.asarray(np.count_nonzero(a, axis=dim), dtype=np.int64),
    None, lambda a, *, dim: TensorSpec(reduced_shape(tuple(a.shape), dim, False), int64),
    differentiable=False)


@tensor_method("count_nonzero")
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number (int64) of non-zero elements over ``dim`` (int, tuple, or None for all)."""
    x = _arg(input, "count_nonzero")
    return apply(COUNT_NONZERO, (x,), dim=reduce_dims(dim, x._data.ndim, "count_nonzero"))


# The other reductions build on the helpers and primitives above.
from .reduce_extreme import amax, amin, aminmax, argmax, argmin, max, min  # noqa: E402,A004
from .reduce_scan import cumprod, cumsum  # noqa: E402
from .reduce_stats import logsumexp, mean, norm, std, std_mean, var, var_mean  # noqa: E402

__all__ = [
    "sum", "prod", "mean", "var", "std", "var_mean", "std_mean", "amax", "amin", "max", "min",
    "aminmax", "argmax", "argmin", "logsumexp", "cumsum", "cumprod", "norm", "all", "any",
    "count_nonzero",
]
