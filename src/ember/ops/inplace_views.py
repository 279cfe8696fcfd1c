"""In-place ops on views, with autograd (PyTorch's CopySlices and view regeneration).

A view shares memory with its base. An in-place op on the view with autograd is recorded on
the base: ``base = index_put(base, view_position, op(base[view_position]))``, and every
registered view of the base gets a ``grad_fn`` reading from the new base node. A view made by
indexing knows its position (its chain of indices); any other view (transpose, reshape, ...)
is located from memory addresses, as the flat positions of its elements in the base.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import AutogradError
from ..tensor import Tensor, _make
from .inplace import bump, fit_result
from .registry import Op, apply


def view_steps(view: Tensor, base: Tensor) -> tuple | None:
    """How to index ``base`` to reach ``view``: ``((index, basic), ...)``.

    A view made by indexing keeps its chain of basic indices. Any other view (transpose,
    reshape, narrow, ...) is located from memory addresses: the position in ``base`` of each
    of its elements, as one advanced index. None if the view is not inside ``base``'s memory.
    """
    chain = getattr(view, "_view_chain", None)
    if chain is not None:
        return tuple((index, True) for index in chain)
    b, v = base._data, view._data
    if b.ndim == 0:
        return (((Ellipsis,), True),)
    if v.size == 0:  # any index of the view's shape will do: it selects nothing
        return ((tuple(np.zeros(v.shape, np.intp) for _ in b.shape), False),)
    origin = b.ctypes.data
    base_offsets = _offsets(b, origin)
    lowest = int(base_offsets.min())
    # memory offset -> flat position in base (any layout: C, Fortran, strided)
    lookup = np.full(int(base_offsets.max()) - lowest + 1, -1, np.intp)
    lookup[(base_offsets - lowest).ravel()] = np.arange(b.size, dtype=np.intp)
    where = _offsets(v, origin) - lowest
    if where.min() < 0 or where.max() >= lookup.size:
        return None
    flat = lookup[where]
    if flat.min() < 0:
        return None
    return ((np.unravel_index(flat, b.shape), False),)


def _offsets(a: np.ndarray, origin: int) -> np.ndarray:
    """The memory offset, in elements from address ``origin``, of every element of ``a``."""
    item = a.itemsize
    out = np.full(a.shape, (a.ctypes.data - origin) // item, np.intp)
    for k, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        out = out + (np.arange(n, dtype=np.intp) * (stride // item)).reshape(shape)
    return out


def copy_slices(view: Tensor, fn, others: tuple, op: str) -> Tensor:
    """In-place ``fn`` on a view: rebase the base to ``index_put(base, view, fn(view))``."""
    from .indexing import INDEX, INDEX_PUT

    base = view._base
    if base._node is None and base._requires_grad:
        raise AutogradError(f"{op}: a view of a leaf Variable that requires grad is being used "
                            "in an in-place operation.")
    steps = view_steps(view, base)
    if steps is None:
        raise AutogradError(
            f"{op}: cannot locate this view inside its base's memory, so the in-place change "
            "cannot be recorded; clone() the view first")

    def rebuild(t: Tensor, depth: int) -> Tensor:
        if depth == len(steps):
            return fit_result(fn(t, *others), t, op)
        index, basic = steps[depth]
        part = apply(INDEX, (t,), index=index, basic=basic)
        return apply(INDEX_PUT, (t, rebuild(part, depth + 1)), index=index)

    # the old values of the base are copied: the op on the region may save them
    new_base = rebuild(_make(base._data.copy(), base._requires_grad, base._node), 0)
    np.copyto(base._data, new_base._data)
    bump(base)
    base._node = new_base._node
    base._requires_grad = True
    regenerate_views(base, also=view)
    return view


def register_view(base: Tensor, view: Tensor) -> None:
    """Remember ``view`` (which requires grad) on its ``base``, so an in-place op that rebases
    ``base`` regenerates the view's ``grad_fn``; a stale one would give wrong gradients.
    View-making ops call this (PyTorch regenerates views the same way)."""
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = []
    else:
        n = len(views)
        if n >= 8 and n & (n - 1) == 0:  # drop dead views at 8, 16, 32, ...: amortized O(1)
            views[:] = [w for w in views if w() is not None]
    views.append(weakref.ref(view))


def regenerate_views(base: Tensor, also: Tensor | None = None) -> None:
    """Point the ``grad_fn`` of every live registered view of ``base`` at its new node."""
    from .indexing import INDEX

    views = [w() for w in (getattr(base, "_views", None) or ())]
    if also is not None:
        views.append(also)
    for v in views:
        if v is None or v._base is not base:
            continue
        steps = view_steps(v, base)
        if steps is None:  # cannot be located: cut it off rather than keep a stale history
            v._node = _stale_node(v)
            continue
        out = base
        for index, basic in steps:
            out = apply(INDEX, (out,), index=index, basic=basic)
        v._node = out._node
        v._requires_grad = out._requires_grad


def _stale_vjp(ctx, g):
    raise AutogradError(
        "a view was used in backward after its base was modified in place, and ember cannot "
        "locate the view in the base's memory to update its history; clone() the view first")


STALE_VIEW = Op("stale_view", lambda a: a, _stale_vjp, lambda a: a, save=())


def _stale_node(v: Tensor):
    return apply(STALE_VIEW, (_make(v._data, True),))._node
