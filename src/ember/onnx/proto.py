"""A minimal protocol-buffer encoder for the ONNX messages ember writes.

Exporting needs only to *write* a handful of ONNX messages (``onnx.proto``: ModelProto,
GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto and the type messages), so
each is a function returning its wire-format bytes, built on the varint/field helpers of
:mod:`ember.summary.proto` — no dependency on ``protobuf`` or ``onnx``. Field numbers are
written next to each function.

ONNX's schema is proto2, so presence matters less than in proto3, but an attribute such as
``axis=0`` is still written explicitly (``keep_default=True``) so the file says what it means.
Repeated integers are written unpacked (one key per element), which every parser accepts.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import DTypeError
from ..summary.proto import float32, raw, string, uint

__all__ = ["tensor", "attribute", "node", "value_info", "graph", "model", "onnx_dtype",
           "IR_VERSION"]

# IR version 8 goes with opset 17 (onnx 1.12); onnxruntime reads every version up to its own.
IR_VERSION = 8

# TensorProto.DataType
_DTYPES = {
    np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
    np.dtype(np.uint16): 4, np.dtype(np.int16): 5, np.dtype(np.int32): 6,
    np.dtype(np.int64): 7, np.dtype(np.bool_): 9, np.dtype(np.float16): 10,
    np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13,
}

# AttributeProto.AttributeType
_FLOAT, _INT, _STRING, _TENSOR, _FLOATS, _INTS, _STRINGS = 1, 2, 3, 4, 6, 7, 8


def onnx_dtype(dtype) -> int:
    """The ``TensorProto.DataType`` number of a NumPy dtype; DTypeError if ONNX lacks it."""
    dt = np.dtype(dtype)
    try:
        return _DTYPES[dt]
    except KeyError:
        raise DTypeError(f"onnx export: dtype {dt.name} has no ONNX equivalent") from None


def _repeated_ints(field: int, values: Iterable[int]) -> bytes:
    return b"".join(uint(field, int(v), True) for v in values)


def tensor(name: str, array: np.ndarray) -> bytes:
    """``TensorProto``: dims=1 (int64), data_type=2, name=8, raw_data=9 (little-endian)."""
    a = np.asarray(array)
    code = onnx_dtype(a.dtype)
    data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
    return _repeated_ints(1, a.shape) + uint(2, code, True) + string(8, name) + raw(9, data)


def attribute(name: str, value) -> bytes:
    """``AttributeProto``: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, strings=9, type=20.

    The ONNX type follows the Python value: bool/int -> INT, float -> FLOAT, str -> STRING,
    ndarray -> TENSOR, a list/tuple of ints -> INTS, of strs -> STRINGS, else FLOATS.
    """
    out = string(1, name, True)
    if isinstance(value, (bool, int, np.integer)):
        return out + uint(3, int(value), True) + uint(20, _INT, True)
    if isinstance(value, (float, np.floating)):
        return out + float32(2, float(value), True) + uint(20, _FLOAT, True)
    if isinstance(value, str):
        return out + string(4, value, True) + uint(20, _STRING, True)
    if isinstance(value, np.ndarray):
        return out + raw(5, tensor("", value), True) + uint(20, _TENSOR, True)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (bool, int, np.integer)) for v in value):
            return out + _repeated_ints(8, value) + uint(20, _INTS, True)
        if all(isinstance(v, str) for v in value):
            return (out + b"".join(string(9, v, True) for v in value)
                    + uint(20, _STRINGS, True))
        return (out + b"".join(float32(7, float(v), True) for v in value)
                + uint(20, _FLOATS, True))
    raise TypeError(f"onnx attribute {name!r}: cannot encode {type(value).__name__}")


def node(op_type: str, inputs: Iterable[str], outputs: Iterable[str], name: str = "",
         attrs: dict | None = None, domain: str = "") -> bytes:
    """``NodeProto``: input=1, output=2, name=3, op_type=4, attribute=5, domain=7.

    An empty input name is ONNX's "optional input left out" and is kept as an empty string.
    """
    out = b"".join(string(1, i, True) for i in inputs)
    out += b"".join(string(2, o, True) for o in outputs)
    out += string(3, name) + string(4, op_type, True)
    for key, value in (attrs or {}).items():
        out += raw(5, attribute(key, value), True)
    return out + string(7, domain)


def _dim(size) -> bytes:
    # TensorShapeProto.Dimension: dim_value=1 (int64) or dim_param=2 (a symbolic name)
    if isinstance(size, str):
        return string(2, size, True)
    return uint(1, int(size), True)


def value_info(name: str, dtype, shape: Iterable) -> bytes:
    """``ValueInfoProto``: name=1, type=2 -> ``TypeProto`` tensor_type=1 -> elem_type=1,
    shape=2 -> ``TensorShapeProto`` dim=1 (each size an int, or a str for a symbolic size)."""
    shape_msg = b"".join(raw(1, _dim(s), True) for s in shape)
    tensor_type = uint(1, onnx_dtype(dtype), True) + raw(2, shape_msg, True)
    return string(1, name, True) + raw(2, raw(1, tensor_type, True), True)


def graph(name: str, nodes: Iterable[bytes], inputs: Iterable[bytes], outputs: Iterable[bytes],
          initializers: Iterable[bytes] = ()) -> bytes:
    """``GraphProto``: node=1, name=2, initializer=5, input=11, output=12."""
    return (b"".join(raw(1, n, True) for n in nodes) + string(2, name, True)
            + b"".join(raw(5, t, True) for t in initializers)
            + b"".join(raw(11, v, True) for v in inputs)
            + b"".join(raw(12, v, True) for v in outputs))


def model(graph_bytes: bytes, opset: int, *, producer: str = "ember",
          producer_version: str = "", doc: str = "") -> bytes:
    """``ModelProto``: ir_version=1, producer_name=2, producer_version=3, doc_string=6,
    graph=7, opset_import=8 (``OperatorSetIdProto``: domain=1 ("" = ai.onnx), version=2)."""
    opset_msg = string(1, "") + uint(2, opset, True)
    return (uint(1, IR_VERSION, True) + string(2, producer) + string(3, producer_version)
            + string(6, doc) + raw(7, graph_bytes, True) + raw(8, opset_msg, True))

