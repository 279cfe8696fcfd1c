"""ember.io.save / load: nested structures, optimizer and RNG state, atomicity, bad files."""

import json
import math
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.io.checkpoint as checkpoint
import ember.io.safetensors as st
from ember import nn
from ember.io import CheckpointError, load, save


def test_flat_state_dict_keeps_its_names_for_other_tools(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    path = tmp_path / "m.safetensors"
    save(model.state_dict(), path)
    official = pytest.importorskip("safetensors.numpy").load_file(str(path))
    assert sorted(official) == sorted(model.state_dict())
    back = load(path)
    assert isinstance(back, OrderedDict) and list(back) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(back)
    np.testing.assert_array_equal(fresh[0].weight.detach().numpy(),
                                  model[0].weight.detach().numpy())


def test_nested_structure_round_trips_exactly(tmp_path):
    shared = ember.randn(2, 2)
    obj = {
        "model": {"w": ember.randn(3, 2), "b": ember.zeros(2, dtype=ember.float64)},
        "epoch": 3, "best": 0.25, "name": "run-1", "done": False, "none": None,
        "tuple": (1, (2.5, "x")), "list": [1, [2, {"k": ember.tensor([True, False])}]],
        "int_keys": {0: "a", 7: {"nested": 1}, -1: None}, "mixed_keys": {1: "a", "1": "b"},
        "specials": [math.inf, -math.inf], "big": 2 ** 127 + 1, "neg_big": -(2 ** 70),
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "np_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True)],
        "ndarray": np.arange(6, dtype=np.int16).reshape(2, 3),
        "dtype": ember.float16, "shared": [shared, shared],
        "empty": ember.zeros(0, 3), "scalar": ember.tensor(7),
        "tag_like": {"__ember__": "tensor", "key": "nope"},  # user data that looks like a tag
        "a/b": ember.ones(1), "a": {"b": ember.zeros(1)},  # colliding tensor paths
    }
    path = tmp_path / "ckpt.safetensors"
    save(obj, path)
    out = load(path)
    assert out.keys() == obj.keys()
    np.testing.assert_array_equal(out["model"]["w"].numpy(), obj["model"]["w"].numpy())
    assert out["model"]["b"].dtype == ember.float64
    for key in ("epoch", "best", "name", "done", "none", "tuple", "int_keys", "mixed_keys",
                "specials", "big", "neg_big", "tag_like"):
        assert out[key] == obj[key] and type(out[key]) is type(obj[key]), key
    assert type(out["tuple"][1]) is tuple
    assert out["list"][1][1]["k"].tolist() == [True, False]
    assert isinstance(out["ordered"], OrderedDict) and list(out["ordered"]) == ["z", "a"]
    assert [type(v) for v in out["np_scalars"]] == [np.float32, np.int64, np.bool_]
    assert out["np_scalars"] == obj["np_scalars"]
    assert isinstance(out["ndarray"], np.ndarray) and out["ndarray"].dtype == np.int16
    np.testing.assert_array_equal(out["ndarray"], obj["ndarray"])
    assert out["dtype"] is ember.float16
    assert out["shared"][0] is out["shared"][1]  # shared storage stays shared, stored once
    assert out["empty"].shape == (0, 3) and out["scalar"].shape == ()
    assert out["a/b"].tolist() == [1.0] and out["a"]["b"].tolist() == [0.0]
    # nan needs its own check (nan != nan)
    save({"x": math.nan}, path)
    assert math.isnan(load(path)["x"])


def test_metadata_is_one_json_string_and_tensors_use_path_keys(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"model": {"fc.weight": ember.ones(2)}, "opt": {"state": {0: {"m": ember.ones(2)}}}},
         path)
    _, meta = st.load_safetensors(path, with_metadata=True)
    doc = json.loads(meta["ember"])
    assert doc["format"] == "ember.checkpoint" and doc["version"] == 1
    assert sorted(st.load_safetensors(path)) == ["model/fc.weight", "opt/state/0/m"]


def test_rng_state_round_trips_and_reproduces_draws(tmp_path):
    ember.manual_seed(123)
    ember.randn(5)
    state = ember.get_rng_state()
    path = tmp_path / "rng.safetensors"
    save({"rng": state}, path)
    expected = ember.randn(4).tolist()
    ember.manual_seed(999)
    loaded = load(path)["rng"]
    assert loaded == state
    ember.set_rng_state(loaded)
    assert ember.randn(4).tolist() == expected
    # the 128-bit PCG64 words are strings in the JSON, so readers with 53-bit numbers keep them
    assert str(state["bit_generator"]["state"]["state"]) in st.load_safetensors(
        path, with_metadata=True)[1]["ember"]


def test_requires_grad_is_kept(tmp_path):
    path = tmp_path / "g.safetensors"
    save({"p": ember.ones(2, requires_grad=True), "q": ember.ones(2)}, path)
    out = load(path)
    assert out["p"].requires_grad and not out["q"].requires_grad and out["p"].is_leaf


def test_unsupported_objects_are_refused_without_writing(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="save its state_dict"):
        save(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match=r"the value at 'a/1' of type builtins.set"):
        save({"a": [1, {2}]}, path)
    with pytest.raises(TypeError, match="dict keys must be"):
        save({ember.ones(1): 1}, path)
    with pytest.raises(TypeError, match="f must be a path"):
        save({}, 3)
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="map_location"):
        load(path, map_location="cuda:0")


def test_file_objects_round_trip():
    import io

    buf = io.BytesIO()
    save({"a": ember.arange(3), "n": 1}, buf)
    buf.seek(0)
    out = load(buf)
    assert out["a"].tolist() == [0, 1, 2] and out["n"] == 1


# ------------------------------------------------------------------ atomic writes
def test_crash_mid_write_leaves_previous_checkpoint_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"step": 1, "w": ember.ones(4)}, path)
    before = path.read_bytes()

    def crash(f, tensors, metadata=None, where=""):
        f.write(b"partial garbage")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(checkpoint, "write_safetensors", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2, "w": ember.zeros(4)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    assert load(path)["step"] == 1


def test_crash_at_rename_leaves_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"step": 1}, path)

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(st.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save({"step": 2}, path)
    monkeypatch.undo()
    assert load(path)["step"] == 1 and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_write_is_fsynced_before_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(st.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(st.os, "replace", lambda a, b: (calls.append("replace"),
                                                         real_replace(a, b)))
    save({"a": ember.ones(1)}, tmp_path / "c.safetensors")
    assert calls[:2] == ["fsync", "replace"]


# ------------------------------------------------------------------ hostile / corrupt files
def test_pickle_attack_file_is_not_a_checkpoint(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"model": Evil()}))
    with pytest.raises(CheckpointError, match="evil.pt"):
        load(path)
    assert not marker.exists()


def test_torch_zip_checkpoint_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load(path)


def _with_metadata(path, text):
    st.save_safetensors({"w": ember.ones(1)}, path, metadata={"ember": text})
    return path


@pytest.mark.parametrize("text, message", [
    ("{oops", "metadata is not valid JSON"),
    ('{"format": "other", "object": 1}', "lacks the 'ember.checkpoint' format marker"),
    ('{"format": "ember.checkpoint", "version": 99, "object": 1}', "newer than this ember"),
    ('{"format": "ember.checkpoint", "version": 1, "object": {"__ember__": "pickle"}}',
     "unknown entry kind 'pickle'"),
    ('{"format": "ember.checkpoint", "version": 1, '
     '"object": {"__ember__": "tensor", "key": "missing"}}', "which the file lacks"),
    ('{"format": "ember.checkpoint", "version": 1, "object": {"__ember__": "tuple"}}',
     "malformed 'tuple' entry"),
    ('{"format": "ember.checkpoint", "version": 1, '
     '"object": {"__ember__": "numpy_scalar", "dtype": "O", "value": 1}}',
     "malformed 'numpy_scalar'"),
    ('{"format": "ember.checkpoint", "version": 1, '
     '"object": {"__ember__": "float", "value": "1e400"}}', "malformed 'float'"),
])
def test_corrupt_ember_metadata(tmp_path, text, message):
    path = _with_metadata(tmp_path / "c.safetensors", text)
    with pytest.raises(CheckpointError, match=message) as info:
        load(path)
    assert str(path) in str(info.value)


def test_truncated_checkpoint_names_file(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"model": {"w": ember.randn(8, 8)}, "epoch": 1}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:-5])
    with pytest.raises(CheckpointError, match="c.safetensors.*(truncated|beyond)"):
        load(path)
    (n,) = struct.unpack("<Q", raw[:8])
    path.write_bytes(raw[:8 + n // 2])
    with pytest.raises(CheckpointError, match="header length field says"):
        load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "ckpt.safetensors")
    with pytest.raises(FileNotFoundError, match="parent directory .*nodir does not exist"):
        save({"a": 1}, tmp_path / "nodir" / "ckpt.safetensors")


def test_load_state_dict_reports_every_mismatch(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"model": nn.Linear(3, 4).state_dict()}, path)
    with pytest.raises(ember.ShapeError) as info:
        nn.Linear(3, 5).load_state_dict(load(path)["model"])
    assert "weight" in str(info.value) and "bias" in str(info.value)
