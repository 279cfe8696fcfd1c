"""A minimal protocol-buffer encoder for the TensorBoard messages ember writes.

Only encoding is needed, and only for a handful of messages (tensorboard's ``event.proto``,
``summary.proto``, ``tensor.proto`` and the hparams plugin's ``api.proto`` /
``plugin_data.proto``), so instead of depending on ``protobuf`` each message is a function
returning its wire-format bytes. Field numbers are written next to each message's function.

Wire format in brief: every field is ``key = field_number << 3 | wire_type`` as a varint,
then the value — varint (type 0: ints, bools, enums), 64-bit little-endian (type 1: double),
length-delimited (type 2: strings, bytes, sub-messages, packed repeated numbers) or 32-bit
(type 5: float). Proto3 omits scalar fields equal to their default, except inside a
``oneof``, where the presence of the field is the information (``simple_value=0.0`` must be
written, or TensorBoard sees a value with no data).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import numpy as np

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    """``n`` as a base-128 varint; negative numbers as 64-bit two's complement (10 bytes)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def uint(field: int, value: int | None, keep_default: bool = False) -> bytes:
    """An int32/int64/uint/bool/enum field (varint)."""
    if value is None or (not value and not keep_default):
        return b""
    return _key(field, _VARINT) + varint(int(value))


def double(field: int, value: float | None, keep_default: bool = False) -> bytes:
    """A ``double`` field."""
    if value is None or (value == 0.0 and not keep_default):
        return b""
    return _key(field, _FIXED64) + struct.pack("<d", value)


def float32(field: int, value: float | None, keep_default: bool = False) -> bytes:
    """A ``float`` field."""
    if value is None or (value == 0.0 and not keep_default):
        return b""
    return _key(field, _FIXED32) + struct.pack("<f", value)


def raw(field: int, value: bytes | None, keep_default: bool = False) -> bytes:
    """A length-delimited field: ``bytes`` or an already encoded sub-message."""
    if value is None or (not value and not keep_default):
        return b""
    return _key(field, _LENGTH) + varint(len(value)) + value


def string(field: int, value: str | None, keep_default: bool = False) -> bytes:
    """A ``string`` field (UTF-8)."""
    return raw(field, None if value is None else value.encode("utf-8"), keep_default)


def packed_doubles(field: int, values: Iterable[float]) -> bytes:
    """A ``repeated double`` field in packed encoding (one length-delimited run)."""
    data = np.ascontiguousarray(np.asarray(values, dtype="<f8")).tobytes()
    return raw(field, data)


# ------------------------------------------------------------------ tensorboard messages
def event(wall_time: float, step: int = 0, *, file_version: str | None = None,
          graph_def: bytes | None = None, summary: bytes | None = None,
          session_log: bytes | None = None) -> bytes:
    """``Event``: wall_time=1 (double), step=2 (int64); oneof file_version=3,
    graph_def=4, summary=5, session_log=7."""
    return (double(1, wall_time) + uint(2, step) + string(3, file_version, True)
            + raw(4, graph_def, True) + raw(5, summary, True) + raw(7, session_log, True))


def session_log(status: int, msg: str = "") -> bytes:
    """``SessionLog``: status=1 (START=1, STOP=2, CHECKPOINT=3), msg=3."""
    return uint(1, status) + string(3, msg)


def summary(values: Iterable[bytes]) -> bytes:
    """``Summary``: repeated Value value=1."""
    return b"".join(raw(1, v, True) for v in values)


def summary_value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
                  histo: bytes | None = None, tensor: bytes | None = None,
                  metadata: bytes | None = None) -> bytes:
    """``Summary.Value``: tag=1, metadata=9; oneof simple_value=2 (float), image=4,
    histo=5, tensor=8."""
    return (string(1, tag) + float32(2, simple_value, True) + raw(4, image, True)
            + raw(5, histo, True) + raw(8, tensor, True) + raw(9, metadata))


def summary_metadata(plugin_name: str, content: bytes = b"") -> bytes:
    """``SummaryMetadata`` with ``plugin_data`` (=1) ``{plugin_name=1, content=2}``."""
    return raw(1, string(1, plugin_name) + raw(2, content), True)


def image(height: int, width: int, colorspace: int, encoded: bytes) -> bytes:
    """``Summary.Image``: height=1, width=2, colorspace=3 (channels), encoded_image_string=4."""
    return uint(1, height) + uint(2, width) + uint(3, colorspace) + raw(4, encoded)


def histogram(min: float, max: float, num: float, sum: float, sum_squares: float,
              bucket_limit: Iterable[float], bucket: Iterable[float]) -> bytes:
    """``HistogramProto``: min=1, max=2, num=3, sum=4, sum_squares=5 (doubles);
    bucket_limit=6 and bucket=7 (packed repeated doubles)."""
    return (double(1, min) + double(2, max) + double(3, num) + double(4, sum)
            + double(5, sum_squares) + packed_doubles(6, bucket_limit)
            + packed_doubles(7, bucket))


DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def tensor_shape(shape: Iterable[int]) -> bytes:
    """``TensorShapeProto``: repeated Dim dim=2, each ``{size=1}``."""
    return b"".join(raw(2, uint(1, s), True) for s in shape)


def tensor_strings(strings: Iterable[bytes], shape: Iterable[int]) -> bytes:
    """A ``TensorProto`` of dtype DT_STRING: dtype=1, tensor_shape=2, string_val=8."""
    return (uint(1, DT_STRING) + raw(2, tensor_shape(shape), True)
            + b"".join(raw(8, s, True) for s in strings))


def tensor_scalar(value: float, double_precision: bool = False) -> bytes:
    """A 0-d float ``TensorProto``: float_val=5 (packed float) or double_val=6; no
    tensor_shape, which means a scalar."""
    if double_precision:
        return uint(1, DT_DOUBLE) + raw(6, struct.pack("<d", value))
    return uint(1, DT_FLOAT) + raw(5, struct.pack("<f", value))


# ------------------------------------------------------------------ google.protobuf.Value
def struct_value(value: object) -> bytes:
    """``google.protobuf.Value``: number_value=2, string_value=3, bool_value=4,
    list_value=6 (``ListValue``: repeated Value values=1)."""
    if isinstance(value, bool):
        return uint(4, value, True)
    if isinstance(value, (int, float)):
        return double(2, float(value), True)
    if isinstance(value, str):
        return string(3, value, True)
    if isinstance(value, (list, tuple)):
        return raw(6, list_value(value), True)
    raise TypeError(f"cannot encode {type(value).__name__} as a google.protobuf.Value")


def list_value(values: Iterable[object]) -> bytes:
    """``google.protobuf.ListValue``: repeated Value values=1."""
    return b"".join(raw(1, struct_value(v), True) for v in values)


def map_entry(key: str, value: bytes) -> bytes:
    """One entry of a ``map<string, Message>`` field: key=1, value=2."""
    return string(1, key, True) + raw(2, value, True)


def string_value_map(field: int, mapping: Mapping[str, object]) -> bytes:
    """A ``map<string, google.protobuf.Value>`` field."""
    return b"".join(raw(field, map_entry(k, struct_value(v)), True) for k, v in mapping.items())
