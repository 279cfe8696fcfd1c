"""Turning a list of samples into a batch: ``default_collate`` and ``default_convert``.

The rules (and output types) are PyTorch's:

=========================================  ==========================================
sample element                             batch
=========================================  ==========================================
``Tensor`` of shape ``S``                  ``Tensor`` of shape ``[B, *S]`` (stacked)
NumPy array                                ``Tensor`` (stacked), same dtype
NumPy scalar (``np.float32(1)``)           1-d ``Tensor`` of that dtype
Python ``float``                           ``float64`` tensor (not the default dtype)
Python ``int`` / ``bool``                  ``int64`` / ``bool`` tensor
``str`` / ``bytes``                        the list, unchanged
``dict`` (any Mapping)                     same mapping type, each key collated
namedtuple                                 same namedtuple, each field collated
``tuple``                                  **list**, each position collated
``list`` (any Sequence)                    same sequence type, each position collated
=========================================  ==========================================
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..creation import from_numpy
from ..creation import tensor as _tensor
from ..errors import ShapeError, shape_str
from ..ops.movement_join import stack
from ..tensor import Tensor, _make

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# Byte strings, unicode strings and Python objects have no tensor dtype.
_NON_NUMERIC = re.compile(r"[SaUO]")
_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")


def _collate_tensors(batch, *, collate_fn_map=None) -> Tensor:
    first = batch[0]
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: entry 0 of the batch is a Tensor but entry {i} "
                            f"is {type(t).__name__}")
        if t.shape != first.shape:
            raise ShapeError(
                "default_collate: stack expects each tensor to be equal size, but got "
                f"{shape_str(first.shape)} at entry 0 and {shape_str(t.shape)} at entry {i}; "
                "pad the samples or pass a collate_fn")
    if any(t.requires_grad or t.dtype is not first.dtype for t in batch):
        return stack(list(batch), 0)  # keeps autograd and promotes dtypes
    return _make(np.stack([t._data for t in batch]))


def _collate_arrays(batch, *, collate_fn_map=None) -> Tensor:
    if _NON_NUMERIC.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERR.format(batch[0].dtype))
    shapes = {b.shape for b in batch}
    if len(shapes) > 1:
        raise ShapeError("default_collate: stack expects each array to be equal size, but got "
                         f"shapes {sorted(shape_str(s) for s in shapes)}")
    return from_numpy(np.stack(batch))  # from_numpy names unsupported dtypes (uint32, ...)


def _collate_numpy_scalars(batch, *, collate_fn_map=None) -> Tensor:
    return from_numpy(np.asarray(batch))


def _collate_floats(batch, *, collate_fn_map=None) -> Tensor:
    return _make(np.asarray(batch, dtype=np.float64))


def _collate_ints(batch, *, collate_fn_map=None) -> Tensor:
    return _tensor(list(batch))


def _collate_strings(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    (str, bytes): _collate_strings,
}
"""The per-type rules of ``default_collate``; copy and extend it for :func:`collate`."""


def _like_mapping(template, fields: dict) -> Any:
    """``fields`` in a mapping of ``template``'s type (a copy for mutable ones, so extra
    attributes survive), or a plain dict when that type cannot be built from a dict."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(fields)
            return clone
        return type(template)(fields)
    except TypeError:
        return fields


def _like_sequence(template, items: list) -> Any:
    """``items`` in a sequence of ``template``'s type, or the plain list (as ``_like_mapping``)."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map: dict | None = None) -> Any:
    """Collate ``batch`` with the rules in ``collate_fn_map`` (type -> function), recursing
    into mappings and sequences; the building block of custom collate functions."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"collate: batch must be a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for klass, fn in collate_fn_map.items():
            if isinstance(elem, klass):
                return fn(batch, collate_fn_map=collate_fn_map)

    def rec(samples):
        return collate(list(samples), collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        return _like_mapping(elem, {key: rec([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(rec(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError("each element in list of batch should be of equal size "
                                   f"(entry 0 has {size} elements, entry {i} has "
                                   f"{len(sample)})")
        columns = [rec(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch (kept for backward compatibility there)
        return _like_sequence(elem, columns)
    raise TypeError(_ERR.format(elem_type))


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, recursing into dicts, tuples and lists.

    See the module docstring for the table of types; e.g. a list of ``(image, label)`` pairs
    with ``image`` a ``[1, 28, 28]`` tensor and ``label`` an int becomes
    ``[Tensor[B, 1, 28, 28], Tensor[B] int64]``.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays (also inside mappings and sequences) into tensors; the collate
    function of a DataLoader with ``batch_size=None`` (no batching)."""
    if isinstance(data, Tensor):
        return data
    elem_type = type(data)
    if elem_type.__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _NON_NUMERIC.search(data.dtype.str) is not None:
            return data
        return from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _like_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _like_sequence(data, [default_convert(d) for d in data])
    return data
