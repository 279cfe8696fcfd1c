"""TensorBoard event files: TFRecord framing with masked CRC-32C, and the file writer.

An event file is a sequence of records, each::

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes) |
    data (a serialized Event)     | uint32 masked_crc32c(data)

CRC-32C is the Castagnoli polynomial (reflected 0x82F63B78), not zlib's CRC-32, so it is
computed here; "masking" rotates it right by 15 bits and adds 0xA282EAD8, which TensorFlow
does so that a CRC stored inside CRC'd data does not checksum to a fixed pattern.
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import struct
import threading
import time
import weakref

import numpy as np

from . import proto

__all__ = ["crc32c", "masked_crc32c", "frame_record", "EventFileWriter"]


def _make_tables() -> list[list[int]]:
    base = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        base.append(crc)
    # slicing-by-8: tables[k][b] is the CRC of byte b followed by k zero bytes, so eight
    # input bytes fold into the CRC with eight lookups per loop iteration instead of one
    tables = [base]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(c >> 8) ^ base[c & 0xFF] for c in prev])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _make_tables()


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC-32C (Castagnoli) of ``data``; pass a previous result as ``crc`` to continue."""
    if len(data) >= _VECTOR_MIN:
        return _crc32c_numpy(data, crc)
    crc ^= 0xFFFFFFFF
    n8 = len(data) // 8
    if n8:
        for word in struct.unpack_from(f"<{n8}Q", data):
            lo = (word & 0xFFFFFFFF) ^ crc
            hi = word >> 32
            crc = (_T7[lo & 0xFF] ^ _T6[(lo >> 8) & 0xFF] ^ _T5[(lo >> 16) & 0xFF]
                   ^ _T4[lo >> 24] ^ _T3[hi & 0xFF] ^ _T2[(hi >> 8) & 0xFF]
                   ^ _T1[(hi >> 16) & 0xFF] ^ _T0[hi >> 24])
    for byte in data[n8 * 8:]:
        crc = (crc >> 8) ^ _T0[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


# Large inputs (image records) go through NumPy. A CRC without its initial and final XOR is
# linear over GF(2): crc(A + B) = shift(crc(A), len(B)) ^ crc(B), where shift(s, n) runs n zero
# bytes through state s -- itself linear in s, so a table of 4 x 256 entries applies it. The
# data is cut into 8-byte words (each word's CRC by the slicing-by-8 tables, vectorised), and
# neighbours are merged pairwise, doubling the shift each level: log2(words) NumPy steps.
_VECTOR_MIN = 2048
_WORD_TABLES = np.array([_T7, _T6, _T5, _T4, _T3, _T2, _T1, _T0], dtype=np.uint32)
_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)  # bit j of byte b
_shift_levels: list[np.ndarray] = []  # level k shifts by 8 * 2**k zero bytes
_shift_lock = threading.Lock()


def _tables_from_basis(basis: np.ndarray) -> np.ndarray:
    """4 x 256 tables of a linear map given the images of the 32 unit vectors."""
    parts = basis.reshape(4, 1, 8)
    return np.bitwise_xor.reduce(np.where(_BITS[None], parts, np.uint32(0)), axis=2)


def _apply_shift(tables: np.ndarray, state: np.ndarray) -> np.ndarray:
    return (tables[0][state & 0xFF] ^ tables[1][(state >> 8) & 0xFF]
            ^ tables[2][(state >> 16) & 0xFF] ^ tables[3][state >> 24])


def _shift_tables(level: int) -> np.ndarray:
    if level < len(_shift_levels):
        return _shift_levels[level]
    with _shift_lock:  # two threads extending the list at once would misnumber the levels
        return _extend_shift_tables(level)


def _extend_shift_tables(level: int) -> np.ndarray:
    while len(_shift_levels) <= level:
        if not _shift_levels:
            basis = []
            for i in range(32):
                state = 1 << i
                for _ in range(8):
                    state = (state >> 8) ^ _T0[state & 0xFF]
                basis.append(state)
            basis = np.array(basis, dtype=np.uint32)
        else:
            prev = _shift_levels[-1]
            basis = _apply_shift(prev, _apply_shift(prev, np.uint32(1) << np.arange(
                32, dtype=np.uint32)))
        _shift_levels.append(_tables_from_basis(basis))
    return _shift_levels[level]


def _crc32c_numpy(data: bytes, crc: int) -> int:
    raw = np.frombuffer(data, dtype=np.uint8)
    words = 1 << max(0, (len(raw) + 7) // 8 - 1).bit_length()
    # zero bytes in front leave a CRC without initial value unchanged: pad to 2**k words
    buf = np.zeros(words * 8, dtype=np.uint8)
    buf[-len(raw):] = raw
    # the initial value (~crc) is the same as XOR-ing it into the first four data bytes
    start = len(buf) - len(raw)
    buf[start:start + 4] ^= np.frombuffer(struct.pack("<I", crc ^ 0xFFFFFFFF), np.uint8)
    cols = buf.reshape(-1, 8)
    state = _WORD_TABLES[0][cols[:, 0]]
    for j in range(1, 8):
        state ^= _WORD_TABLES[j][cols[:, j]]
    level = 0
    while len(state) > 1:
        state = _apply_shift(_shift_tables(level), state[0::2]) ^ state[1::2]
        level += 1
    return int(state[0]) ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """``data`` framed as one TFRecord (length, its CRC, data, data's CRC)."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


def _flush_periodically(ref: weakref.ref, stop: threading.Event, flush_secs: float) -> None:
    while not stop.wait(flush_secs):
        writer = ref()
        if writer is None:
            return
        writer.flush()
        del writer


_open_writers: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    # daemon threads die silently at exit: write what is buffered in writers never closed
    for writer in list(_open_writers):
        writer.flush()


_uid = itertools.count()  # distinguishes event files a process opens in the same second
_uid_lock = threading.Lock()


class EventFileWriter:
    """Appends Event records to a new ``events.out.tfevents.*`` file in ``log_dir``.

    Records are buffered and reach the disk when ``max_queue`` are pending, every
    ``flush_secs`` seconds (a daemon thread), on :meth:`flush` and on :meth:`close`.
    """

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        with _uid_lock:
            uid = next(_uid)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{uid}{filename_suffix}")
        self.path = os.path.join(self.log_dir, name)
        self._file = open(self.path, "wb")
        self._lock = threading.Lock()
        self._pending = 0
        self._max_queue = max(1, int(max_queue))
        self._closed = False
        self.add_event(proto.event(time.time(), file_version="brain.Event:2"))
        self.flush()  # TensorBoard finds the run as soon as the writer exists
        self._stop = threading.Event()
        # the thread holds only a weak reference: a writer dropped without close() is still
        # garbage collected (its file closes and flushes), and the thread then ends
        self._thread = threading.Thread(target=_flush_periodically,
                                        args=(weakref.ref(self), self._stop, flush_secs),
                                        name="ember-summary-flush", daemon=True)
        self._thread.start()
        _open_writers.add(self)

    @property
    def closed(self) -> bool:
        return self._closed

    def add_event(self, event: bytes) -> None:
        """Queue one serialized ``Event``."""
        record = frame_record(event)
        with self._lock:
            if self._closed:
                raise ValueError(f"EventFileWriter: {self.path} is closed")
            self._file.write(record)
            self._pending += 1
            if self._pending >= self._max_queue:
                self._file.flush()
                self._pending = 0

    def flush(self) -> None:
        """Write pending records to disk."""
        with self._lock:
            if not self._closed:
                self._file.flush()
                self._pending = 0

    def close(self) -> None:
        """Flush, close the file and stop the flushing thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._file.flush()
            self._file.close()
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
