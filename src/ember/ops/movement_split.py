"""Views along one dim: narrow/select, and split/chunk/unbind/tensor_split built on them.

``narrow`` and ``select`` return views; their vjps write the gradient into zeros of the input's
shape (``narrow_backward``/``select_backward``), whose own vjps are ``narrow``/``select`` again,
so gradients of any order flow through a split (and through ``cat``/``stack``, whose vjps
are narrows and selects).
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import IndexingError, ShapeError, shape_str
from ..tensor import Tensor
from .checks import require_tensor
from .movement_view import as_view, dim_index
from .registry import Op, TensorSpec, apply, tensor_method

_index = operator.index
_FULL = slice(None)


# ------------------------------------------------------------------------ narrow / select


def _narrow_index(dim: int, start: int, length: int) -> tuple:
    return (_FULL,) * dim + (slice(start, start + length),)


def _narrow_infer(a: TensorSpec, *, dim: int, start: int, length: int) -> TensorSpec:
    if a.ndim == 0:
        raise ShapeError("narrow: cannot narrow a 0-d tensor")
    size = a.shape[dim]
    if start < 0 or length < 0 or start + length > size:
        raise IndexingError(f"narrow: start ({start}) + length ({length}) exceeds the size "
                            f"{size} of dim {dim} of a tensor of shape {shape_str(a.shape)}")
    return TensorSpec(a.shape[:dim] + (length,) + a.shape[dim + 1:], a.dtype)


def _narrow_backward_forward(g, *, shape, dim, start):
    out = np.zeros(shape, dtype=g.dtype)
    out[_narrow_index(dim, start, g.shape[dim])] = g
    return out


def _narrow_backward_infer(g: TensorSpec, *, shape, dim, start) -> TensorSpec:
    _narrow_infer(TensorSpec(tuple(shape), g.dtype), dim=dim, start=start, length=g.shape[dim])
    return TensorSpec(tuple(shape), g.dtype)


NARROW = Op("narrow", lambda a, *, dim, start, length: a[_narrow_index(dim, start, length)],
            lambda ctx, g: (narrow_backward(g, ctx.inputs[0].shape, ctx.attrs["dim"],
                                            ctx.attrs["start"]),),
            _narrow_infer, save=())
NARROW_BACKWARD = Op("narrow_backward", _narrow_backward_forward,
                     lambda ctx, g: (_narrow(g, ctx.attrs["dim"], ctx.attrs["start"],
                                             ctx.inputs[0].shape[ctx.attrs["dim"]]),),
                     _narrow_backward_infer, save=())


def narrow_backward(grad: Tensor, shape: tuple, dim: int, start: int) -> Tensor:
    """Zeros of ``shape`` with ``grad`` at ``start:`` along ``dim`` (the adjoint of narrow)."""
    return apply(NARROW_BACKWARD, (grad,), shape=tuple(shape), dim=dim, start=start)


def _narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return as_view(apply(NARROW, (input,), dim=dim, start=start, length=length), input)


@tensor_method("narrow")
def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """A view of ``length`` elements from ``start`` along ``dim`` (``start`` may be negative
    or a 0-d tensor)."""
    require_tensor(input, "narrow")
    shape = input._data.shape
    if not shape:
        raise ShapeError("narrow: cannot narrow a 0-d tensor")
    d = dim_index(dim, len(shape), "narrow")
    start, length = _index(start), _index(length)
    size = shape[d]
    if not -size <= start <= size:
        raise IndexingError(f"narrow: start {start} is out of range for dim {dim} of size "
                            f"{size} (expected in [{-size}, {size}])")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise IndexingError(f"narrow: start ({start}) + length ({length}) exceeds the size "
                            f"{size} of dim {dim} of a tensor of shape {shape_str(shape)}")
    return _narrow(input, d, start, length)


def _select_index(dim: int, index: int) -> tuple:
    # the Ellipsis keeps a 0-d result an array view rather than a NumPy scalar copy
    return (_FULL,) * dim + (index, Ellipsis)


def _select_infer(a: TensorSpec, *, dim: int, index: int) -> TensorSpec:
    if a.ndim == 0 or not 0 <= index < a.shape[dim]:
        raise IndexingError(f"select: index {index} is out of range for dim {dim} of a tensor "
                            f"of shape {shape_str(a.shape)}")
    return TensorSpec(a.shape[:dim] + a.shape[dim + 1:], a.dtype)


def _select_backward_forward(g, *, shape, dim, index):
    out = np.zeros(shape, dtype=g.dtype)
    out[_select_index(dim, index)] = g
    return out


def _select_backward_infer(g: TensorSpec, *, shape, dim, index) -> TensorSpec:
    expected = _select_infer(TensorSpec(tuple(shape), g.dtype), dim=dim, index=index)
    if tuple(expected.shape) != tuple(g.shape):
        raise ShapeError(f"select_backward: gradient {shape_str(g.shape)} does not fit "
                         f"{shape_str(shape)} at dim {dim}")
    return TensorSpec(tuple(shape), g.dtype)


SELECT = Op("select", lambda a, *, dim, index: a[_select_index(dim, index)],
            lambda ctx, g: (select_backward(g, ctx.inputs[0].shape, ctx.attrs["dim"],
                                            ctx.attrs["index"]),),
            _select_infer, save=())
SELECT_BACKWARD = Op("select_backward", _select_backward_forward,
                     lambda ctx, g: (_select(g, ctx.attrs["dim"], ctx.attrs["index"]),),
                     _select_backward_infer, save=())


def select_backward(grad: Tensor, shape: tuple, dim: int, index: int) -> Tensor:
    """Zeros of ``shape`` with ``grad`` at ``index`` along ``dim`` (the adjoint of select)."""
    return apply(SELECT_BACKWARD, (grad,), shape=tuple(shape), dim=dim, index=index)


def _select(input: Tensor, dim: int, index: int) -> Tensor:
    return as_view(apply(SELECT, (input,), dim=dim, index=index), input)


@tensor_method("select")
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """A view of the slice at ``index`` along ``dim``, which is removed."""
    require_tensor(input, "select")
    shape = input._data.shape
    if not shape:
        raise IndexingError("select: cannot select from a 0-d tensor")
    d = dim_index(dim, len(shape), "select")
    index = _index(index)
    if not -shape[d] <= index < shape[d]:
        raise IndexingError(f"select: index {index} is out of range for dim {dim} of size "
                            f"{shape[d]} (tensor of shape {shape_str(shape)})")
    return _select(input, d, index % shape[d])


# ------------------------------------------------------------------------ split family


def _pieces(input: Tensor, dim: int, sizes) -> tuple:
    out, start = [], 0
    for n in sizes:
        out.append(_narrow(input, dim, start, n))
        start += n
    return tuple(out)


@tensor_method("split")
def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into views of ``split_size_or_sections`` elements along ``dim`` (the last piece
    may be smaller), or into pieces of the listed sizes."""
    require_tensor(tensor, "split")
    shape = tensor._data.shape
    if not shape:
        raise ShapeError("split: cannot split a 0-d tensor")
    d = dim_index(dim, len(shape), "split")
    size = shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sections = [_index(s) for s in split_size_or_sections]
        if any(s < 0 for s in sections) or sum(sections) != size:
            raise ShapeError(f"split: split sizes {sections} must be non-negative and sum to "
                             f"the size {size} of dim {dim} (tensor of shape {shape_str(shape)})")
        return _pieces(tensor, d, sections)
    step = _index(split_size_or_sections)
    if step < 0 or (step == 0 and size != 0):
        raise ValueError(f"split: split_size must be positive (0 only for an empty dim), got "
                         f"{step} for dim {dim} of size {size}")
    if size == 0:
        return (_narrow(tensor, d, 0, 0),)
    return _pieces(tensor, d, [min(step, size - s) for s in range(0, size, step)])


@tensor_method("chunk")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` views of equal size along ``dim`` (the last may be smaller, and
    fewer pieces come back when the size does not allow ``chunks``)."""
    require_tensor(input, "chunk")
    chunks = _index(chunks)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be greater than 0, got {chunks}")
    shape = input._data.shape
    if not shape:
        raise ShapeError("chunk: cannot chunk a 0-d tensor")
    d = dim_index(dim, len(shape), "chunk")
    size = shape[d]
    if size == 0:
        return _pieces(input, d, [0] * chunks)
    return split(input, -(-size // chunks), d)


@tensor_method("unbind")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` as a tuple of views (each without ``dim``)."""
    require_tensor(input, "unbind")
    shape = input._data.shape
    if not shape:
        raise IndexingError("unbind: cannot unbind a 0-d tensor")
    d = dim_index(dim, len(shape), "unbind")
    return tuple(_select(input, d, i) for i in range(shape[d]))


@tensor_method("tensor_split")
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``n`` nearly equal views (an int), or at the listed indices along ``dim``."""
    require_tensor(input, "tensor_split")
    shape = input._data.shape
    if not shape:
        raise ShapeError("tensor_split: expects at least a 1-dimensional tensor")
    d = dim_index(dim, len(shape), "tensor_split")
    size = shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = spec.tolist()
    if isinstance(spec, (list, tuple)):
        bounds = []
        for i in spec:
            i = _index(i)
            bounds.append(min(max(i + size if i < 0 else i, 0), size))
        starts = [0] + bounds
        ends = bounds + [size]
        return tuple(_narrow(input, d, s, max(e - s, 0)) for s, e in zip(starts, ends))
    n = _index(spec)
    if n <= 0:
        raise ValueError(f"tensor_split: number of sections must be greater than 0, got {n}")
    small, extra = divmod(size, n)
    return _pieces(input, d, [small + 1] * extra + [small] * (n - extra))


__all__ = ["narrow", "select", "split", "chunk", "unbind", "tensor_split"]
