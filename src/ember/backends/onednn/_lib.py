"""ctypes access to the system oneDNN: loading, engine/stream, memory descriptors, primitives,
and the primitive cache. The stable helper API every oneDNN kernel module imports.

- ``load()`` finds and opens ``libdnnl.so.3`` or ``libdnnl.so.2`` (``EMBER_ONEDNN_LIBRARY`` may
  name a file) and picks the binding layer of that major version (``_v2.py``; a v3 layer is not
  written, so a lone ``libdnnl.so.3`` reports itself unavailable); ``available()`` /
  ``unavailable_reason()`` never raise; ``version()``, ``engine()``, ``stream()`` (created once).
- Names of the version layer (``ARG_*``, ``TAG_*``, ``PROP_*``, ``ALG_*``, ``QUERY_*``, ``DT_*``,
  and its ``*_pd`` functions, which take ``lib()`` and ``engine()`` as their first arguments)
  are read through this module: ``_lib.ARG_SRC``, ``_lib.api().conv_forward_pd(...)``.
- ``memory_desc(shape, dtype, tag=None, strides=None)``, ``memory_desc_of(array)``;
  ``Primitive(pd)`` wraps a primitive descriptor: ``md(arg)``, ``execute({arg: array})`` binds
  NumPy buffers zero-copy; ``reorder(src_md, dst_md)``.
- ``cached(key, build)``: the primitive cache, keyed by ``(kind, shapes, dtype, layout,
  attributes)`` tuples the kernels build; ``cache_stats()`` / ``clear_cache()``.
- ``check(status, call)`` raises ``OneDNNError`` naming the call (``OneDNNUnimplemented`` when
  oneDNN has no implementation, which kernels turn into a NumPy fallback).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections import OrderedDict

import numpy as np

from .._errors import BackendUnavailableError, OneDNNError, OneDNNUnimplemented
from . import _v2

__all__ = ["load", "lib", "api", "available", "unavailable_reason", "version", "engine",
           "stream", "check", "memory_desc", "memory_desc_of", "empty_md", "Primitive",
           "reorder", "cached", "cache_stats", "clear_cache", "dtype_code", "OneDNNError",
           "OneDNNUnimplemented", "BackendUnavailableError"]

_BINDINGS = {2: _v2}  # major version -> binding layer; add 3: _v3 when it exists and is tested
_state: dict = {}
_LOCK = threading.RLock()  # memory objects are rebound per call: one execution at a time


def _candidates() -> list[str]:
    explicit = os.environ.get("EMBER_ONEDNN_LIBRARY")
    if explicit:
        return [explicit]
    names = ["libdnnl.so.3", "libdnnl.so.2"]
    found = ctypes.util.find_library("dnnl")  # e.g. a libdnnl.so symlink in the linker path
    return names + ([found] if found and found not in names else [])


def _open():
    errors = []
    for name in _candidates():
        try:
            handle = ctypes.CDLL(name)
        except OSError as e:
            errors.append(f"{name}: {e}")
            continue
        handle.dnnl_version.restype = ctypes.POINTER(_Version)
        v = handle.dnnl_version().contents
        if v.major not in _BINDINGS:
            errors.append(f"{name} is oneDNN {v.major}.{v.minor}.{v.patch}, but ember has a "
                          f"binding for major version(s) {sorted(_BINDINGS)} only")
            continue
        return handle, (v.major, v.minor, v.patch), _BINDINGS[v.major]
    raise BackendUnavailableError(
        "oneDNN is not available: " + "; ".join(errors)
        + ". Install it with `apt-get install libdnnl2` (Debian/Ubuntu) or set "
        "EMBER_ONEDNN_LIBRARY to the path of libdnnl.so.")


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int),
                ("hash", ctypes.c_char_p), ("cpu_runtime", ctypes.c_uint),
                ("gpu_runtime", ctypes.c_uint)]


class _ExecArg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


def _declare_common(h: ctypes.CDLL) -> None:
    p, i, st = ctypes.c_void_p, ctypes.c_int, ctypes.c_int
    sig = {
        "dnnl_engine_create": (st, [p, i, ctypes.c_size_t]),
        "dnnl_stream_create": (st, [p, p, ctypes.c_uint]),
        "dnnl_stream_wait": (st, [p]),
        "dnnl_primitive_create": (st, [p, p]),
        "dnnl_primitive_execute": (st, [p, p, i, p]),
        "dnnl_primitive_destroy": (st, [p]),
        "dnnl_primitive_desc_destroy": (st, [p]),
        "dnnl_primitive_desc_query": (st, [p, i, i, p]),
        "dnnl_primitive_desc_query_md": (p, [p, i, i]),
        "dnnl_memory_create": (st, [p, p, p, p]),
        "dnnl_memory_set_data_handle": (st, [p, p]),
        "dnnl_memory_destroy": (st, [p]),
        "dnnl_set_verbose": (st, [i]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(h, name)
        fn.restype, fn.argtypes = res, args


def load() -> ctypes.CDLL:
    """Open oneDNN once (thread-safe) and return the CDLL; BackendUnavailableError if absent."""
    if "lib" in _state:
        return _state["lib"]
    if "error" in _state:
        raise BackendUnavailableError(_state["error"])
    with _LOCK:
        if "lib" not in _state and "error" not in _state:
            try:
                handle, ver, binding = _open()
                _declare_common(handle)
                binding.declare(handle)
            except BackendUnavailableError as e:
                _state["error"] = str(e)
                raise
            _state.update(lib=handle, version=ver, api=binding, pid=os.getpid())
    return load()


def lib() -> ctypes.CDLL:
    """The loaded library (loads it on first use)."""
    return _state["lib"] if "lib" in _state else load()


def api():
    """The binding layer of the loaded major version (``_v2``): enum values and ``*_pd``."""
    if "api" not in _state:
        load()
    return _state["api"]


def available() -> bool:
    """True when oneDNN loads here (never raises)."""
    try:
        load()
    except BackendUnavailableError:
        return False
    return True


def unavailable_reason() -> str | None:
    """Why oneDNN cannot be used (None when it can)."""
    return None if available() else _state.get("error")


def version() -> tuple:
    """``(major, minor, patch)`` of the loaded library."""
    load()
    return _state["version"]


def check(status: int, call: str, detail: str = "") -> None:
    """Raise ``OneDNNError`` naming ``call`` unless ``status`` is success."""
    api().check(status, call, detail)


def engine() -> int:
    """The CPU engine handle (created on first use, kept for the process)."""
    if "engine" not in _state:
        with _LOCK:
            if "engine" not in _state:
                h = ctypes.c_void_p()
                check(lib().dnnl_engine_create(ctypes.byref(h), api().ENGINE_CPU, 0),
                      "dnnl_engine_create")
                _state["engine"] = h.value
    return _state["engine"]


def stream() -> int:
    """The one in-order CPU stream every primitive runs on."""
    if "stream" not in _state:
        with _LOCK:
            if "stream" not in _state:
                h = ctypes.c_void_p()
                check(lib().dnnl_stream_create(ctypes.byref(h), engine(),
                                               api().STREAM_DEFAULT_FLAGS), "dnnl_stream_create")
                _state["stream"] = h.value
    return _state["stream"]


def __getattr__(name: str):
    # enum values of the loaded version: _lib.ARG_SRC, _lib.TAG_NHWC, ...
    if name.isupper():
        return getattr(api(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- memory descriptors

_DTYPES = {np.dtype(np.float32): "DT_F32", np.dtype(np.float16): "DT_F16",
           np.dtype(np.int32): "DT_S32", np.dtype(np.int8): "DT_S8", np.dtype(np.uint8): "DT_U8"}


def dtype_code(dtype) -> int:
    """oneDNN's data-type value for a NumPy dtype (OneDNNUnimplemented for others)."""
    name = _DTYPES.get(np.dtype(dtype))
    if name is None:
        raise OneDNNUnimplemented("dtype_code", 3, "unimplemented", f"dtype {np.dtype(dtype)}")
    return getattr(api(), name)


def memory_desc(shape, dtype, tag: int | None = None, strides=None):
    """A memory descriptor: ``tag`` a TAG_* value (None = ``any``: let the primitive choose)
    or ``strides`` in elements. ``dtype`` is a NumPy dtype or a DT_* value."""
    code = dtype if isinstance(dtype, int) else dtype_code(dtype)
    return api().memory_desc(lib(), tuple(shape), code, tag, strides)


def memory_desc_of(array: np.ndarray):
    """The descriptor of ``array`` exactly as it lies in memory (its shape and strides)."""
    item = array.itemsize
    if any(s % item or s < 0 for s in array.strides):
        raise OneDNNUnimplemented("memory_desc_of", 3, "unimplemented",
                                  f"strides {array.strides} are negative or not whole elements")
    strides = [s // item if n > 1 else 0 for s, n in zip(array.strides, array.shape)]
    # oneDNN wants a stride for every dim even where it does not matter (size-1 dims)
    strides = [st or _dense_stride(array.shape, d) for d, st in enumerate(strides)]
    return memory_desc(array.shape, array.dtype, strides=strides)


def _dense_stride(shape, d: int) -> int:
    return int(np.prod(shape[d + 1:], dtype=np.int64)) if d + 1 < len(shape) else 1


def empty_md():
    """The 'no tensor' descriptor (a convolution without bias, a primitive without workspace)."""
    return api().empty_md(lib())


# ---------------------------------------------------------------- primitives


class Primitive:
    """A oneDNN primitive made from a primitive descriptor ``pd`` (whose ownership it takes).

    ``execute({ARG_*: ndarray, ...})`` points one reusable memory object per argument at each
    array's buffer (zero copy) and runs on the stream, waiting for the result. Arrays must
    already have the layout ``md(arg)`` describes; their size is checked."""

    def __init__(self, pd: int, name: str = ""):
        self._lib = lib()
        self.pd, self.name = pd, name
        h = ctypes.c_void_p()
        try:
            check(self._lib.dnnl_primitive_create(ctypes.byref(h), pd), "dnnl_primitive_create",
                  name)
        except OneDNNError:
            self._lib.dnnl_primitive_desc_destroy(pd)
            raise
        self.handle = h.value
        self._mems: dict = {}  # arg -> (memory handle, bytes needed)
        self._packs: dict = {}  # tuple of args -> ctypes array of dnnl_exec_arg_t
        self._mds: dict = {}

    def md(self, arg: int):
        """The memory descriptor the primitive expects for argument ``arg``."""
        if arg not in self._mds:
            self._mds[arg] = api().query_md(self._lib, self.pd, api().QUERY_EXEC_ARG_MD, arg)
        return self._mds[arg]

    @property
    def impl(self) -> str:
        """The implementation oneDNN chose (e.g. ``brgconv:avx512_core``)."""
        out = ctypes.c_char_p()
        check(self._lib.dnnl_primitive_desc_query(self.pd, api().QUERY_IMPL_INFO_STR, 0,
                                                  ctypes.byref(out)), "dnnl_primitive_desc_query")
        return out.value.decode()

    def _memory(self, arg: int):
        if arg not in self._mems:
            md = self.md(arg)
            h = ctypes.c_void_p()
            check(self._lib.dnnl_memory_create(ctypes.byref(h), md.ptr, engine(), None),
                  "dnnl_memory_create", f"{self.name} argument {arg}")
            self._mems[arg] = (h.value, md.nbytes)
        return self._mems[arg]

    def execute(self, args: dict) -> None:
        """Run with ``args`` (ARG_* -> ndarray in the expected layout) and wait."""
        key = tuple(args)
        with _LOCK:
            pack = self._packs.get(key)
            if pack is None:
                pack = (_ExecArg * len(key))(*[_ExecArg(a, self._memory(a)[0]) for a in key])
                self._packs[key] = pack
            set_handle = self._lib.dnnl_memory_set_data_handle
            for a, arr in args.items():
                mem, need = self._mems[a]
                if arr.nbytes < need:
                    raise OneDNNError(f"{self.name} execute", 2, "invalid_arguments",
                                      f"argument {a}: buffer of {arr.nbytes} bytes, layout "
                                      f"needs {need}")
                check(set_handle(mem, arr.ctypes.data), "dnnl_memory_set_data_handle")
            check(self._lib.dnnl_primitive_execute(self.handle, stream(), len(key), pack),
                  "dnnl_primitive_execute", self.name)
            check(self._lib.dnnl_stream_wait(stream()), "dnnl_stream_wait", self.name)

    def __del__(self):
        lib_ = getattr(self, "_lib", None)
        if lib_ is None or not hasattr(self, "handle"):
            return
        try:
            for mem, _ in self._mems.values():
                lib_.dnnl_memory_destroy(mem)
            lib_.dnnl_primitive_destroy(self.handle)
            lib_.dnnl_primitive_desc_destroy(self.pd)
        except Exception:  # interpreter shutdown: ctypes may already be torn down
            pass


def reorder(src_md, dst_md) -> Primitive:
    """A cached reorder primitive converting ``src_md``'s layout into ``dst_md``'s (ARG_FROM
    -> ARG_TO)."""
    key = ("reorder", src_md.key, dst_md.key)
    return cached(key, lambda: Primitive(api().reorder_pd(lib(), engine(), src_md, dst_md),
                                         "reorder"))


# ---------------------------------------------------------------- the primitive cache


class _Cache:
    """LRU map from a hashable key to a ``Primitive`` (or a tuple of them); counts creations
    so tests can check that a repeated call builds nothing."""

    def __init__(self, capacity: int = 1024):
        self.capacity, self.created, self.hits = capacity, 0, 0
        self._items: OrderedDict = OrderedDict()

    def get(self, key, build):
        with _LOCK:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return item
            item = build()
            self.created += 1
            self._items[key] = item
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
            return item


_CACHE = _Cache(int(os.environ.get("EMBER_ONEDNN_CACHE_CAPACITY", "1024")))


def cached(key: tuple, build):
    """The cached value for ``key``, made by ``build()`` on a miss. Keys are tuples
    ``(kind, shapes, dtype, layout, attributes...)`` of plain Python values."""
    return _CACHE.get(key, build)


def cache_stats() -> dict:
    """``{"entries", "created", "hits"}`` of the primitive cache."""
    return {"entries": len(_CACHE._items), "created": _CACHE.created, "hits": _CACHE.hits}


def clear_cache() -> None:
    """Drop every cached primitive (their native resources are freed)."""
    with _LOCK:
        _CACHE._items.clear()
