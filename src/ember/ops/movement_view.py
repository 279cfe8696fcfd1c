"""Shape ops that return views: reshape/view, flatten/unflatten/ravel, permute/transpose/t/
.T/.mT, movedim, squeeze/unsqueeze; and the helpers the other movement modules share.

A view shares memory with its input (a NumPy view) and, as in PyTorch, its version counter
and ``_base``: an in-place change through either tensor bumps the shared counter, so a
backward that saved one of them notices. :func:`as_view` does this for every op here.
"""

from __future__ import annotations

import operator

import numpy as np

from ..autograd import grad_mode
from ..dtypes import DType
from ..errors import DTypeError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .checks import require_tensor
from .registry import Op, TensorSpec, apply, normalize_dim, tensor_method

_index = operator.index


def as_view(out: Tensor, input: Tensor) -> Tensor:
    """Mark ``out`` as a view of ``input``: shared version counter, ``_base`` the root base.

    With grad mode on, the view is also registered with its base, so that an in-place op
    recorded on the base later gives the view a fresh ``grad_fn`` (a stale one would compute
    gradients from the base's old history). Registered even when nothing requires grad yet:
    the in-place op may be what makes the base require grad.
    """
    out._version = input._version_box()
    base = input._base
    if base is None:
        base = input
    out._base = base
    if grad_mode.enabled:
        (_register_view or _bind_register_view())(base, out)
    return out


_register_view = None


def _bind_register_view():
    """``inplace_views.register_view``, imported on first use: inplace_views imports modules
    (broadcast, gather_scatter) that import this one."""
    global _register_view
    from .inplace_views import register_view

    _register_view = register_view
    return register_view


def shares_data(out: np.ndarray, a: np.ndarray) -> bool:
    """Whether NumPy made ``out`` as a view of ``a`` (not a copy).

    A cheap stand-in for ``np.may_share_memory``: NumPy points a view's ``base`` at the first
    array that owns the memory (or is wrapped around a foreign buffer), so a view of ``a`` has
    ``a`` or ``a.base`` as its base, and a copy has neither.
    """
    b = out.base
    return b is not None and (b is a or b is a.base)


def dim_index(dim, ndim: int, op: str) -> int:
    """``normalize_dim`` with a fast path for the common in-range int."""
    if type(dim) is int and -ndim <= dim < ndim:
        return dim + ndim if dim < 0 else dim
    return normalize_dim(dim, ndim, op)


def _keyword_sizes(sizes: tuple, kwargs: dict, name: str, op: str) -> tuple:
    """The sizes of ``f(*sizes)`` or of ``f(name=...)`` (PyTorch accepts both)."""
    if kwargs:
        if sizes or set(kwargs) != {name}:
            raise TypeError(f"{op}: unexpected arguments {sorted(kwargs)}; pass the sizes "
                            f"positionally or as {name}=")
        return (kwargs[name],)
    return sizes


def sizes_arg(sizes: tuple, op: str) -> tuple:
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints; TypeError naming ``op`` otherwise."""
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = sizes[0]
    try:
        return tuple(map(_index, sizes))
    except TypeError:
        raise TypeError(f"{op}: sizes must be ints, got {sizes!r}") from None


# ------------------------------------------------------------------------ reshape / view


def _resolve_shape(shape: tuple, in_shape: tuple, op: str) -> tuple:
    """``shape`` with its -1 filled in; ShapeError naming both shapes when it does not fit."""
    numel = 1
    for s in in_shape:
        numel *= s
    known, unknown = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if unknown is not None:
                raise ShapeError(f"{op}: only one dimension can be inferred (-1), got shape "
                                 f"{shape_str(shape)}")
            unknown = i
        elif s < 0:
            raise ShapeError(f"{op}: invalid size {s} in shape {shape_str(shape)}")
        else:
            known *= s
    if unknown is None:
        if known == numel:
            return tuple(shape)
    elif known != 0 and numel % known == 0:
        return shape[:unknown] + (numel // known,) + shape[unknown + 1:]
    elif known == 0 and numel == 0:
        raise ShapeError(
            f"{op}: cannot reshape a tensor of 0 elements into shape {shape_str(shape)}: the "
            "size of the -1 dimension could be anything"
        )
    raise ShapeError(f"{op}: cannot reshape a tensor of shape {shape_str(in_shape)} ({numel} "
                     f"elements) into shape {shape_str(shape)}")


def _reshape_infer(a: TensorSpec, *, shape: tuple) -> TensorSpec:
    return TensorSpec(_resolve_shape(shape, a.shape, "reshape"), a.dtype)


def _view_infer(a: TensorSpec, *, shape: tuple) -> TensorSpec:
    return TensorSpec(_resolve_shape(shape, a.shape, "view"), a.dtype)


def _view_forward(a: np.ndarray, *, shape: tuple) -> np.ndarray:
    out = a.reshape(shape)
    b = out.base
    if (b is not None and (b is a or b is a.base)) or a.size == 0:
        return out
    strides = tuple(s // a.itemsize for s in a.strides)
    raise ShapeError(
        f"view: a tensor of shape {shape_str(a.shape)} and strides {list(strides)} cannot be "
        f"viewed as shape {shape_str(shape)} without copying: at least one dimension spans "
        "two non-contiguous blocks of memory. Use .reshape(...), which copies when needed, or "
        "call .contiguous() first"
    )


def _reshape_vjp(ctx, g):
    return (reshape(g, ctx.inputs[0].shape),)


RESHAPE = Op("reshape", lambda a, *, shape: a.reshape(shape), _reshape_vjp, _reshape_infer,
             save=())
VIEW = Op("view", _view_forward, _reshape_vjp, _view_infer, save=())


def _reshape_to(input: Tensor, shape: tuple) -> Tensor:
    """Reshape that is always a view (adding/removing size-1 dims, splitting one dim)."""
    return as_view(apply(RESHAPE, (input,), shape=shape), input)


@tensor_method("reshape")
def reshape(input: Tensor, *shape, **kwargs) -> Tensor:
    """``input`` with the given shape (one size may be -1); a view when the layout allows,
    else a copy. Takes ``reshape(x, (2, 3))``, ``x.reshape(2, 3)`` or ``shape=``."""
    require_tensor(input, "reshape")
    shape = sizes_arg(_keyword_sizes(shape, kwargs, "shape", "reshape"), "reshape")
    if shape and min(shape) < -1:
        _resolve_shape(shape, input._data.shape, "reshape")
    return _reshaped(input, shape)


def _reshaped(input: Tensor, shape: tuple) -> Tensor:
    out = apply(RESHAPE, (input,), shape=shape)
    return as_view(out, input) if shares_data(out._data, input._data) else out


@tensor_method("view")
def view(input: Tensor, *shape, **kwargs) -> Tensor:
    """A view of ``input`` with the given shape (one size may be -1), sharing its memory.

    Raises ShapeError when the memory layout cannot be viewed that way (e.g. after a
    transpose); ``reshape`` copies instead. ``x.view(dtype)`` reinterprets the bytes.
    """
    if len(shape) == 1 and isinstance(shape[0], DType):
        return _view_dtype(input, shape[0])
    shape = sizes_arg(_keyword_sizes(shape, kwargs, "size", "view"), "view")
    if shape and min(shape) < -1:
        _resolve_shape(shape, input._data.shape, "view")
    return as_view(apply(VIEW, (input,), shape=shape), input)


def _view_dtype(input: Tensor, dtype: DType) -> Tensor:
    a = input._data
    if a.ndim == 0 and dtype.np.itemsize != a.itemsize:
        raise DTypeError(f"view: a 0-d tensor of {input.dtype.name} cannot be viewed as "
                         f"{dtype.name}, whose element size differs")
    try:
        data = a.view(dtype.np)
    except ValueError as exc:
        raise DTypeError(f"view: cannot view {input.dtype.name}{shape_str(a.shape)} as "
                         f"{dtype.name}: {exc}") from None
    # not registered with the base (as_view would): reinterpreted bits have no gradient, and
    # regenerating such a view from its base's values would give it the base's dtype
    out = _make(data)
    out._version = input._version_box()
    out._base = input if input._base is None else input._base
    return out


@tensor_method("view_as")
def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return view(input, other.shape)


@tensor_method("reshape_as")
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return reshape(input, other.shape)


@tensor_method("flatten")
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a view when the layout allows)."""
    require_tensor(input, "flatten")
    shape = input._data.shape
    nd = len(shape)
    if nd == 0:
        return _reshape_to(input, (1,))
    start = dim_index(start_dim, nd, "flatten")
    end = dim_index(end_dim, nd, "flatten")
    if start > end:
        raise ShapeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                         f"({end_dim}) for a tensor of {nd} dimension(s)")
    return _reshaped(input, shape[:start] + (-1,) + shape[end + 1:])


@tensor_method("unflatten")
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1); always a view."""
    require_tensor(input, "unflatten")
    shape = input._data.shape
    d = dim_index(dim, len(shape), "unflatten")
    sizes = sizes_arg((sizes,), "unflatten")
    if not sizes:
        raise ShapeError("unflatten: sizes must be non-empty")
    try:
        sizes = _resolve_shape(sizes, (shape[d],) if shape else (1,), "unflatten")
    except ShapeError:
        raise ShapeError(
            f"unflatten: sizes {shape_str([s for s in sizes])} do not multiply to the size "
            f"{shape[d] if shape else 1} of dim {dim} of a tensor of shape {shape_str(shape)}"
        ) from None
    return _reshape_to(input, shape[:d] + sizes + shape[d + 1:])


@tensor_method("ravel")
def ravel(input: Tensor) -> Tensor:
    """``input`` as 1-D (a view when contiguous, else a copy)."""
    require_tensor(input, "ravel")
    return _reshaped(input, (-1,))


# ------------------------------------------------------------------------ permute family


def _permute_infer(a: TensorSpec, *, dims: tuple) -> TensorSpec:
    return TensorSpec(tuple(a.shape[d] for d in _check_perm(dims, a.ndim)), a.dtype)


def _check_perm(dims: tuple, ndim: int) -> tuple:
    if len(dims) != ndim:
        raise ShapeError(f"permute: dims {tuple(dims)} has {len(dims)} entries but the tensor "
                         f"has {ndim} dimension(s)")
    out = tuple(normalize_dim(d, ndim, "permute") for d in dims)
    if len(set(out)) != ndim:
        raise ShapeError(f"permute: dims {tuple(dims)} name a dimension twice; each of the "
                         f"{ndim} dims must appear exactly once")
    return out


def _permute_vjp(ctx, g):
    dims = ctx.attrs["dims"]
    n = len(dims)
    inverse = [0] * n
    for i, d in enumerate(dims):
        inverse[d % n] = i
    return (_permuted(g, tuple(inverse)),)


# NumPy checks the dims (count, range, repeats); the infer rule explains a failure
PERMUTE = Op("permute", lambda a, *, dims: a.transpose(dims), _permute_vjp, _permute_infer,
             save=())


def _permuted(input: Tensor, dims: tuple) -> Tensor:
    return as_view(apply(PERMUTE, (input,), dims=dims), input)


@tensor_method("permute")
def permute(input: Tensor, *dims, **kwargs) -> Tensor:
    """A view of ``input`` with its dims reordered: ``x.permute(2, 0, 1)`` or
    ``permute(x, (2, 0, 1))``."""
    require_tensor(input, "permute")
    dims = sizes_arg(_keyword_sizes(dims, kwargs, "dims", "permute"), "permute")
    return _permuted(input, dims)


def _transpose_infer(a: TensorSpec, *, dim0: int, dim1: int) -> TensorSpec:
    shape = list(a.shape)
    d0, d1 = normalize_dim(dim0, a.ndim, "transpose"), normalize_dim(dim1, a.ndim, "transpose")
    if shape:
        shape[d0], shape[d1] = shape[d1], shape[d0]
    return TensorSpec(tuple(shape), a.dtype)


TRANSPOSE = Op("transpose", lambda a, *, dim0, dim1: a.swapaxes(dim0, dim1),
               lambda ctx, g: (_transposed(g, ctx.attrs["dim0"], ctx.attrs["dim1"]),),
               _transpose_infer, save=())


def _transposed(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return as_view(apply(TRANSPOSE, (input,), dim0=dim0, dim1=dim1), input)


@tensor_method("transpose", "swapaxes", "swapdims")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view of ``input`` with dims ``dim0`` and ``dim1`` swapped."""
    require_tensor(input, "transpose")
    nd = input._data.ndim
    d0 = dim_index(dim0, nd, "transpose")
    d1 = dim_index(dim1, nd, "transpose")
    if nd == 0:
        return _permuted(input, ())
    return _transposed(input, d0, d1)


swapaxes = swapdims = transpose


@tensor_method("t")
def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-D tensors are returned as they are (as views)."""
    require_tensor(input, "t")
    nd = input._data.ndim
    if nd > 2:
        raise ShapeError(f"t: expects a tensor with <= 2 dimensions, got {nd} "
                         f"({shape_str(input.shape)}); use transpose(dim0, dim1) or .mT")
    return _transposed(input, 0, 1) if nd == 2 else _permuted(input, tuple(range(nd)))


def _T(self: Tensor) -> Tensor:
    """The tensor with all dims reversed (PyTorch deprecates this for ndim != 2)."""
    return _permuted(self, tuple(range(self._data.ndim - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    """The last two dims swapped (a batch of matrices transposed)."""
    nd = self._data.ndim
    if nd < 2:
        raise ShapeError(f"mT: expects a tensor with >= 2 dimensions, got {shape_str(self.shape)}")
    return _transposed(self, nd - 2, nd - 1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.mH = property(_mT, doc="Conjugate transpose of the last two dims (== mT: ember is real)")


def _dims_arg(value, ndim: int, what: str) -> tuple:
    items = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    return tuple(dim_index(d, ndim, f"movedim ({what})") for d in items)


@tensor_method("movedim", "moveaxis")
def movedim(input: Tensor, source, destination) -> Tensor:
    """A view with dims ``source`` (int or sequence) moved to positions ``destination``."""
    require_tensor(input, "movedim")
    nd = input._data.ndim
    src = _dims_arg(source, nd, "source")
    dst = _dims_arg(destination, nd, "destination")
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {source} and destination {destination} must have "
                         "the same number of dims")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"movedim: repeated dim in source {source} or destination "
                         f"{destination}")
    order = [-1] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    return _permuted(input, tuple(o if o >= 0 else next(rest) for o in order))


moveaxis = movedim


# ------------------------------------------------------------------------ squeeze family


@tensor_method("squeeze")
def squeeze(input: Tensor, dim=None) -> Tensor:
    """A view without size-1 dims: all of them, or those of ``dim`` (int or tuple) that have
    size 1 (a named dim of another size is kept, as in PyTorch)."""
    require_tensor(input, "squeeze")
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        drop = {dim_index(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if s != 1 or i not in drop)
    return _reshape_to(input, new)


@tensor_method("unsqueeze")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A view with a size-1 dim inserted at ``dim`` (in ``[-ndim-1, ndim]``)."""
    require_tensor(input, "unsqueeze")
    shape = input._data.shape
    d = dim_index(dim, len(shape) + 1, "unsqueeze")
    return _reshape_to(input, shape[:d] + (1,) + shape[d:])


__all__ = [
    "reshape", "flatten", "unflatten", "ravel", "permute", "transpose", "swapaxes", "swapdims",
    "t", "movedim", "moveaxis", "squeeze", "unsqueeze",
]
