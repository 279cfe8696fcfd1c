"""CRC-32C, TFRecord framing and the event file writer, checked against TensorBoard's reader."""

import os
import re
import struct

import numpy as np
import pytest

from ember.summary import proto
from ember.summary.event_file import EventFileWriter, crc32c, frame_record, masked_crc32c

tb_stub = pytest.importorskip("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")
event_pb2 = pytest.importorskip("tensorboard.compat.proto.event_pb2")
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402


@pytest.mark.parametrize("data, expected", [
    (b"", 0x00000000),
    (b"123456789", 0xE3069283),  # the CRC catalogue's check value for CRC-32C
    (bytes(32), 0x8A9136AA),  # RFC 3720 (iSCSI) B.4 test vectors
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_vectors(data, expected):
    assert crc32c(data) == expected


def test_crc32c_all_lengths_match_tensorboard_and_continue():
    data = bytes((i * 37 + 11) % 256 for i in range(300))
    for n in list(range(0, 20)) + [63, 64, 65, 299]:
        assert crc32c(data[:n]) == tb_stub.crc32c(data[:n]), n
        assert masked_crc32c(data[:n]) == tb_stub.masked_crc32c(data[:n]), n
    assert crc32c(data[100:], crc32c(data[:100])) == crc32c(data)


@pytest.mark.parametrize("n", [2047, 2048, 2049, 4100, 65536, 70001])
def test_crc32c_vectorised_path_for_large_inputs(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    assert crc32c(data) == tb_stub.crc32c(data)
    # continuing from a previous CRC, across the small/large switch
    assert crc32c(data[5:], crc32c(data[:5])) == crc32c(data)
    assert crc32c(bytes(n)) == tb_stub.crc32c(bytes(n))


def test_frame_record_layout():
    record = frame_record(b"hello")
    length, length_crc = struct.unpack("<QI", record[:12])
    assert length == 5 and length_crc == masked_crc32c(struct.pack("<Q", 5))
    assert record[12:17] == b"hello"
    assert struct.unpack("<I", record[17:])[0] == masked_crc32c(b"hello")


def read_events(path):
    # the legacy loader yields events as written (the other migrates them to tensors)
    return list(event_file_loader.LegacyEventFileLoader(path).Load())


def test_writer_file_name_first_event_and_records(tmp_path):
    writer = EventFileWriter(str(tmp_path / "run"), filename_suffix=".v2")
    name = os.path.basename(writer.path)
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\.[^.]+.*\.\d+\.\d+\.v2", name), name
    assert f".{os.getpid()}." in name
    for step in range(3):
        writer.add_event(proto.event(1000.0 + step, step, summary=proto.summary(
            [proto.summary_value("x", simple_value=step * 0.5)])))
    writer.close()
    writer.close()  # idempotent
    events = read_events(writer.path)
    assert events[0].file_version == "brain.Event:2" and events[0].wall_time > 0
    assert [e.step for e in events[1:]] == [0, 1, 2]
    assert [e.summary.value[0].simple_value for e in events[1:]] == [0.0, 0.5, 1.0]
    assert [e.wall_time for e in events[1:]] == [1000.0, 1001.0, 1002.0]
    with pytest.raises(ValueError, match="closed"):
        writer.add_event(proto.event(1.0))


def test_records_reach_disk_at_max_queue_and_on_flush(tmp_path):
    writer = EventFileWriter(str(tmp_path), max_queue=3, flush_secs=1000)
    assert len(read_events(writer.path)) == 1  # the version event is flushed at once
    for _ in range(2):
        writer.add_event(proto.event(1.0, 1))
    assert len(read_events(writer.path)) == 1  # still buffered (below max_queue)
    writer.add_event(proto.event(1.0, 1))
    assert len(read_events(writer.path)) == 4
    writer.add_event(proto.event(1.0, 1))
    writer.flush()
    assert len(read_events(writer.path)) == 5
    writer.close()


def test_background_flush(tmp_path):
    import time

    writer = EventFileWriter(str(tmp_path), max_queue=100, flush_secs=0.05)
    writer.add_event(proto.event(1.0, 7))
    deadline = time.time() + 5
    while len(read_events(writer.path)) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert read_events(writer.path)[-1].step == 7
    writer.close()
    assert not writer._thread.is_alive()


def test_corrupted_record_is_detected_by_tensorboard(tmp_path):
    # our CRCs are what TensorBoard checks: flip a payload byte and its reader complains
    writer = EventFileWriter(str(tmp_path))
    writer.add_event(proto.event(5.0, 3, file_version="x" * 40))
    writer.close()
    raw = bytearray(open(writer.path, "rb").read())
    raw[-10] ^= 0xFF
    open(writer.path, "wb").write(bytes(raw))
    from tensorboard.compat.tensorflow_stub import errors
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import PyRecordReader_New

    reader = PyRecordReader_New(writer.path.encode(), 0)
    reader.GetNext()  # the intact version event
    with pytest.raises(errors.DataLossError):
        reader.GetNext()


def test_writer_dropped_without_close_is_collected_and_flushed(tmp_path):
    import gc

    writer = EventFileWriter(str(tmp_path), max_queue=100, flush_secs=0.02)
    writer.add_event(proto.event(1.0, 3))
    path, thread = writer.path, writer._thread
    del writer
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert [e.step for e in read_events(path)] == [0, 3]


def test_unclosed_writer_is_flushed_at_interpreter_exit(tmp_path):
    import subprocess
    import sys

    code = ("from ember.summary.event_file import EventFileWriter\n"
            "from ember.summary import proto\n"
            f"w = EventFileWriter({str(tmp_path)!r}, max_queue=100, flush_secs=1000)\n"
            "w.add_event(proto.event(1.0, 5))\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    (name,) = os.listdir(tmp_path)
    assert [e.step for e in read_events(str(tmp_path / name))] == [0, 5]
