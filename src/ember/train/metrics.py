"""Stateful metrics with Keras' interface: ``update_state``, ``result``, ``reset_state``.

A metric accumulates totals over every batch it sees and ``result()`` reads the value over all
of them, so an epoch's accuracy is correct/seen over the whole epoch (not a mean of per-batch
accuracies, which is wrong when the last batch is smaller). Updates run in NumPy on detached
arrays: a metric never records autograd history.

Class dimension: predictions are laid out as PyTorch's losses expect, ``(N, C)`` or
``(N, C, d1, ...)`` with classes on dim 1. For ``(N, C)`` outputs this is Keras' last axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError, shape_str
from ..tensor import Tensor

__all__ = ["Metric", "Mean", "MeanSquaredError", "MeanAbsoluteError", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Precision", "Recall"]


def as_array(value: Any) -> np.ndarray:
    """The NumPy array behind ``value`` (a Tensor is read without copying or grad)."""
    if isinstance(value, Tensor):
        return value._data
    return np.asarray(value)


def _weights(sample_weight, n: int, owner: str) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = as_array(sample_weight).astype(np.float64).reshape(-1)
    if w.size != n:
        raise ShapeError(f"{owner}: sample_weight has {w.size} entries for {n} samples")
    return w


def _class_count(y_pred: np.ndarray) -> int:
    return 1 if y_pred.ndim < 2 else y_pred.shape[1]


class Metric:
    """Base class: subclasses keep totals in attributes and implement the three methods.

    ``direction`` ("up" or "down") tells callbacks in ``mode="auto"`` whether a larger value
    is better.
    """

    direction = "up"

    def __init__(self, name: str | None = None) -> None:
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Add one batch (``y_true`` targets, ``y_pred`` model outputs) to the totals."""
        raise NotImplementedError

    def result(self) -> float:
        """The value over every batch since the last ``reset_state``."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget all batches seen so far (fit calls this at the start of every epoch)."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Update with one batch and return the running result (Keras' ``metric(y, p)``)."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4g}>"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight)``."""

    direction = "down"

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        """Add ``values`` (a number or array); ``sample_weight`` weighs them (a scalar weight
        counts a scalar value as that many samples, e.g. a batch mean times batch size)."""
        v = as_array(values).astype(np.float64)
        if sample_weight is None:
            self.total += float(v.sum())
            self.count += float(v.size)
            return
        w = np.broadcast_to(as_array(sample_weight).astype(np.float64), v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class _PerSample(Metric):
    """Mean over samples of a per-sample value (Keras' MeanMetricWrapper)."""

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def per_sample(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        t, p = as_array(y_true), as_array(y_pred)
        n = p.shape[0] if p.ndim else 1
        values = self.per_sample(t, p).reshape(n, -1).mean(axis=1, dtype=np.float64)
        w = _weights(sample_weight, n, self.name)
        if w is None:
            self.total += float(values.sum())
            self.count += float(n)
        else:
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


def _matching(t: np.ndarray, p: np.ndarray, owner: str) -> np.ndarray:
    """``t`` in ``p``'s shape: a target of (N,) against outputs of (N, 1) would otherwise
    broadcast to (N, N), a classic silent bug; the same number of entries is reshaped."""
    if t.shape == p.shape:
        return t
    if t.size == p.size:
        return t.reshape(p.shape)
    raise ShapeError(f"{owner}: y_true of shape {shape_str(t.shape)} does not match y_pred of "
                     f"shape {shape_str(p.shape)}")


class MeanSquaredError(_PerSample):
    """Mean of ``(y_true - y_pred) ** 2``."""

    direction = "down"

    def __init__(self, name: str | None = "mean_squared_error") -> None:
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        d = y_pred.astype(np.float64) - _matching(y_true, y_pred, self.name)
        return d * d


class MeanAbsoluteError(_PerSample):
    """Mean of ``|y_true - y_pred|``."""

    direction = "down"

    def __init__(self, name: str | None = "mean_absolute_error") -> None:
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred.astype(np.float64) - _matching(y_true, y_pred, self.name))


def _logit_threshold(threshold: float, from_logits: bool) -> float:
    """Thresholding sigmoid(z) at t equals thresholding z at log(t / (1 - t))."""
    if not from_logits:
        return threshold
    with np.errstate(divide="ignore"):
        return float(np.log(threshold) - np.log1p(-threshold))


class BinaryAccuracy(_PerSample):
    """How often ``y_pred > threshold`` equals the 0/1 target.

    ``from_logits=True`` thresholds ``sigmoid(y_pred)`` (ember's losses take logits by
    default; Keras' ``BinaryAccuracy`` assumes probabilities).
    """

    def __init__(self, name: str | None = "binary_accuracy", threshold: float = 0.5,
                 from_logits: bool = False) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"BinaryAccuracy: threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold
        self.from_logits = from_logits
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        cut = _logit_threshold(self.threshold, self.from_logits)
        return (y_pred > cut) == (_matching(y_true, y_pred, self.name) > 0.5)


class SparseCategoricalAccuracy(_PerSample):
    """How often ``argmax(y_pred, dim=1)`` equals the integer class target."""

    def __init__(self, name: str | None = "sparse_categorical_accuracy") -> None:
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        return _sparse_target(y_true, y_pred, self.name) == y_pred.argmax(axis=1)


class CategoricalAccuracy(_PerSample):
    """How often ``argmax(y_pred, dim=1)`` equals ``argmax(y_true, dim=1)`` (one-hot targets)."""

    def __init__(self, name: str | None = "categorical_accuracy") -> None:
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        _same_shape(y_true, y_pred, self.name)
        return y_true.argmax(axis=1) == y_pred.argmax(axis=1)


def _same_shape(t: np.ndarray, p: np.ndarray, owner: str) -> None:
    if t.shape != p.shape:
        raise ShapeError(f"{owner}: one-hot y_true must have y_pred's shape "
                         f"{shape_str(p.shape)}, got {shape_str(t.shape)}")


def _sparse_target(t: np.ndarray, p: np.ndarray, owner: str) -> np.ndarray:
    """Class indices shaped like ``p`` without dim 1 (a trailing (N, 1) is accepted)."""
    if p.ndim < 2:
        raise ShapeError(f"{owner}: y_pred must have a class dimension (N, C, ...), got "
                         f"shape {shape_str(p.shape)}")
    want = p.shape[:1] + p.shape[2:]
    if t.shape != want:
        if t.size != int(np.prod(want)):
            raise ShapeError(f"{owner}: class-index y_true of shape {shape_str(t.shape)} does "
                             f"not fit y_pred of shape {shape_str(p.shape)} (expected "
                             f"{shape_str(want)})")
        t = t.reshape(want)
    return t


def _in_top_k(target_scores: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    # Counting strictly larger scores treats ties at the boundary as inside the top k, as
    # Keras' in_top_k does; it is one vectorized comparison instead of a sort.
    larger = (y_pred > np.expand_dims(target_scores, 1)).sum(axis=1)
    return larger < k


class SparseTopKCategoricalAccuracy(_PerSample):
    """How often the integer target is among the ``k`` largest entries of ``y_pred``."""

    def __init__(self, k: int = 5, name: str | None = "sparse_top_k_categorical_accuracy"):
        _check_k(k, type(self).__name__)
        self.k = k
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        t = _sparse_target(y_true, y_pred, self.name).astype(np.int64)
        scores = np.take_along_axis(y_pred, np.expand_dims(t, 1), axis=1).squeeze(1)
        return _in_top_k(scores, y_pred, self.k)


class TopKCategoricalAccuracy(_PerSample):
    """How often ``argmax(y_true)`` is among the ``k`` largest entries of ``y_pred``."""

    def __init__(self, k: int = 5, name: str | None = "top_k_categorical_accuracy"):
        _check_k(k, type(self).__name__)
        self.k = k
        super().__init__(name)

    def per_sample(self, y_true, y_pred):
        _same_shape(y_true, y_pred, self.name)
        t = y_true.argmax(axis=1)
        scores = np.take_along_axis(y_pred, np.expand_dims(t, 1), axis=1).squeeze(1)
        return _in_top_k(scores, y_pred, self.k)


def _check_k(k: int, owner: str) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"{owner}: k must be a positive int, got {k!r}")


class _Counts(Metric):
    """Precision and recall: weighted counts of true/false positives/negatives over all
    entries (binary or multi-label, thresholded like ``BinaryAccuracy``)."""

    def __init__(self, thresholds: float = 0.5, name: str | None = None,
                 from_logits: bool = False) -> None:
        if not 0.0 <= thresholds <= 1.0:
            raise ValueError(f"{type(self).__name__}: thresholds must be in [0, 1], got "
                             f"{thresholds}")
        self.thresholds = thresholds
        self.from_logits = from_logits
        super().__init__(name)

    def reset_state(self) -> None:
        self.true_positives = 0.0
        self.false_positives = 0.0
        self.false_negatives = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        p = as_array(y_pred)
        t = _matching(as_array(y_true), p, self.name) > 0.5
        hit = p > _logit_threshold(self.thresholds, self.from_logits)
        n = p.shape[0] if p.ndim else 1
        w = _weights(sample_weight, n, self.name)
        if w is None:
            w = np.ones(1)
        else:
            w = w.reshape((n,) + (1,) * (p.ndim - 1))
        w = np.broadcast_to(w, p.shape)
        self.true_positives += float(w[hit & t].sum())
        self.false_positives += float(w[hit & ~t].sum())
        self.false_negatives += float(w[~hit & t].sum())


class Precision(_Counts):
    """true positives / predicted positives (0 when nothing was predicted positive)."""

    def __init__(self, thresholds: float = 0.5, name: str | None = "precision",
                 from_logits: bool = False) -> None:
        super().__init__(thresholds, name, from_logits)

    def result(self) -> float:
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d else 0.0


class Recall(_Counts):
    """true positives / actual positives (0 when there were no positives)."""

    def __init__(self, thresholds: float = 0.5, name: str | None = "recall",
                 from_logits: bool = False) -> None:
        super().__init__(thresholds, name, from_logits)

    def result(self) -> float:
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d else 0.0


class AutoAccuracy(Metric):
    """``"accuracy"``: binary, sparse categorical or categorical, chosen from the shapes of the
    first batch (Keras' rule with classes on dim 1): one output per sample is binary; a
    target without the class dimension (or with size 1 there) is sparse; else categorical."""

    def __init__(self, name: str = "accuracy", from_logits: bool = False,
                 top_k: int | None = None) -> None:
        self.from_logits = from_logits
        self.top_k = top_k
        self.inner: Metric | None = None
        super().__init__(name)

    def reset_state(self) -> None:
        if getattr(self, "inner", None) is not None:
            self.inner.reset_state()

    def _choose(self, t: np.ndarray, p: np.ndarray) -> Metric:
        sparse = t.ndim == p.ndim - 1 or (t.ndim == p.ndim and t.ndim >= 2 and t.shape[1] == 1)
        if self.top_k is not None:
            if _class_count(p) == 1 or p.ndim < 2:
                raise ShapeError(f"{self.name}: top-k accuracy needs y_pred of shape (N, C), "
                                 f"got {shape_str(p.shape)}")
            cls = SparseTopKCategoricalAccuracy if sparse else TopKCategoricalAccuracy
            return cls(self.top_k, name=self.name)
        if _class_count(p) == 1:
            return BinaryAccuracy(self.name, from_logits=self.from_logits)
        if sparse:
            return SparseCategoricalAccuracy(self.name)
        return CategoricalAccuracy(self.name)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.inner is None:
            self.inner = self._choose(as_array(y_true), as_array(y_pred))
        self.inner.update_state(y_true, y_pred, sample_weight)

    def result(self) -> float:
        return 0.0 if self.inner is None else self.inner.result()
