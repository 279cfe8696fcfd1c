"""CSVLogger, ModelCheckpoint and TensorBoard: file contents and saving rules."""

from __future__ import annotations

import csv
import os
import sys
import types

import numpy as np
import pytest

from ember import optim, train
from ember.train import callbacks_io

from .helpers import blobs, mlp

X, Y = blobs(16)


def _trainer():
    net = mlp()
    trainer = train.Trainer(net)
    trainer.compile(optim.SGD(net.parameters(), lr=0.1), "sparse_categorical_crossentropy")
    return trainer


def _script(key, values):
    def set_value(epoch, logs):
        logs[key] = values[epoch]
    return train.LambdaCallback(on_epoch_end=set_value)


def test_csv_logger_writes_header_and_rows_equal_to_history(tmp_path):
    path = tmp_path / "log.csv"
    trainer = _trainer()
    history = trainer.fit(X, Y, epochs=3, validation_split=0.25, verbose=0,
                          callbacks=[train.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[1]) for r in rows[1:]] == history.history["loss"]  # exact (repr)
    assert [float(r[2]) for r in rows[1:]] == history.history["val_loss"]


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    trainer = _trainer()
    trainer.fit(X, Y, epochs=2, verbose=0, callbacks=[train.CSVLogger(path, separator=";")])
    trainer.fit(X, Y, epochs=1, verbose=0,
                callbacks=[train.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;loss"
    assert len(lines) == 4 and [ln.split(";")[0] for ln in lines[1:]] == ["0", "1", "0"]
    trainer.fit(X, Y, epochs=1, verbose=0, callbacks=[train.CSVLogger(path)])  # overwrite
    assert len(path.read_text().splitlines()) == 2


def test_csv_logger_writes_na_for_a_skipped_validation(tmp_path):
    path = tmp_path / "log.csv"
    history = _trainer().fit(X, Y, epochs=3, verbose=0, validation_data=(X, Y),
                             validation_freq=2, callbacks=[train.CSVLogger(path)])
    rows = [r.split(",") for r in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[2] for r in rows[1:]] == ["NA", repr(history.history["val_loss"][0]), "NA"]


@pytest.fixture
def saved(monkeypatch):
    """Replace the checkpoint writer with a recorder (tests the callback's rules alone)."""
    calls = []
    monkeypatch.setattr(callbacks_io, "_checkpoint_saver",
                        lambda: (lambda obj, path: calls.append((path, obj))))
    return calls


def test_model_checkpoint_save_best_only_and_path_format(tmp_path, saved):
    pattern = str(tmp_path / "ck" / "e{epoch:02d}-{val_loss:.2f}.safetensors")
    ckpt = train.ModelCheckpoint(pattern, monitor="val_loss", save_best_only=True,
                                 save_weights_only=True)
    _trainer().fit(X, Y, epochs=4, verbose=0,
                   callbacks=[_script("val_loss", [1.0, 0.8, 0.9, 0.7]), ckpt])
    names = [os.path.basename(p) for p, _ in saved]
    assert names == ["e01-1.00.safetensors", "e02-0.80.safetensors", "e04-0.70.safetensors"]
    assert os.path.isdir(tmp_path / "ck")  # created for the files
    assert list(saved[0][1]) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_model_checkpoint_every_epoch_full_checkpoint_and_batch_freq(tmp_path, saved):
    trainer = _trainer()
    trainer.fit(X, Y, epochs=2, verbose=0,
                callbacks=[train.ModelCheckpoint(str(tmp_path / "last.st"))])
    assert len(saved) == 2
    assert set(saved[1][1]) == {"model", "optimizer", "epoch"} and saved[1][1]["epoch"] == 2
    saved.clear()
    trainer.fit(X, Y, batch_size=4, epochs=2, verbose=0, callbacks=[
        train.ModelCheckpoint(str(tmp_path / "b{epoch}-{batch}.st"), save_freq=3,
                              save_weights_only=True)])
    assert [os.path.basename(p) for p, _ in saved] == ["b1-3.st", "b2-2.st"]


def test_model_checkpoint_bad_filepath_field_names_the_logs(tmp_path, saved):
    with pytest.raises(KeyError, match="uses 'val_acc', which is not in the logs; available: "
                                       "epoch, batch, loss"):
        _trainer().fit(X, Y, epochs=1, verbose=0, callbacks=[
            train.ModelCheckpoint(str(tmp_path / "{val_acc}.st"))])


def test_model_checkpoint_round_trip_with_ember_io(tmp_path):
    checkpoint = pytest.importorskip("ember.io.checkpoint",
                                     reason="ember.io.checkpoint (ember.save) not available")
    trainer = _trainer()
    path = tmp_path / "w.safetensors"
    trainer.fit(X, Y, epochs=2, verbose=0, callbacks=[
        train.ModelCheckpoint(path, save_weights_only=True, monitor="loss")])
    fresh = mlp(seed=5)
    fresh.load_state_dict(checkpoint.load(str(path)))
    for a, b in zip(fresh.state_dict().values(), trainer.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    full = tmp_path / "full.safetensors"
    trainer.fit(X, Y, epochs=1, verbose=0, callbacks=[train.ModelCheckpoint(full)])
    loaded = checkpoint.load(str(full))
    assert loaded["epoch"] == 1 and set(loaded["model"]) == set(trainer.state_dict())
    assert loaded["optimizer"]["param_groups"][0]["lr"] == 0.1


class _FakeWriter:
    made: list = []

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.scalars = []
        self.closed = False
        _FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_tensorboard_tags_steps_and_directories(tmp_path, monkeypatch):
    fake = types.ModuleType("ember.summary")
    fake.SummaryWriter = _FakeWriter
    monkeypatch.setitem(sys.modules, "ember.summary", fake)
    _FakeWriter.made = []
    history = _trainer().fit(X, Y, batch_size=8, epochs=2, validation_split=0.5, verbose=0,
                             callbacks=[train.TensorBoard(tmp_path, update_freq=1)])
    train_w, val_w = _FakeWriter.made
    assert train_w.log_dir == os.path.join(str(tmp_path), "train")
    assert val_w.log_dir == os.path.join(str(tmp_path), "validation")
    loss, val_loss = history.history["loss"], history.history["val_loss"]
    assert [s for s in train_w.scalars if s[0] == "epoch_loss"] == [
        ("epoch_loss", loss[0], 0), ("epoch_loss", loss[1], 1)]
    assert val_w.scalars == [("epoch_loss", v, i) for i, v in enumerate(val_loss)]
    assert [s[2] for s in train_w.scalars if s[0] == "batch_loss"] == [1, 2]
    assert train_w.closed and val_w.closed


def test_tensorboard_writes_event_files(tmp_path):
    pytest.importorskip("ember.summary", reason="ember.summary (SummaryWriter) not available")
    _trainer().fit(X, Y, epochs=2, validation_split=0.25, verbose=0,
                   callbacks=[train.TensorBoard(tmp_path)])
    for part in ("train", "validation"):
        files = os.listdir(tmp_path / part)
        assert files and files[0].startswith("events.out.tfevents")
        assert b"epoch_loss" in (tmp_path / part / files[0]).read_bytes()


def test_missing_writer_is_reported_before_training(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ember.summary", None)  # makes the import fail
    trainer = _trainer()
    before = trainer.get_weights()
    with pytest.raises(ImportError, match="TensorBoard needs ember.summary.SummaryWriter"):
        trainer.fit(X, Y, epochs=1, verbose=0, callbacks=[train.TensorBoard(tmp_path)])
    np.testing.assert_array_equal(before[0], trainer.get_weights()[0])
