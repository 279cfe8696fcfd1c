"""The safetensors file format, read and written without third-party code.

Layout (https://github.com/huggingface/safetensors, "Format"): an 8-byte little-endian
unsigned header length ``N``; ``N`` bytes of UTF-8 JSON mapping each tensor name to
``{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`` (offsets into the data
block, which follows the header) plus an optional ``"__metadata__"`` of string to string;
then the raw little-endian tensor bytes, C order.

Reading validates every field before touching data (a corrupt or hostile file raises
:class:`CheckpointError` naming the file and the fault) and copies each tensor into a fresh
array, so nothing keeps the file open or mapped. Writing is atomic (see :func:`atomic_write`).
"""

from __future__ import annotations

import json
import os
import struct
import sys
import uuid
from collections.abc import Mapping
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

import numpy as np

from ..errors import EmberError
from ..tensor import Tensor, _make

__all__ = ["CheckpointError", "save_safetensors", "load_safetensors", "read_safetensors",
           "write_safetensors", "atomic_write", "DTYPE_CODES"]


class CheckpointError(EmberError, ValueError):
    """A file that is not a valid safetensors file / ember checkpoint (truncated, corrupt)."""


# safetensors dtype code -> little-endian NumPy dtype; the codes ember has tensors for
DTYPE_CODES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in DTYPE_CODES.items()}
# valid in the format but with no ember dtype: named in the error rather than "unknown"
_FOREIGN_CODES = {"BF16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4",
                  "F6_E2M3", "F6_E3M2", "C64"}
# the official reader refuses headers above 100 MB; so do we (a length field of garbage
# would otherwise make us try to allocate it)
MAX_HEADER = 100_000_000


def _as_array(name: str, value: Any, where: str) -> np.ndarray:
    if isinstance(value, Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        raise TypeError(f"{where}: tensor {name!r} must be an ember.Tensor or numpy.ndarray, "
                        f"got {type(value).__name__}")
    if (arr.dtype.kind, arr.dtype.itemsize) not in _CODE_OF_KIND:
        raise TypeError(f"{where}: tensor {name!r} has dtype {arr.dtype}, which safetensors "
                        "files written by ember cannot hold (supported: bool, uint8, int8, "
                        "int16, int32, int64, float16, float32, float64)")
    return arr


def write_safetensors(f: BinaryIO, tensors: Mapping[str, Any],
                      metadata: Mapping[str, str] | None = None,
                      where: str = "save_safetensors") -> None:
    """Write ``tensors`` (name -> Tensor/ndarray) in safetensors layout to the open file ``f``."""
    if not isinstance(tensors, Mapping):
        raise TypeError(f"{where}: tensors must be a dict of name -> Tensor, got "
                        f"{type(tensors).__name__}")
    header: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError(f"{where}: metadata must be a dict of str -> str")
        header["__metadata__"] = dict(metadata)
    arrays = []
    offset = 0
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"{where}: tensor names must be str, got {type(name).__name__}")
        if name == "__metadata__":
            raise ValueError(f"{where}: '__metadata__' is reserved and cannot name a tensor")
        arr = _as_array(name, value, where)
        code = _CODE_OF_KIND[arr.dtype.kind, arr.dtype.itemsize]
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append((arr, DTYPE_CODES[code]))
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    # pad with spaces so the data block starts 8-byte aligned, as the official writer does
    raw += b" " * (-len(raw) % 8)
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for arr, le_dtype in arrays:
        if arr.size:
            data = np.ascontiguousarray(arr, dtype=le_dtype)
            f.write(memoryview(data).cast("B"))


def _fail(path: str, what: str) -> CheckpointError:
    return CheckpointError(f"{path}: not a valid safetensors file: {what}")


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in the header")
        out[key] = value
    return out


def _parse_header(path: str, raw: bytes, body_size: int) -> tuple[dict, dict[str, str]]:
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise _fail(path, f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _fail(path, f"the header is a JSON {type(header).__name__}, expected an object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _fail(path, "'__metadata__' must map strings to strings")
    spans = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise _fail(path, f"tensor {name!r} needs 'dtype', 'shape' and 'data_offsets'")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in DTYPE_CODES:
            if code in _FOREIGN_CODES:
                raise _fail(path, f"tensor {name!r} has dtype {code}, which ember has no "
                                  "tensor type for")
            raise _fail(path, f"tensor {name!r} has unknown dtype {code!r} (known: "
                              + ", ".join(DTYPE_CODES) + ")")
        if not isinstance(shape, list) or not all(
                type(s) is int and s >= 0 for s in shape):
            raise _fail(path, f"tensor {name!r} has a bad shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise _fail(path, f"tensor {name!r} has bad data_offsets {offsets!r}")
        if offsets[1] > body_size:
            raise _fail(path, f"tensor {name!r} has data_offsets {offsets} beyond the end of "
                              f"the data ({body_size} bytes; the file may be truncated)")
        expected = int(np.prod(shape, dtype=object)) * DTYPE_CODES[code].itemsize
        if offsets[1] - offsets[0] != expected:
            raise _fail(path, f"tensor {name!r} of dtype {code} and shape {shape} needs "
                              f"{expected} bytes, but data_offsets {offsets} span "
                              f"{offsets[1] - offsets[0]}")
        spans.append((offsets[0], offsets[1], name))
    # like the official reader: tensors must tile the data block without gaps or overlap
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            raise _fail(path, f"tensor {name!r} starts at byte {begin} of the data, expected "
                              f"{end} (overlapping or non-contiguous tensors)")
        end = stop
    if end != body_size:
        raise _fail(path, f"the tensors cover {end} bytes of data but the file holds "
                          f"{body_size} (trailing bytes)")
    return header, metadata


def read_safetensors(f: BinaryIO, path: str = "<file>") -> tuple[dict[str, np.ndarray],
                                                                 dict[str, str]]:
    """Read a whole safetensors file from the open binary file ``f``.

    Returns ``(arrays, metadata)``: name -> freshly allocated native-order ndarray, in the
    header's order; raises :class:`CheckpointError` (naming ``path``) on any inconsistency.
    """
    start = f.tell()
    size = f.seek(0, os.SEEK_END) - start
    f.seek(start)
    head = f.read(8)
    if len(head) < 8:
        raise _fail(path, f"the file is {size} bytes long, too short for the 8-byte header "
                          "length")
    (n,) = struct.unpack("<Q", head)
    if n > size - 8:
        raise _fail(path, f"the header length field says {n} bytes, but only {size - 8} "
                          "bytes follow it (truncated file, or not a safetensors file)")
    if n > MAX_HEADER:
        raise _fail(path, f"the header length {n} exceeds the {MAX_HEADER}-byte limit")
    header, metadata = _parse_header(path, f.read(n), size - 8 - n)
    data_start = start + 8 + n
    arrays: dict[str, np.ndarray] = {}
    native = sys.byteorder == "little"
    for name, info in header.items():
        dtype = DTYPE_CODES[info["dtype"]]
        arr = np.empty(info["shape"], dtype=dtype)
        if arr.nbytes:
            f.seek(data_start + info["data_offsets"][0])
            got = f.readinto(memoryview(arr).cast("B"))
            if got != arr.nbytes:
                raise _fail(path, f"tensor {name!r}: read {got} of {arr.nbytes} bytes "
                                  "(file changed or truncated while reading)")
        if not native and arr.dtype.itemsize > 1:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arrays[name] = arr
    return arrays, metadata


@contextmanager
def atomic_write(path: str | os.PathLike):
    """Open a temporary file beside ``path`` for binary writing; on success flush, fsync and
    rename it over ``path`` (so readers see the old file or the new one, never half of one);
    on an exception delete it and leave ``path`` untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: parent directory {directory} does not "
                                "exist")
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    # os.open with mode 0o666 lets the umask decide permissions, as open(path, 'wb') would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    # makes the rename itself durable on POSIX; Windows has no directory handles to sync
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_file_like(f: Any) -> bool:
    """True for an open binary file object (something with ``read`` or ``write``)."""
    return hasattr(f, "write") or hasattr(f, "read")


def save_safetensors(tensors: Mapping[str, Any], path: str | os.PathLike | IO[bytes],
                     metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (name -> Tensor or ndarray) to a safetensors file, atomically.

    ``metadata`` is an optional dict of str -> str stored as ``"__metadata__"``. ``path`` may
    also be a binary file object (written in place, not atomically). Readable by the official
    ``safetensors`` package (``safetensors.numpy.load_file``).
    """
    if is_file_like(path):
        write_safetensors(path, tensors, metadata)
        return
    with atomic_write(path) as f:
        write_safetensors(f, tensors, metadata)


def load_safetensors(path: str | os.PathLike | IO[bytes], *,
                     with_metadata: bool = False):
    """Read a safetensors file into a dict of name -> ember Tensor (copies; file closed).

    With ``with_metadata=True`` returns ``(tensors, metadata)``. Raises
    :class:`CheckpointError` for a truncated or corrupt file, ``FileNotFoundError`` if absent.
    """
    if is_file_like(path):
        arrays, metadata = read_safetensors(path, getattr(path, "name", "<file object>"))
    else:
        name = os.fspath(path)
        with open(name, "rb") as f:
            arrays, metadata = read_safetensors(f, name)
    tensors = {k: _make(v) for k, v in arrays.items()}
    return (tensors, metadata) if with_metadata else tensors
