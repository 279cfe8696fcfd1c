"""Keras-named losses for ``compile(loss=...)``, built on ``ember.nn.functional``.

They are called Keras' way, ``loss(y_true, y_pred)``, and return the batch mean. The cross
entropies take **logits** by default (``from_logits=True``), unlike Keras: a model written the
PyTorch way ends in a Linear layer, not a softmax. Pass ``from_logits=False`` when the model
already outputs probabilities.

Anything else given to ``compile(loss=...)`` (an ``ember.nn`` loss module such as
``nn.CrossEntropyLoss()``, or a function) is called PyTorch's way, ``loss(y_pred, y_true)``.
"""

from __future__ import annotations

from .. import nn
from ..errors import ShapeError, shape_str
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError"]

# Probabilities are clipped away from 0 and 1 before the log, as Keras does (its epsilon).
_EPSILON = 1e-7


class Loss:
    """Base class: ``__call__(y_true, y_pred)`` returns a 0-d loss tensor (the batch mean)."""

    from_logits: bool | None = None

    def __init__(self, name: str | None = None) -> None:
        self.name = name or type(self).__name__

    def __call__(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return self.call(y_true, y_pred)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """The loss of one batch; subclasses implement this."""
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "" if self.from_logits is None else f"from_logits={self.from_logits}"
        return f"{type(self).__name__}({extra})"


def _like(y_true: Tensor, y_pred: Tensor, owner: str) -> Tensor:
    """``y_true`` reshaped to ``y_pred``'s shape when they hold as many entries: a (N,) target
    against (N, 1) outputs would otherwise broadcast to an (N, N) loss silently."""
    if tuple(y_true.shape) == tuple(y_pred.shape):
        return y_true
    if y_true.numel() == y_pred.numel():
        return y_true.reshape(y_pred.shape)
    raise ShapeError(f"{owner}: y_true of shape {shape_str(y_true.shape)} does not match "
                     f"y_pred of shape {shape_str(y_pred.shape)}")


def _float_like(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return y_true if y_true.dtype is y_pred.dtype else y_true.to(y_pred.dtype)


class SparseCategoricalCrossentropy(Loss):
    """Cross entropy of integer class targets; ``F.cross_entropy`` on logits (N, C, ...).

    A target of shape (N, 1) is accepted for (N, C) outputs, as in Keras.
    """

    def __init__(self, from_logits: bool = True, ignore_index: int = -100,
                 name: str | None = "sparse_categorical_crossentropy") -> None:
        super().__init__(name)
        self.from_logits = from_logits
        self.ignore_index = ignore_index

    def call(self, y_true, y_pred):
        if y_true.dim() == y_pred.dim() and y_true.dim() >= 2 and y_true.shape[1] == 1:
            y_true = y_true.squeeze(1)
        if y_true.dtype.is_floating_point:
            y_true = y_true.long()
        if self.from_logits:
            return F.cross_entropy(y_pred, y_true, ignore_index=self.ignore_index)
        return F.nll_loss(y_pred.clamp(_EPSILON, 1.0).log(), y_true,
                          ignore_index=self.ignore_index)


class CategoricalCrossentropy(Loss):
    """Cross entropy of one-hot (or soft) targets of the outputs' shape (N, C, ...)."""

    def __init__(self, from_logits: bool = True, label_smoothing: float = 0.0,
                 name: str | None = "categorical_crossentropy") -> None:
        super().__init__(name)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        t = _float_like(y_true, y_pred)
        if tuple(t.shape) != tuple(y_pred.shape):
            raise ShapeError(f"{self.name}: one-hot y_true must have y_pred's shape "
                             f"{shape_str(y_pred.shape)}, got {shape_str(t.shape)} (for "
                             "integer class targets use 'sparse_categorical_crossentropy')")
        if self.from_logits:
            return F.cross_entropy(y_pred, t, label_smoothing=self.label_smoothing)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / y_pred.shape[1]
        # Keras renormalizes probabilities that do not sum to one before the log.
        p = y_pred / y_pred.sum(dim=1, keepdim=True)
        per_sample = -(t * p.clamp(_EPSILON, 1.0 - _EPSILON).log()).sum(dim=1)
        return per_sample.mean()


class BinaryCrossentropy(Loss):
    """Binary cross entropy of 0/1 (or soft) targets; one output per sample or per label."""

    def __init__(self, from_logits: bool = True,
                 name: str | None = "binary_crossentropy") -> None:
        super().__init__(name)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        t = _float_like(_like(y_true, y_pred, self.name), y_pred)
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, t)
        return F.binary_cross_entropy(y_pred.clamp(_EPSILON, 1.0 - _EPSILON), t)


class MeanSquaredError(Loss):
    """Mean of ``(y_true - y_pred) ** 2`` (a (N,) target fits (N, 1) outputs)."""

    def __init__(self, name: str | None = "mean_squared_error") -> None:
        super().__init__(name)

    def call(self, y_true, y_pred):
        return F.mse_loss(y_pred, _float_like(_like(y_true, y_pred, self.name), y_pred))


class MeanAbsoluteError(Loss):
    """Mean of ``|y_true - y_pred|`` (a (N,) target fits (N, 1) outputs)."""

    def __init__(self, name: str | None = "mean_absolute_error") -> None:
        super().__init__(name)

    def call(self, y_true, y_pred):
        return F.l1_loss(y_pred, _float_like(_like(y_true, y_pred, self.name), y_pred))


def logits_hint(loss) -> bool | None:
    """Whether ``loss`` reads logits (True), probabilities (False) or cannot tell (None);
    ``"accuracy"``, ``"precision"`` and ``"recall"`` use it to pick their threshold."""
    if isinstance(loss, Loss):
        return loss.from_logits
    if isinstance(loss, (nn.BCEWithLogitsLoss, nn.CrossEntropyLoss)):
        return True
    if isinstance(loss, nn.BCELoss):
        return False
    return None

