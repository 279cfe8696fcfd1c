"""evaluate against a manual loop; predict's shape, eval mode, no_grad and structure."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn, train
from ember.nn import functional as F

from .helpers import ModeRecorder, blobs, mlp


def _manual(net, x, y, batch_size):
    """Loss as a per-sample mean over batches, and accuracy, computed by hand."""
    total, correct = 0.0, 0
    with ember.no_grad():
        for i in range(0, len(x), batch_size):
            out = net(ember.from_numpy(x[i:i + batch_size]))
            yb = ember.from_numpy(y[i:i + batch_size])
            total += F.cross_entropy(out, yb).item() * len(yb)
            correct += int((out.numpy().argmax(1) == y[i:i + batch_size]).sum())
    return total / len(x), correct / len(x)


def test_evaluate_equals_manual_loop():
    x, y = blobs(37, seed=5)
    net = mlp(seed=3)
    trainer = train.Trainer(net)
    trainer.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = trainer.evaluate(x, y, batch_size=10, verbose=0)
    want_loss, want_acc = _manual(net, x, y, 10)
    assert loss == pytest.approx(want_loss, rel=1e-6)
    assert acc == want_acc
    # the batch size does not change the result (per-sample weighting)
    assert trainer.evaluate(x, y, batch_size=37, verbose=0)[0] == pytest.approx(loss, rel=1e-5)


def test_evaluate_return_forms():
    x, y = blobs(16)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(trainer.evaluate(x, y, verbose=0), float)
    trainer.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    d = trainer.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["loss", "accuracy"] == trainer.metrics_names
    assert trainer.evaluate(x, y, verbose=0) == [d["loss"], d["accuracy"]]


def test_evaluate_on_iterable_and_steps():
    x, y = blobs(30)
    trainer = train.Trainer(mlp())
    trainer.compile("sgd", "sparse_categorical_crossentropy")
    loader = [(x[i:i + 10], y[i:i + 10]) for i in range(0, 30, 10)]
    assert trainer.evaluate(loader, verbose=0) == pytest.approx(
        trainer.evaluate(x, y, verbose=0), rel=1e-6)
    assert trainer.evaluate(loader, steps=1, verbose=0) == pytest.approx(
        trainer.evaluate(x[:10], y[:10], verbose=0), rel=1e-6)


def test_predict_shape_eval_mode_no_grad_and_mode_restored():
    x, _ = blobs(25)
    rec = ModeRecorder()
    net = nn.Sequential(rec, nn.Dropout(0.5), nn.Linear(4, 3))
    trainer = train.Trainer(net)
    out = trainer.predict(x, batch_size=10, verbose=0)
    assert isinstance(out, ember.Tensor)
    assert out.shape == (25, 3)
    assert out.requires_grad is False
    assert rec.calls == [(False, False)] * 3
    assert net.training is True
    with ember.no_grad():
        want = nn.Sequential(net[2])(ember.from_numpy(x)).numpy()  # dropout is off in eval
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)


class _Loader:
    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def test_predict_takes_loader_of_inputs_or_pairs_and_tuple_outputs():
    class TwoHeads(train.Model):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 2)
            self.b = nn.Linear(4, 1)

        def forward(self, x):
            return self.a(x), self.b(x)

    x, y = blobs(12)
    model = TwoHeads()
    a, b = model.predict(x, batch_size=5, verbose=0)
    assert a.shape == (12, 2) and b.shape == (12, 1)
    # a list of arrays would mean several model inputs (Keras' rule): use a loader object
    only_x = _Loader([ember.from_numpy(x[:6]), ember.from_numpy(x[6:])])
    pairs = [(x[:6], y[:6]), (x[6:], y[6:])]
    np.testing.assert_array_equal(model.predict(only_x, verbose=0)[0].numpy(), a.numpy())
    np.testing.assert_array_equal(model.predict(pairs, verbose=0)[1].numpy(), b.numpy())


def test_predict_needs_no_compile_and_evaluate_does():
    x, y = blobs(8)
    trainer = train.Trainer(mlp())
    assert trainer.predict(x, verbose=0).shape == (8, 3)
    with pytest.raises(RuntimeError, match=r"evaluate: the model must be compiled first"):
        trainer.evaluate(x, y, verbose=0)


def test_get_and_set_weights_round_trip():
    trainer = train.Trainer(mlp())
    w = trainer.get_weights()
    assert [a.shape for a in w] == [(8, 4), (8,), (3, 8), (3,)]
    trainer.set_weights([np.zeros_like(a) for a in w])
    assert all((p.detach().numpy() == 0).all() for p in trainer.parameters())
    with pytest.raises(ValueError, match="the model has 4 weight tensors, got 1 arrays"):
        trainer.set_weights(w[:1])
