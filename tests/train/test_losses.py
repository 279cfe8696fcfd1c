"""Keras-named losses against PyTorch (tolerance 1e-6 relative, float32 inputs)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn, train
from ember.train import losses as L

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(6, 4)).astype(np.float32)
LABELS = rng.integers(0, 4, 6)


def _e(a):
    return ember.from_numpy(np.ascontiguousarray(a))


def _close(ours, want):
    np.testing.assert_allclose(ours.item(), float(want), rtol=1e-6, atol=1e-7)


def test_sparse_categorical_crossentropy_logits_and_probabilities():
    want = TF.cross_entropy(torch.from_numpy(LOGITS), torch.from_numpy(LABELS))
    _close(L.SparseCategoricalCrossentropy()(_e(LABELS), _e(LOGITS)), want)
    _close(L.SparseCategoricalCrossentropy()(_e(LABELS[:, None]), _e(LOGITS)), want)
    probs = torch.softmax(torch.from_numpy(LOGITS), 1)
    _close(L.SparseCategoricalCrossentropy(from_logits=False)(_e(LABELS), _e(probs.numpy())),
           want)


def test_categorical_crossentropy_logits_and_probabilities():
    onehot = np.eye(4, dtype=np.float32)[LABELS]
    want = TF.cross_entropy(torch.from_numpy(LOGITS), torch.from_numpy(LABELS))
    _close(L.CategoricalCrossentropy()(_e(onehot), _e(LOGITS)), want)
    probs = torch.softmax(torch.from_numpy(LOGITS), 1).numpy()
    _close(L.CategoricalCrossentropy(from_logits=False)(_e(onehot), _e(probs)), want)
    smooth = TF.cross_entropy(torch.from_numpy(LOGITS), torch.from_numpy(LABELS),
                              label_smoothing=0.1)
    _close(L.CategoricalCrossentropy(label_smoothing=0.1)(_e(onehot), _e(LOGITS)), smooth)


def test_binary_crossentropy_logits_probabilities_and_flat_targets():
    z = LOGITS[:, :1]
    t = (LABELS % 2).astype(np.float32)
    want = TF.binary_cross_entropy_with_logits(torch.from_numpy(z),
                                               torch.from_numpy(t[:, None]))
    _close(L.BinaryCrossentropy()(_e(t), _e(z)), want)  # (N,) target fits (N, 1)
    p = torch.sigmoid(torch.from_numpy(z)).numpy()
    _close(L.BinaryCrossentropy(from_logits=False)(_e(t[:, None]), _e(p)), want)


def test_mse_and_mae_reshape_flat_targets():
    pred = LOGITS[:, :1]
    t = LOGITS[:, 1]
    _close(L.MeanSquaredError()(_e(t), _e(pred)), TF.mse_loss(torch.from_numpy(pred),
                                                              torch.from_numpy(t[:, None])))
    _close(L.MeanAbsoluteError()(_e(t), _e(pred)), TF.l1_loss(torch.from_numpy(pred),
                                                              torch.from_numpy(t[:, None])))
    with pytest.raises(ember.ShapeError, match=r"mean_squared_error: y_true of shape \[5\] "
                                               r"does not match y_pred of shape \[6, 1\]"):
        L.MeanSquaredError()(_e(t[:5]), _e(pred))


def test_compile_by_name_uses_these_losses_and_plain_callables_take_pytorch_order():
    x = LOGITS
    y = LABELS
    model = train.Sequential([nn.Linear(4, 4)])
    model.set_weights([np.eye(4, dtype=np.float32), np.zeros(4, np.float32)])  # identity
    model.compile("sgd", "sparse_categorical_crossentropy")
    want = TF.cross_entropy(torch.from_numpy(x), torch.from_numpy(y)).item()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-6)
    order = []

    def loss_fn(y_pred, y_true):
        order.append((tuple(y_pred.shape), tuple(y_true.shape)))
        return nn.functional.cross_entropy(y_pred, y_true)

    model.compile("sgd", loss_fn)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-6)
    assert order == [((6, 4), (6,))]
