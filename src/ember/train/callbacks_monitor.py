"""Callbacks that watch a logged value or steer the learning rate: ``EarlyStopping``,
``ReduceLROnPlateau``, ``LearningRateScheduler`` (Keras' semantics)."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor
from .callbacks import Callback

__all__ = ["EarlyStopping", "ReduceLROnPlateau", "LearningRateScheduler"]

_UP_WORDS = ("acc", "auc", "precision", "recall")
_DOWN_WORDS = ("loss", "error", "mse", "mae")


def get_lr(group: dict) -> float:
    """A parameter group's learning rate as a float (it may be a 0-d tensor)."""
    return float(group["lr"])


def set_lr(group: dict, value: float) -> None:
    """Set a group's learning rate; a tensor rate is filled in place (a captured graph that
    reads it stays valid), a float is replaced, as a PyTorch scheduler does."""
    if isinstance(group["lr"], Tensor):
        with no_grad():
            group["lr"].fill_(value)
    else:
        group["lr"] = float(value)


def _optimizer(callback: Callback) -> Any:
    opt = getattr(callback.model, "optimizer", None)
    if opt is None:
        raise RuntimeError(f"{type(callback).__name__}: the model has no optimizer; call "
                           "compile(optimizer=...) first")
    return opt


class MonitorCallback(Callback):
    """Base of callbacks watching ``logs[monitor]`` for improvement.

    ``mode='auto'`` reads the direction from the compiled metric of that name (accuracy up,
    losses and errors down), falling back on words in the name; ``min_delta`` is the least
    change that counts as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', got "
                             f"{mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self._lower_is_better: bool | None = None

    def lower_is_better(self) -> bool:
        """True when smaller values of the monitored quantity are better."""
        if self._lower_is_better is None:
            self._lower_is_better = self._resolve_direction()
        return self._lower_is_better

    def _resolve_direction(self) -> bool:
        if self.mode != "auto":
            return self.mode == "min"
        name = self.monitor.removeprefix("val_")
        for metric in getattr(self.model, "metrics", None) or []:
            if getattr(metric, "name", None) == name:
                return getattr(metric, "direction", "down") != "up"
        if any(w in name for w in _UP_WORDS):
            return False
        if any(w in name for w in _DOWN_WORDS):
            return True
        raise ValueError(f"{type(self).__name__}: cannot tell whether {self.monitor!r} should "
                         "go up or down; pass mode='max' or mode='min'")

    def is_improvement(self, value: float, reference: float | None) -> bool:
        """Is ``value`` better than ``reference`` by more than ``min_delta``?"""
        if reference is None:
            return True
        if self.lower_is_better():
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def monitor_value(self, logs: dict | None) -> float | None:
        """``logs[monitor]``, or None with a warning naming the keys that are there."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} is conditioned on {self.monitor!r}, which is "
                          f"not in the logs; available: {', '.join(logs or {}) or 'none'}",
                          stacklevel=3)
        else:
            self.lower_is_better()  # an undecidable direction fails at the first value
        return value


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    ``baseline``: training also stops if the value does not beat this within ``patience``
    epochs. ``restore_best_weights=True`` loads the weights of the best epoch when training
    ends. ``start_from_epoch`` epochs of warm-up are not monitored.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        # reset so one instance can serve several fit calls
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: list | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # the count restarts only once the baseline is beaten too
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    After ``patience`` epochs without an improvement larger than ``min_delta`` each
    parameter group's rate becomes ``max(lr * factor, min_lr)``; then ``cooldown`` epochs pass
    before waiting starts again. Adds ``learning_rate`` to the epoch logs. (For a PyTorch-style
    scheduler stepped by hand see ``ember.optim.lr_scheduler.ReduceLROnPlateau``.)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        if not 0.0 < factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best: float | None = None

    def on_epoch_end(self, epoch, logs=None):
        opt = _optimizer(self)
        if logs is not None:
            logs["learning_rate"] = get_lr(opt.param_groups[0])
        current = self.monitor_value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        reduced = False
        for group in opt.param_groups:
            old = get_lr(group)
            if old > self.min_lr:
                set_lr(group, max(old * self.factor, self.min_lr))
                reduced = True
        if reduced:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{get_lr(opt.param_groups[0])}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0


def _takes_lr(schedule: Callable) -> bool:
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    ``epoch`` is 0-based and ``lr`` the current rate (``schedule(epoch)`` is accepted too);
    with several parameter groups it is called once per group. Adds ``learning_rate`` to the
    epoch logs.

    Example::

        LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got "
                            f"{type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._two_args = _takes_lr(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        for group in _optimizer(self).param_groups:
            lr = get_lr(group)
            new = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
            if isinstance(new, Tensor):
                new = new.item()
            if not isinstance(new, (int, float)) or isinstance(new, bool) \
                    or not math.isfinite(new):
                raise ValueError(f"LearningRateScheduler: the schedule must return a finite "
                                 f"float, got {new!r} at epoch {epoch}")
            set_lr(group, new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{get_lr(_optimizer(self).param_groups[0])}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = get_lr(_optimizer(self).param_groups[0])
