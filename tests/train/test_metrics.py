"""Metrics against hand-computed values, accumulated over uneven batches."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn, train
from ember.train import metrics as M

from .helpers import blobs


def _batches(*arrays, sizes=(5, 3, 1)):
    start = 0
    for s in sizes:
        yield tuple(a[start:start + s] for a in arrays)
        start += s


def test_sparse_accuracy_is_over_samples_not_a_mean_of_batches():
    logits = np.array([[2, 1, 0], [0, 3, 1], [1, 0, 2], [0, 1, 0], [5, 0, 0],
                       [0, 0, 1], [1, 2, 3], [3, 2, 1], [0, 9, 0]], np.float32)
    target = np.array([0, 1, 2, 0, 0, 2, 0, 1, 0])  # correct: 1,1,1,0,1 | 1,0,0 | 0
    m = M.SparseCategoricalAccuracy()
    for t, p in _batches(target, logits):
        m.update_state(ember.from_numpy(t), ember.from_numpy(p))
    assert m.result() == pytest.approx(5 / 9)  # a mean of batch accuracies would be 0.6
    m.reset_state()
    assert m.result() == 0.0


def test_auto_accuracy_picks_sparse_categorical_or_binary():
    logits = np.array([[2, 1, 0], [0, 3, 1], [1, 0, 2], [0, 1, 0]], np.float32)
    sparse = np.array([0, 2, 2, 1])
    acc = M.AutoAccuracy()
    acc.update_state(sparse, logits)
    assert isinstance(acc.inner, M.SparseCategoricalAccuracy) and acc.result() == 0.75
    acc = M.AutoAccuracy()
    acc.update_state(sparse[:, None], logits)  # (N, 1) targets are sparse too
    assert isinstance(acc.inner, M.SparseCategoricalAccuracy) and acc.result() == 0.75
    acc = M.AutoAccuracy()
    acc.update_state(np.eye(3, dtype=np.float32)[sparse], logits)
    assert isinstance(acc.inner, M.CategoricalAccuracy) and acc.result() == 0.75
    acc = M.AutoAccuracy(from_logits=True)
    acc.update_state(np.array([1, 0, 1, 0]), np.array([[0.3], [-2.0], [-0.1], [0.2]]))
    assert isinstance(acc.inner, M.BinaryAccuracy) and acc.result() == 0.5


def test_binary_accuracy_threshold_on_probabilities_and_logits():
    t = np.array([1, 0, 1, 0, 1])
    probs = np.array([0.9, 0.6, 0.4, 0.1, 0.7])
    assert M.BinaryAccuracy()(t, probs) == pytest.approx(3 / 5)
    logits = np.log(probs / (1 - probs))
    assert M.BinaryAccuracy(from_logits=True)(t, logits) == pytest.approx(3 / 5)
    assert M.BinaryAccuracy(threshold=0.65, from_logits=True)(t, logits) == pytest.approx(4 / 5)


def test_top_k_sparse_and_categorical_with_ties():
    scores = np.array([[0.1, 0.5, 0.3, 0.1], [0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25],
                       [0.0, 0.1, 0.2, 0.7]])
    target = np.array([2, 2, 3, 0])
    # ranks of the target: 2nd, 3rd, tied for 1st, 4th
    for k, want in [(1, 1 / 4), (2, 2 / 4), (3, 3 / 4), (4, 1.0)]:
        assert M.SparseTopKCategoricalAccuracy(k=k)(target, scores) == pytest.approx(want)
        assert M.TopKCategoricalAccuracy(k=k)(np.eye(4)[target], scores) == pytest.approx(want)
    m = M.SparseTopKCategoricalAccuracy(k=2)
    for t, p in _batches(target, scores, sizes=(3, 1)):
        m.update_state(t, p)
    assert m.result() == pytest.approx(0.5)


def test_precision_and_recall_accumulate_counts():
    t = np.array([1, 1, 0, 0, 1, 0, 1, 0, 1])
    p = np.array([0.8, 0.3, 0.7, 0.2, 0.9, 0.6, 0.55, 0.1, 0.4])
    hit = p > 0.5
    tp = int((hit & (t == 1)).sum())
    fp = int((hit & (t == 0)).sum())
    fn = int((~hit & (t == 1)).sum())
    prec, rec = M.Precision(), M.Recall()
    for tb, pb in _batches(t, p):
        prec.update_state(tb, pb[:, None])  # (N,) targets against (N, 1) outputs
        rec.update_state(tb, pb[:, None])
    assert (tp, fp, fn) == (3, 2, 2)
    assert prec.result() == pytest.approx(tp / (tp + fp))
    assert rec.result() == pytest.approx(tp / (tp + fn))
    assert M.Precision()(np.array([1, 0]), np.array([0.1, 0.2])) == 0.0  # nothing predicted


def test_mse_mae_metrics_weighted_per_sample():
    t = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    p = np.array([[1.5, 2.0], [1.0, -1.0], [3.0, 1.0]])
    mse, mae = M.MeanSquaredError(), M.MeanAbsoluteError()
    for tb, pb in _batches(t, p, sizes=(2, 1)):
        mse.update_state(tb, pb)
        mae.update_state(tb, pb)
    assert mse.result() == pytest.approx(((p - t) ** 2).mean())
    assert mae.result() == pytest.approx(np.abs(p - t).mean())
    w = np.array([1.0, 0.0, 3.0])
    weighted = M.MeanSquaredError()
    weighted.update_state(t, p, sample_weight=w)
    per_sample = ((p - t) ** 2).mean(1)
    assert weighted.result() == pytest.approx((per_sample * w).sum() / w.sum())


def test_mse_metric_reshapes_flat_target_instead_of_broadcasting():
    t = np.array([1.0, 2.0, 3.0])
    p = np.array([[1.0], [2.0], [5.0]])
    assert M.MeanSquaredError()(t, p) == pytest.approx(4 / 3)  # not the (3, 3) broadcast
    with pytest.raises(ember.ShapeError, match=r"y_true of shape \[2\] does not match y_pred "
                                                r"of shape \[3, 1\]"):
        M.MeanSquaredError()(t[:2], p)


def test_compiled_metrics_by_name_in_fit_logs_match_hand_values():
    x, y = blobs(30)
    model = train.Sequential([nn.Linear(4, 3)])
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=["acc", "sparse_top_k_categorical_accuracy"])
    # evaluate with a batch size that leaves an uneven last batch
    logs = model.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)
    out = model.predict(x, verbose=0).numpy()
    assert logs["acc"] == pytest.approx((out.argmax(1) == y).mean())
    assert logs["sparse_top_k_categorical_accuracy"] == 1.0


def test_precision_by_name_follows_the_loss_logits_convention():
    y = np.array([1, 0, 1, 1], np.float32)
    model = train.Sequential([nn.Linear(1, 1)])
    with ember.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.fill_(0.0)
    x = np.array([[0.2], [-0.3], [-0.1], [2.0]], np.float32)  # logits = x
    model.compile("sgd", "binary_crossentropy", metrics=["precision", "recall", "accuracy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    # threshold at logit 0 (probability 0.5): predicted positive = rows 0 and 3, both right
    assert logs["precision"] == 1.0 and logs["recall"] == pytest.approx(2 / 3)
    assert logs["accuracy"] == 0.75
    # probabilities (nn.BCELoss): cut at 0.5, so 0.4 is negative; a logit cut would say 3/4
    probs = np.array([[0.6], [0.2], [0.4], [0.9]], np.float32)
    model.compile("sgd", nn.BCELoss(), metrics=["precision"])  # PyTorch's: shapes must match
    assert model.evaluate(probs, y[:, None], verbose=0, return_dict=True)["precision"] == 1.0
    model.compile("sgd", "binary_crossentropy", metrics=["precision"])
    assert model.evaluate(probs, y, verbose=0, return_dict=True)["precision"] == 0.75


def test_metric_validation():
    with pytest.raises(ValueError, match="SparseTopKCategoricalAccuracy: k must be a positive "
                                         "int, got 0"):
        M.SparseTopKCategoricalAccuracy(k=0)
    with pytest.raises(ember.ShapeError, match=r"categorical_accuracy: one-hot y_true must have "
                                               r"y_pred's shape \[2, 3\], got \[2, 2\]"):
        M.CategoricalAccuracy()(np.eye(2), np.zeros((2, 3)))
    with pytest.raises(ember.ShapeError, match=r"does not fit y_pred of shape \[2, 3\]"):
        M.SparseCategoricalAccuracy()(np.array([0, 1, 2]), np.zeros((2, 3)))
