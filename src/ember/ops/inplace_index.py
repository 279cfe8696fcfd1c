"""Index-based in-place Tensor methods: ``masked_fill_``, ``scatter_``, ``scatter_add_``,
``index_fill_``, ``index_put_`` (see ``inplace.py`` for the two paths every method takes)."""

from __future__ import annotations

import numpy as np

from ..errors import IndexingError, shape_str
from ..tensor import Tensor
from .gather_scatter import (
    SCATTER,
    SCATTER_ADD,
    check_range,
    index_add,
    index_add_checked,
    index_arg,
    mask_arg,
    masked_fill,
    prepare,
    scalar_value,
    scatter_into,
)
from .indexing import (
    INDEX_PUT,
    check_value_shape,
    index_put,
    parse_index,
    shape_after,
    value_tensor,
)
from .inplace import bump, check_shape, check_writable, inplace_with_graph, needs_graph
from .registry import apply, normalize_dim, tensor_method


@tensor_method("masked_fill_")
def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """Write ``value`` where ``mask`` (bool, broadcast to ``self``) is True."""
    check_writable(self, "masked_fill_")
    mask = mask_arg(mask, "masked_fill_")
    check_shape(self, mask._data.shape, "masked_fill_")
    v = scalar_value(value, self, "masked_fill_")
    if needs_graph(self, (v,), "masked_fill_"):
        return inplace_with_graph(self, lambda old, val: masked_fill(old, mask, val), (v,),
                                  False, "masked_fill_")
    np.copyto(self._data, v._data, where=mask._data, casting="unsafe")
    bump(self)
    return self


@tensor_method("scatter_")
def scatter_(self: Tensor, dim: int, index: Tensor, src=None, value=None, *,
             reduce: str | None = None) -> Tensor:
    """In-place :func:`ember.scatter`."""
    check_writable(self, "scatter_")
    if src is None and value is None:
        raise TypeError("scatter_(): expected a src tensor or a value")
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter_(): reduce must be 'add' or 'multiply', got {reduce!r}")
    dim, index, src = prepare("scatter_", self, dim, index, src, value)
    if needs_graph(self, (src,), "scatter_"):
        return inplace_with_graph(
            self, lambda old, s: apply(SCATTER, (old, index, s), dim=dim, reduce=reduce),
            (src,), False, "scatter_")
    scatter_into(self._data, index._data, src._data, dim, reduce)
    bump(self)
    return self


@tensor_method("scatter_add_")
def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place :func:`ember.scatter_add`."""
    check_writable(self, "scatter_add_")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add_(): src must be a Tensor, got {type(src).__name__}")
    dim, index, src = prepare("scatter_add_", self, dim, index, src)
    if needs_graph(self, (src,), "scatter_add_"):
        return inplace_with_graph(
            self, lambda old, s: apply(SCATTER_ADD, (old, index, s), dim=dim), (src,), False,
            "scatter_add_")
    scatter_into(self._data, index._data, src._data, dim, "add")
    bump(self)
    return self


@tensor_method("index_fill_")
def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """Write ``value`` into the entries at positions ``index`` (1-D) along ``dim``."""
    check_writable(self, "index_fill_")
    index = index_arg(index, "index_fill_")
    if index._data.ndim > 1:
        raise IndexingError(f"index_fill_(): Index has to be a vector, got shape "
                            f"{shape_str(index.shape)}")
    dim = normalize_dim(dim, self._data.ndim, "index_fill_")
    check_range(index._data, dim, self._data.shape[dim] if self._data.ndim else 1, "index_fill_")
    where = (slice(None),) * dim + (index._data.reshape(-1),) if self._data.ndim else ()
    v = scalar_value(value, self, "index_fill_")
    if needs_graph(self, (v,), "index_fill_"):
        return inplace_with_graph(self, lambda old, val: apply(INDEX_PUT, (old, val), index=where),
                                  (v,), False, "index_fill_")
    self._data[where] = v._data
    bump(self)
    return self


@tensor_method("index_put_")
def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """In-place :func:`ember.index_put`: ``self[indices] = values`` (or ``+=`` with
    ``accumulate=True``, where repeated indices add up)."""
    check_writable(self, "index_put_")
    where, basic = parse_index(indices, self._data.shape, "index_put_")
    v = value_tensor(values, self, "index_put_")
    check_value_shape(v._data.shape, shape_after(self._data.shape, where))
    if needs_graph(self, (v,), "index_put_"):
        return inplace_with_graph(
            self, lambda old, val: index_put(old, where, val, accumulate), (v,), False,
            "index_put_")
    if accumulate:
        np.add.at(self._data, where, v._data)
    else:
        self._data[where] = v._data
    bump(self)
    return self


@tensor_method("index_add_")
def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place :func:`ember.index_add`: ``alpha * source`` added at ``index`` along ``dim``."""
    check_writable(self, "index_add_")
    where = index_add_checked("index_add_", self, dim, index, source)
    if needs_graph(self, (source,), "index_add_"):
        return inplace_with_graph(self, lambda old, s: index_add(old, dim, index, s, alpha=alpha),
                                  (source,), False, "index_add_")
    values = source._data if alpha == 1 else source._data * alpha
    np.add.at(self._data, where, values.reshape(()) if self._data.ndim == 0 else values)
    bump(self)
    return self
