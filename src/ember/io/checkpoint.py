"""``ember.save`` / ``ember.load``: checkpoints without pickle.

A checkpoint is one safetensors file. Every tensor in ``obj`` becomes a safetensors entry
under a path-like name (``model/fc.weight``, ``optimizer/state/0/exp_avg``; a flat state dict
keeps its own names, so other tools see ``fc.weight``); everything else — nesting, numbers,
strings, ``None``, tuples, integer dict keys, NumPy's RNG state with its 128-bit integers — is
encoded as JSON and stored as one string under the metadata key ``"ember"``.

Why not pickle (``torch.save``'s format): unpickling runs code named by the file, so loading an
untrusted checkpoint can execute anything. Here loading only parses JSON and copies bytes; the
set of types that can come back is fixed (see :func:`save`).

JSON encoding: plain JSON values stand for themselves; anything JSON cannot say is an object
tagged ``{"__ember__": kind, ...}``: ``tensor``/``ndarray`` (a reference to a safetensors
entry), ``tuple``, ``dict``/``odict`` (non-string keys, or an OrderedDict), ``int`` (beyond
2**53, as a decimal string, so any JSON reader keeps every digit), ``float`` (nan/inf),
``numpy_scalar`` and ``dtype``. A user dict that itself has an ``"__ember__"`` key is stored
in the tagged pair form, so it is never mistaken for a tag.
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from ..dtypes import DType, as_dtype
from ..tensor import Tensor, _make
from .safetensors import (
    CheckpointError,
    atomic_write,
    is_file_like,
    read_safetensors,
    write_safetensors,
)

__all__ = ["save", "load"]

METADATA_KEY = "ember"
FORMAT = "ember.checkpoint"
VERSION = 1
TAG = "__ember__"
_SAFE_INT = 2 ** 53  # beyond this, JSON readers other than Python's round ints to doubles
_SUPPORTED = ("tensors, NumPy arrays and scalars, numbers, strings, None, lists, tuples, "
              "dicts and ember dtypes")


class _Encoder:
    """Walks ``obj``, collecting tensors by path and returning its JSON form."""

    def __init__(self) -> None:
        self.tensors: dict[str, Any] = {}
        self.keys_by_id: dict[int, str] = {}  # the same tensor object twice is stored once

    def tensor_key(self, value: Any, path: str) -> str:
        key = self.keys_by_id.get(id(value))
        if key is not None:
            return key
        key = path or "_"
        n = 1
        while key in self.tensors:  # "a/b" as one key and as a nested path: keep both
            key = f"{path}#{n}"
            n += 1
        self.tensors[key] = value
        self.keys_by_id[id(value)] = key
        return key

    def encode(self, obj: Any, path: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj if -_SAFE_INT < obj < _SAFE_INT else {TAG: "int", "value": str(obj)}
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {TAG: "float", "value": repr(obj)}
        if isinstance(obj, Tensor):
            out = {TAG: "tensor", "key": self.tensor_key(obj, path)}
            if obj.requires_grad:
                out["requires_grad"] = True
            return out
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise TypeError(f"ember.save: {_where(path)} is a NumPy array of dtype "
                                f"{obj.dtype}; only bool, integer and float arrays can be saved")
            return {TAG: "ndarray", "key": self.tensor_key(obj, path)}
        if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
            return {TAG: "numpy_scalar", "dtype": obj.dtype.str,
                    "value": self.encode(obj.item(), path)}
        if isinstance(obj, DType):
            return {TAG: "dtype", "name": obj.name}
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {TAG: "tuple", "items": [self.encode(v, _join(path, i))
                                            for i, v in enumerate(obj)]}
        if isinstance(obj, Mapping):
            return self.encode_dict(obj, path)
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = f"; save its state_dict() instead of the {type(obj).__name__} itself"
        raise TypeError(f"ember.save: cannot save {_where(path)} of type "
                        f"{type(obj).__module__}.{type(obj).__qualname__}: checkpoints hold "
                        f"only {_SUPPORTED} (no pickle){hint}")

    def encode_dict(self, obj: Mapping, path: str) -> Any:
        ordered = isinstance(obj, OrderedDict)
        if all(isinstance(k, str) for k in obj) and TAG not in obj:
            items = {k: self.encode(v, _join(path, k)) for k, v in obj.items()}
            return {TAG: "odict", "items": items} if ordered else items
        pairs = []
        for k, v in obj.items():
            if isinstance(k, (Tensor, np.ndarray)) or not isinstance(
                    k, (str, int, float, bool, tuple, type(None), np.generic)):
                raise TypeError(f"ember.save: {_where(path)} has a key of type "
                                f"{type(k).__name__}; dict keys must be str, int, float, "
                                "bool, None or tuples of those")
            pairs.append([self.encode(k, path), self.encode(v, _join(path, k))])
        return {TAG: "odict" if ordered else "dict", "pairs": pairs}


def _join(path: str, key: Any) -> str:
    return f"{path}/{key}" if path else str(key)


def _where(path: str) -> str:
    return f"the value at {path!r}" if path else "the object"


def encode(obj: Any) -> tuple[dict[str, Any], str]:
    """Split ``obj`` into ``(tensors by key, JSON string of everything else)``."""
    enc = _Encoder()
    body = enc.encode(obj, "")
    doc = {"format": FORMAT, "version": VERSION, "object": body}
    return enc.tensors, json.dumps(doc, separators=(",", ":"), allow_nan=False)


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays = arrays
        self.name = name
        self.made: dict[tuple[str, str], Any] = {}  # shared tensors come back shared

    def fail(self, what: str) -> CheckpointError:
        return CheckpointError(f"{self.name}: corrupt ember checkpoint: {what}")

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise self.fail(f"unexpected JSON value {node!r}")
        if TAG not in node:
            return {k: self.decode(v) for k, v in node.items()}
        kind = node[TAG]
        try:
            if kind in ("tensor", "ndarray"):
                return self.tensor(kind, node["key"], node.get("requires_grad", False))
            if kind == "tuple":
                return tuple(self.decode(v) for v in node["items"])
            if kind in ("dict", "odict"):
                out = OrderedDict() if kind == "odict" else {}
                if "items" in node:
                    for k, v in node["items"].items():
                        out[k] = self.decode(v)
                else:
                    for k, v in node["pairs"]:
                        out[self.decode(k)] = self.decode(v)
                return out
            if kind == "int":
                return int(node["value"])
            if kind == "float":
                value = node["value"]
                if value not in ("nan", "inf", "-inf"):
                    raise ValueError(value)
                return float(value)
            if kind == "numpy_scalar":
                dtype = np.dtype(node["dtype"])
                if dtype.kind not in "biuf":
                    raise ValueError(f"dtype {dtype}")
                return dtype.type(self.decode(node["value"]))
            if kind == "dtype":
                return as_dtype(node["name"])
        except CheckpointError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise self.fail(f"malformed {kind!r} entry {_short(node)} ({type(e).__name__}: "
                            f"{e})") from None
        raise self.fail(f"unknown entry kind {kind!r}")

    def tensor(self, kind: str, key: str, requires_grad: bool) -> Any:
        cached = self.made.get((kind, key))
        if cached is not None:
            return cached
        if not isinstance(key, str) or key not in self.arrays:
            raise self.fail(f"the structure refers to tensor {key!r}, which the file lacks")
        arr = self.arrays[key]
        if kind == "ndarray":
            out = arr
        else:
            out = _make(arr)
            if requires_grad:
                out.requires_grad_(True)
        self.made[kind, key] = out
        return out


def _short(node: Any) -> str:
    text = json.dumps(node)
    return text if len(text) <= 80 else text[:77] + "..."


def save(obj: Any, f: str | os.PathLike | IO[bytes]) -> None:
    """Save a tensor, a state dict or a nested structure of them to ``f`` (no pickle).

    ``obj`` may hold Tensors, NumPy arrays and scalars, Python numbers, strings, ``None``,
    lists, tuples, dicts (any keys of those scalar types; OrderedDicts stay ordered) and
    dtypes, e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
    "rng": ember.get_rng_state()}``. The file is a safetensors file: the write goes to a
    temporary file in the same directory that is fsynced and renamed over ``f``, so a crash
    leaves the previous checkpoint whole. ``f`` may also be a binary file object.
    Unlike ``torch.save``, arbitrary Python objects (modules, optimizers) are refused with a
    ``TypeError``: save their ``state_dict()``.
    """
    tensors, text = encode(obj)
    metadata = {METADATA_KEY: text}
    if is_file_like(f):
        write_safetensors(f, tensors, metadata, where="ember.save")
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"ember.save: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    with atomic_write(f) as out:
        write_safetensors(out, tensors, metadata, where="ember.save")


def load(f: str | os.PathLike | IO[bytes], map_location: Any = None) -> Any:
    """Load what :func:`save` wrote; tensors are fresh copies and the file is closed after.

    A safetensors file from another tool (no ember structure in its metadata) loads as a
    dict of name -> Tensor. ``map_location`` exists for PyTorch compatibility: ember runs on
    the CPU, so only ``None`` and ``"cpu"`` are accepted. Raises :class:`CheckpointError` (a
    ``ValueError``) naming the file for a truncated or corrupt file.
    """
    if map_location not in (None, "cpu"):
        raise ValueError(f"ember.load: map_location={map_location!r} is not supported; ember "
                         "tensors live on the CPU (pass None or 'cpu')")
    if is_file_like(f):
        name = str(getattr(f, "name", "<file object>"))
        arrays, metadata = read_safetensors(f, name)
    else:
        if not isinstance(f, (str, os.PathLike)):
            raise TypeError(f"ember.load: f must be a path or a binary file object, got "
                            f"{type(f).__name__}")
        name = os.fspath(f)
        with open(name, "rb") as handle:
            arrays, metadata = read_safetensors(handle, name)
    text = metadata.get(METADATA_KEY)
    if text is None:
        return {k: _make(v) for k, v in arrays.items()}
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"{name}: corrupt ember checkpoint: the '{METADATA_KEY}' "
                              f"metadata is not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "object" not in doc:
        raise CheckpointError(f"{name}: corrupt ember checkpoint: the '{METADATA_KEY}' "
                              f"metadata lacks the {FORMAT!r} format marker")
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        raise CheckpointError(f"{name}: ember checkpoint format version {doc.get('version')!r} "
                              f"is newer than this ember reads ({VERSION}); upgrade ember")
    return _Decoder(arrays, name).decode(doc["object"])
