"""Overriding train_step / test_step, as in Keras."""

from __future__ import annotations

import numpy as np
import pytest

from ember import nn, optim, train
from ember.nn.utils import clip_grad_norm_

from .helpers import blobs, mlp, same_weights

X, Y = blobs(24)


class ManualStep(train.Model):
    """The default step written out by hand with the public helpers."""

    def __init__(self):
        super().__init__()
        self.net = mlp(seed=2)

    def forward(self, x):
        return self.net(x)

    def train_step(self, batch):
        x, y = batch
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return self.compute_metrics(x, y, y_pred)


def test_override_with_public_helpers_equals_default_step():
    custom = ManualStep()
    default = train.Trainer(mlp(seed=3))
    same_weights(custom.net, default.module)
    for m in (custom, default):
        m.compile(optim.SGD(m.parameters(), lr=0.1), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hc = custom.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    hd = default.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert hc.history == hd.history
    for a, b in zip(custom.get_weights(), default.get_weights()):
        np.testing.assert_array_equal(a, b)


class Clipped(train.Trainer):
    """Gradient clipping and a custom log entry."""

    def train_step(self, batch):
        x, y = batch
        loss = self.compute_loss(x, y, self(x))
        self.optimizer.zero_grad()
        loss.backward()
        norm = clip_grad_norm_(self.parameters(), max_norm=1e-3)
        self.optimizer.step()
        return {"loss": loss, "grad_norm": norm}


def test_custom_logs_reach_history_and_clipping_limits_the_step():
    trainer = Clipped(mlp())
    trainer.compile(optim.SGD(trainer.parameters(), lr=1.0), "sparse_categorical_crossentropy")
    before = trainer.get_weights()
    history = trainer.fit(X, Y, batch_size=24, epochs=2, verbose=0)
    assert list(history.history) == ["loss", "grad_norm"]
    assert all(isinstance(v, float) and v > 1e-3 for v in history.history["grad_norm"])
    step = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(trainer.get_weights(), before)))
    assert step <= 2e-3 * (1 + 1e-5)  # two steps of at most lr * max_norm


def test_custom_test_step_feeds_validation_logs():
    class Scored(train.Trainer):
        def test_step(self, batch):
            x, y = batch
            return {"score": float((self(x).numpy().argmax(1) == y.numpy()).mean())}

    trainer = Scored(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    history = trainer.fit(X, Y, epochs=1, batch_size=24, validation_data=(X, Y), verbose=0)
    assert list(history.history) == ["loss", "val_score"]


def test_compile_without_loss_needs_a_custom_step():
    trainer = train.Trainer(nn.Sequential(nn.Linear(4, 3)))
    trainer.compile("sgd")
    with pytest.raises(RuntimeError, match="compute_loss: compile\\(\\) was called without a "
                                           "loss; pass loss=... or override train_step"):
        trainer.fit(X, Y, verbose=0)
