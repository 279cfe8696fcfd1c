"""``Callback``, ``CallbackList`` and the small callbacks (``LambdaCallback``,
``TerminateOnNaN``), with Keras' hook names and arguments.

The other callbacks live by topic: ``history.py`` (History), ``progress.py`` (ProgressBar),
``callbacks_monitor.py`` (EarlyStopping, ReduceLROnPlateau, LearningRateScheduler),
``callbacks_io.py`` (ModelCheckpoint, CSVLogger, TensorBoard).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Callback", "CallbackList", "LambdaCallback", "TerminateOnNaN"]

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
          "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
          "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class of callbacks: override the hooks you need.

    ``self.model`` is the ``Model``/``Trainer`` being trained (``model.stop_training = True``
    ends ``fit`` after the current batch or epoch; ``model.optimizer`` is the optimizer);
    ``self.params`` holds ``verbose``, ``epochs`` and ``steps`` (batches per epoch or None).
    ``logs`` are dicts of floats: in ``on_epoch_end`` the epoch's ``loss``, metrics and their
    ``val_`` versions; in batch hooks the running values of the epoch so far.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Called by ``fit``/``evaluate``/``predict`` before the first hook."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Called with ``{'verbose', 'epochs', 'steps'}`` before the first hook."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None:
        """At the start of ``fit``."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """At the end of ``fit`` (``logs`` of the last epoch)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """At the start of epoch ``epoch`` (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """After an epoch and its validation; callbacks may add entries to ``logs``."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before training batch ``batch`` (0-based within the epoch)."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After training batch ``batch``; ``logs`` are the epoch's running values."""
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Keras' older name of ``on_train_batch_begin``."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Keras' older name of ``on_train_batch_end``."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """At the start of ``evaluate`` (also fit's validation)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """At the end of ``evaluate`` with its results."""

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before evaluation batch ``batch``."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After evaluation batch ``batch``."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """At the start of ``predict``."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """At the end of ``predict``."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Before prediction batch ``batch``."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """After prediction batch ``batch``; ``logs['outputs']`` holds its outputs."""


def _overrides(cb: Callback, hook: str) -> bool:
    """Does ``cb`` do anything in ``hook``? Batch hooks run per batch, so a list of only the
    callbacks that override them keeps the default callbacks from costing time per step."""
    alias = {"on_train_batch_begin": "on_batch_begin",
             "on_train_batch_end": "on_batch_end"}.get(hook)
    for name in (hook, alias):
        # a hook set on the instance (LambdaCallback) counts as much as one on the class
        if name is not None and (name in cb.__dict__
                                 or getattr(type(cb), name) is not getattr(Callback, name)):
            return True
    return False


class CallbackList:
    """Calls each hook on every callback, in order (user callbacks, then History, then the
    progress bar, so the bar and History see what callbacks add to ``logs``)."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, *, add_history: bool = False,
                 add_progress_bar: bool = False, model: Any = None, **params: Any) -> None:
        from .history import History
        from .progress import ProgressBar

        self.callbacks: list[Callback] = []
        for i, cb in enumerate(callbacks or []):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}] must be an ember.train.Callback, got "
                                f"{type(cb).__name__}")
            self.callbacks.append(cb)
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if add_progress_bar and not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.append(ProgressBar())
        self.model = model
        self.params = params
        for cb in self.callbacks:
            if model is not None:
                cb.set_model(model)
            cb.set_params(params)
        self._active = {h: [cb for cb in self.callbacks if _overrides(cb, h)] for h in _HOOKS}

    def append(self, callback: Callback) -> None:
        """Add a callback at the end."""
        self.callbacks.append(callback)
        callback.set_model(self.model)
        callback.set_params(self.params)
        for h in _HOOKS:
            if _overrides(callback, h):
                self._active[h].append(callback)

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook: str, *args) -> None:
        for cb in self._active[hook]:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Each keyword is a hook name; the function takes that hook's arguments.
    """

    def __init__(self, **hooks: Callable) -> None:
        super().__init__()
        for name, fn in hooks.items():
            if name not in _HOOKS + ("on_batch_begin", "on_batch_end"):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; valid hooks are "
                                f"{', '.join(_HOOKS)}")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got "
                                f"{type(fn).__name__}")
            setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
