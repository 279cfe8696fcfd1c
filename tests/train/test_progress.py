"""ProgressBar output: plain lines when not a terminal, \\r redraws when it is."""

from __future__ import annotations

import io
import re

from ember import train
from ember.train.progress import Progbar, format_value

from .helpers import blobs, mlp

X, Y = blobs(20)


def _trainer():
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return trainer


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


LINE = re.compile(r"^(\d+)/(\d+) - \d+s - \d+(ms|us|s)/step - loss: (\S+) - accuracy: (\S+)"
                  r"( - val_loss: (\S+) - val_accuracy: (\S+))?$")


def test_not_a_tty_prints_one_plain_line_per_epoch(capsys):
    history = _trainer().fit(X, Y, batch_size=8, epochs=2, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for epoch, line in enumerate(lines[1::2]):
        m = LINE.match(line)
        assert m, line
        assert m.group(1) == m.group(2) == "2"  # 16 training samples, batches of 8
        assert m.group(4) == f"{history.history['loss'][epoch]:.4f}"
        assert m.group(7) == f"{history.history['val_loss'][epoch]:.4f}"


def test_verbose_2_is_one_line_per_epoch_and_0_is_silent(capsys):
    _trainer().fit(X, Y, batch_size=8, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(LINE.match(ln) for ln in lines[1::2])
    _trainer().fit(X, Y, epochs=2, verbose=0)
    _trainer().evaluate(X, Y, verbose=0)
    _trainer().predict(X, verbose=0)
    assert capsys.readouterr().out == ""


def test_tty_redraws_the_line_in_place():
    stream = FakeTTY()
    history = _trainer().fit(X, Y, batch_size=4, epochs=1, verbose=1,
                             callbacks=[train.ProgressBar(stream=stream, interval=0)])
    out = stream.getvalue()
    assert out.startswith("Epoch 1/1\n")
    frames = out[len("Epoch 1/1\n"):].split("\r")[1:]
    assert len(frames) == 6  # 5 batches redrawn, then the finished line
    assert frames[0].startswith("1/5 [======>.......................] - ETA: ")
    assert frames[3].startswith("4/5 [========================>.....] - ETA: ")
    final = frames[-1]
    assert final.startswith("5/5 [==============================] - ")
    assert final.endswith(f"loss: {history.history['loss'][0]:.4f} - accuracy: "
                          f"{history.history['accuracy'][0]:.4f}\n")
    assert all(not f.endswith("\n") for f in frames[:-1])


def test_tty_interval_throttles_redraws_but_always_draws_the_end():
    stream = FakeTTY()
    _trainer().fit(X, Y, batch_size=2, epochs=1, verbose=1,
                   callbacks=[train.ProgressBar(stream=stream, interval=3600)])
    frames = stream.getvalue().split("\r")[1:]
    assert len(frames) == 2 and frames[0].startswith(" 1/10 [") and frames[1].startswith("10/10")


def test_tty_unknown_length_and_shorter_line_is_padded():
    stream = FakeTTY()
    bar = Progbar(None, stream=stream, interval=0)
    bar.update(1, {"loss": 123456.0})
    bar.update(2, {"loss": 1.0})
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0].startswith("1/Unknown - ")
    assert len(frames[1]) >= len(frames[0])  # blanks the rest of the longer old line
    bar.update(3, {"loss": 1.0}, finalize=True)
    assert stream.getvalue().split("\r")[-1].startswith("3/3 [" + "=" * 30 + "] - ")


def test_evaluate_and_predict_bars(capsys):
    trainer = _trainer()
    loss, acc = trainer.evaluate(X, Y, batch_size=8, verbose=1)
    trainer.predict(X, batch_size=8, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert LINE.match(lines[0]).group(1) == "3" and f"loss: {loss:.4f}" in lines[0]
    assert re.match(r"^3/3 - \d+s - \d+(ms|us|s)/step$", lines[1])


def test_format_value_like_keras():
    assert format_value(0.5) == "0.5000"
    assert format_value(1e-5) == "1.0000e-05"
    assert format_value(0.0) == "0.0000e+00"
