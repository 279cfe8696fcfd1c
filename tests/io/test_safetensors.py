"""The safetensors reader/writer: every dtype, interop with the official package, bad files."""

import json
import struct

import numpy as np
import pytest

import ember
from ember.io import CheckpointError, load_safetensors, save_safetensors

safetensors_numpy = pytest.importorskip("safetensors.numpy")

ALL_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
              np.float32, np.float64]


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype is np.bool_:
        return np.asarray(rng.random(shape) > 0.5)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_round_trip_every_dtype_and_shape(tmp_path, dtype, shape):
    arr = sample(dtype, shape)
    path = tmp_path / "t.safetensors"
    save_safetensors({"x": ember.from_numpy(arr)}, path)
    out = load_safetensors(path)["x"]
    assert isinstance(out, ember.Tensor)
    assert out.shape == shape and out.numpy().dtype == arr.dtype
    np.testing.assert_array_equal(out.numpy(), arr)


def test_ember_file_read_by_official_package(tmp_path):
    tensors = {f"t{i}": sample(d, (2, 3), i) for i, d in enumerate(ALL_DTYPES)}
    tensors["empty"] = np.zeros((0, 4), np.float32)
    tensors["scalar"] = np.array(3.5)
    path = tmp_path / "e.safetensors"
    # non-contiguous input must be written in C order
    tensors["strided"] = np.arange(12, dtype=np.int32).reshape(3, 4).T
    save_safetensors({k: ember.from_numpy(v) for k, v in tensors.items()}, path,
                     metadata={"format": "np", "note": "é"})
    loaded = safetensors_numpy.load_file(str(path))
    assert loaded.keys() == tensors.keys()
    for k, v in tensors.items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape
        np.testing.assert_array_equal(loaded[k], v)
    from safetensors import safe_open
    with safe_open(str(path), "np") as f:
        assert f.metadata() == {"format": "np", "note": "é"}


def test_official_file_read_by_ember(tmp_path):
    tensors = {f"t{i}": sample(d, (3, 2), 10 + i) for i, d in enumerate(ALL_DTYPES)}
    tensors["empty"] = np.zeros((2, 0), np.int64)
    path = tmp_path / "o.safetensors"
    safetensors_numpy.save_file(tensors, str(path), metadata={"k": "v"})
    out, meta = load_safetensors(path, with_metadata=True)
    assert meta == {"k": "v"}
    for k, v in tensors.items():
        np.testing.assert_array_equal(out[k].numpy(), v)
        assert out[k].numpy().dtype == v.dtype
    # and through ember.io.load: a foreign safetensors file is a flat dict of tensors
    flat = ember.io.load(path)
    assert sorted(flat) == sorted(tensors)


def test_header_is_8_byte_aligned_and_loaded_arrays_are_fresh(tmp_path):
    path = tmp_path / "a.safetensors"
    save_safetensors({"a": ember.ones(3)}, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    out = load_safetensors(path)["a"]
    assert out.numpy().flags.writeable and out.numpy().flags.owndata
    path.unlink()  # nothing keeps the file open or mapped
    out.numpy()[0] = 5
    assert out.tolist() == [5.0, 1.0, 1.0]


def test_file_objects(tmp_path):
    import io

    buf = io.BytesIO()
    save_safetensors({"a": ember.arange(4)}, buf)
    buf.seek(0)
    assert load_safetensors(buf)["a"].tolist() == [0, 1, 2, 3]


def test_bad_arguments(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="tensor 'a' must be an ember.Tensor"):
        save_safetensors({"a": [1, 2]}, path)
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        save_safetensors({"a": ember.ones(1)}, path, metadata={"k": 1})
    with pytest.raises(TypeError, match="tensor names must be str"):
        save_safetensors({1: ember.ones(1)}, path)
    with pytest.raises(ValueError, match="reserved"):
        save_safetensors({"__metadata__": ember.ones(1)}, path)
    with pytest.raises(TypeError, match="complex128"):
        save_safetensors({"c": np.ones(2, np.complex128)}, path)
    assert not path.exists()
    with pytest.raises(FileNotFoundError):
        load_safetensors(tmp_path / "missing.safetensors")


# ------------------------------------------------------------------ corrupt files
def write_raw(path, header, body=b"", length=None):
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(raw) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + raw + body)
    return path


def good_header():
    return {"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"\x01\x02"), "too short for the 8-byte header length"),
    (lambda p: write_raw(p, good_header(), b"\0" * 8, length=10**6),
     "header length field says 1000000 bytes"),
    (lambda p: write_raw(p, b"{not json", b""), "not valid JSON"),
    (lambda p: write_raw(p, b"[1, 2]", b""), "JSON list, expected an object"),
    (lambda p: write_raw(p, {"x": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 4]}},
                         b"\0" * 4), "unknown dtype 'Q7'"),
    (lambda p: write_raw(p, {"x": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}},
                         b"\0" * 2), "dtype BF16, which ember has no tensor type for"),
    (lambda p: write_raw(p, good_header(), b"\0" * 4), "beyond the end of the data"),
    (lambda p: write_raw(p, {"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                         b"\0" * 8), "needs 12 bytes"),
    (lambda p: write_raw(p, {"x": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
                         b"\0" * 4), "bad shape"),
    (lambda p: write_raw(p, {"x": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}},
                         b"\0" * 4), "bad data_offsets"),
    (lambda p: write_raw(p, {"x": {"dtype": "F32", "shape": [1]}}, b"\0" * 4),
     "needs 'dtype', 'shape' and 'data_offsets'"),
    (lambda p: write_raw(p, {"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                             "y": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
                         b"\0" * 4), "overlapping or non-contiguous"),
    (lambda p: write_raw(p, good_header(), b"\0" * 12), "trailing bytes"),
    (lambda p: write_raw(p, b'{"x": 1, "x": 2}', b""), "duplicate key"),
    (lambda p: write_raw(p, {"__metadata__": {"a": 1}}, b""), "must map strings to strings"),
])
def test_corrupt_files_raise_checkpoint_error_naming_file(tmp_path, make, message):
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(CheckpointError, match=message) as info:
        load_safetensors(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_real_file(tmp_path):
    path = tmp_path / "t.safetensors"
    save_safetensors({"w": ember.randn(16, 16), "b": ember.randn(16)}, path)
    raw = path.read_bytes()
    for cut in (3, 20, len(raw) - 1):
        path.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError, match=str(path).replace("\\", "\\\\")):
            load_safetensors(path)
