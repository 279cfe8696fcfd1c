"""``TrainingEngine``: Keras' ``compile``/``fit``/``evaluate``/``predict``, written once and
shared by ``Model`` (an nn.Module subclass) and ``Trainer`` (a wrapper of any module).

The class reaches the network through ``_network()`` and calls ``self(x)`` for the forward,
so overriding ``train_step``/``test_step``/``predict_step`` works the same on both. State set
by ``compile`` is written to the instance ``__dict__`` directly: on a ``Model`` an nn loss
module stored by plain assignment would otherwise become a registered submodule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor, _make
from . import registry
from .callbacks import Callback, CallbackList
from .data_adapter import (
    ArrayBatches,
    Epochs,
    IterableBatches,
    batch_size_of,
    check_batch_size,
    is_array_input,
    num_batches,
    unpack,
)
from .history import History
from .metrics import Mean


def _check_verbose(verbose: Any, owner: str) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"{owner}: verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _to_float(value: Any) -> Any:
    if isinstance(value, Tensor):
        return float(value.detach().item()) if value.numel() == 1 else value
    if isinstance(value, (np.floating, np.integer)):
        return float(value)
    return value


def _concat(outputs: list, owner: str) -> Any:
    """Batch outputs joined along dim 0, keeping a tuple/list/dict structure."""
    first = outputs[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_concat([o[i] for o in outputs], owner) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outputs], owner) for k in first}
    if not isinstance(first, Tensor):
        raise TypeError(f"{owner}: predict_step must return tensors (or tuples/dicts of them), "
                        f"got {type(first).__name__}")
    return _make(np.concatenate([o._data for o in outputs], axis=0))


class TrainingEngine:
    """The Keras-style training methods; see ``Model`` and ``Trainer`` for how to get them."""

    # Defaults before compile; class attributes so ``Model`` needs no __init__ of its own.
    optimizer: Any = None
    loss: Any = None
    compiled_loss: Any = None
    compiled_metrics: list = []
    metrics: list = []
    compiled = False
    stop_training = False
    history: History | None = None

    def _network(self) -> Module:
        raise NotImplementedError

    def _set(self, **values: Any) -> None:
        self.__dict__.update(values)

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None,
                metrics: Iterable | None = None) -> None:
        """Choose the optimizer, loss and metrics ``fit`` uses.

        ``optimizer``: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, an
        ``ember.optim`` optimizer, or a callable taking the parameters. ``loss``: a name
        (``"sparse_categorical_crossentropy"`` etc., cross entropies on logits), an
        ``ember.train.losses`` object, an ``ember.nn`` loss module or ``fn(y_pred, y_true)``.
        ``metrics``: names (``"accuracy"``, ``"top_k_accuracy"``, ``"precision"``, ...) or
        ``ember.train.metrics.Metric`` objects. Compiling again starts a fresh optimizer.
        """
        opt = registry.get_optimizer(optimizer, self._network())
        loss_fn, logits = registry.get_loss(loss)
        compiled_metrics = registry.get_metrics(metrics, logits)
        tracker = Mean(name="loss")
        self._set(optimizer=opt, loss=loss, compiled_loss=loss_fn,
                  compiled_metrics=compiled_metrics, _loss_tracker=tracker,
                  metrics=[tracker] + compiled_metrics, compiled=True, stop_training=False)

    def _require_compiled(self, owner: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"{owner}: the model must be compiled first; call "
                               "compile(optimizer=..., loss=..., metrics=[...]) before "
                               f"{owner}()")

    @property
    def metrics_names(self) -> list[str]:
        """The log keys of ``evaluate``'s list result: ``loss`` then the metrics."""
        return [m.name for m in self.metrics]

    # ------------------------------------------------------------------ steps (overridable)
    def _forward(self, x: Any) -> Any:
        if isinstance(x, (tuple, list)):
            return self(*x)
        if isinstance(x, dict):
            return self(**x)
        return self(x)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None) -> Tensor:
        """The compiled loss of a batch; also adds it to the ``loss`` log, weighted by the
        batch size (so the epoch's loss is the mean over samples, not over batches)."""
        if self.compiled_loss is None:
            raise RuntimeError("compute_loss: compile() was called without a loss; pass "
                               "loss=... or override train_step/test_step")
        if y is None:
            raise ValueError("compute_loss: the batch has no targets (y); give y to fit/"
                             "evaluate or make the data yield (inputs, targets) pairs")
        loss = self.compiled_loss(y_pred, y)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            shape = list(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"compute_loss: the loss must be a single number (a mean), got "
                             f"{shape}; use reduction='mean'")
        self._loss_tracker.update_state(float(loss._data),
                                        sample_weight=batch_size_of(y_pred if x is None else x))
        return loss

    def compute_metrics(self, x: Any, y: Any, y_pred: Any) -> dict[str, float]:
        """Update the compiled metrics with a batch and return every running result."""
        if self.compiled_metrics and y is None:
            raise ValueError("compute_metrics: the batch has no targets (y) to compare with")
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, float]:
        """``{name: result}`` of the loss tracker and every compiled metric."""
        return {m.name: float(m.result()) for m in self.metrics}

    def reset_metrics(self) -> None:
        """Reset the loss tracker and the metrics (done at each epoch's start)."""
        for m in self.metrics:
            m.reset_state()

    def train_step(self, batch: Any) -> dict[str, float]:
        """One optimization step on ``batch`` (an ``(x, y)`` pair); returns the logs.

        Override it for custom training (GANs, several optimizers, gradient clipping); call
        ``self.compute_loss`` and ``self.compute_metrics`` to keep the logs right.
        """
        x, y = unpack(batch, "train_step")
        y_pred = self._forward(x)
        loss = self.compute_loss(x, y, y_pred)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return self.compute_metrics(x, y, y_pred)

    def test_step(self, batch: Any) -> dict[str, float]:
        """Loss and metrics of one evaluation batch (runs in eval mode under no_grad)."""
        x, y = unpack(batch, "test_step")
        y_pred = self._forward(x)
        self.compute_loss(x, y, y_pred)
        return self.compute_metrics(x, y, y_pred)

    def predict_step(self, batch: Any) -> Any:
        """The model's output for one batch (inputs, or an (inputs, targets) pair)."""
        x, _ = unpack(batch, "predict_step")
        return self._forward(x)

    # ------------------------------------------------------------------ data
    def _batches(self, x: Any, y: Any, batch_size: Any, shuffle: bool, owner: str):
        if x is None:
            raise TypeError(f"{owner}: x is required (arrays, or a DataLoader of batches)")
        if is_array_input(x):
            if y is not None and not is_array_input(y):
                raise TypeError(f"{owner}: y must be an ember tensor or NumPy array (or a "
                                f"tuple/dict of them), got {type(y).__name__}")
            return ArrayBatches(x, y, check_batch_size(batch_size, owner), shuffle, owner)
        if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
            raise TypeError(f"{owner}: x must be an ember tensor, a NumPy array or an iterable "
                            f"of (inputs, targets) batches such as a DataLoader, got "
                            f"{type(x).__name__}")
        if y is not None:
            raise ValueError(f"{owner}: y must be None when x is a DataLoader or iterable of "
                             "batches (the batches already hold the targets)")
        if batch_size is not None:
            raise ValueError(f"{owner}: batch_size must be None when x is a DataLoader or "
                             "iterable of batches (the loader sets the batch size)")
        return IterableBatches(x, owner)

    def _validation_batches(self, validation_data: Any, batch_size: Any):
        vd = validation_data
        # (x_val, y_val): two arrays, or a tuple whose x is a structure of arrays; a list of
        # (x, y) pairs is an iterable of batches
        if isinstance(vd, (tuple, list)) and len(vd) == 2 and (
                all(is_array_input(v) and not isinstance(v, (tuple, list, dict)) for v in vd)
                or (isinstance(vd, tuple) and is_array_input(vd[0]))):
            return self._batches(vd[0], vd[1], batch_size, False, "fit(validation_data)")
        if isinstance(vd, (tuple, list)) and is_array_input(vd):
            raise ValueError("fit: validation_data must be (x_val, y_val) or a DataLoader, got "
                             f"a {type(vd).__name__} of {len(vd)} arrays")
        return self._batches(vd, None, None, False, "fit(validation_data)")

    # ------------------------------------------------------------------ fit
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list[Callback] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            *, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> History:
        """Train for ``epochs`` epochs; returns a ``History`` (``.history['loss']``, ...).

        ``x``/``y``: tensors or NumPy arrays (batched here, ``batch_size`` default 32,
        reshuffled every epoch when ``shuffle``), or ``x`` a DataLoader/iterable of
        ``(inputs, targets)`` batches (``y`` and ``batch_size`` then stay None; ``shuffle`` is
        the loader's business). ``validation_split`` holds out the LAST fraction of the arrays
        before shuffling; ``validation_data`` is ``(x_val, y_val)`` or a loader. ``verbose``:
        0 silent, 1 progress bar, 2 one line per epoch. ``epochs`` is the index of the last
        epoch, so ``initial_epoch=3, epochs=5`` runs two epochs (Keras' convention).
        """
        self._require_compiled("fit")
        verbose = _check_verbose(verbose, "fit")
        for name, value, low in (("epochs", epochs, 0), ("initial_epoch", initial_epoch, 0),
                                 ("validation_freq", validation_freq, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"fit: {name} must be an int >= {low}, got {value!r}")
        if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"fit: validation_split must be a float in [0, 1), got "
                             f"{validation_split!r}")
        train = self._batches(x, y, batch_size, shuffle, "fit")
        val = None
        if validation_data is not None:
            val = self._validation_batches(validation_data, validation_batch_size or batch_size)
        elif validation_split > 0:
            if not isinstance(train, ArrayBatches):
                raise ValueError("fit: validation_split works only with array inputs; with a "
                                 "DataLoader pass validation_data=<another loader>")
            train, val = train.split(validation_split, "fit")
            if validation_batch_size is not None:
                val.batch_size = check_batch_size(validation_batch_size, "fit")
        batches = Epochs(train, steps_per_epoch, "fit")
        val_epochs = None if val is None else Epochs(val, validation_steps, "fit(validation)")
        cbs = CallbackList(callbacks, add_history=True, add_progress_bar=verbose != 0,
                           model=self, verbose=verbose, epochs=epochs,
                           steps=num_batches(train, steps_per_epoch),
                           do_validation=val is not None)
        net = self._network()
        was_training = net.training
        self.stop_training = False
        logs: dict[str, Any] = {}
        cbs.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                net.train()
                batch_logs: dict[str, Any] = {}
                for step, batch in enumerate(batches):
                    cbs.on_train_batch_begin(step)
                    batch_logs = {k: _to_float(v) for k, v in self.train_step(batch).items()}
                    cbs.on_train_batch_end(step, batch_logs)
                    if self.stop_training:
                        break
                logs = self._result_or_logs(batch_logs)
                if val_epochs is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_loop(val_epochs, cbs)
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            net.train(was_training)
        cbs.on_train_end(logs)
        return self.history

    def _result_or_logs(self, logs: dict) -> dict:
        # As Keras: the metrics' results, unless a custom step logs keys of its own.
        results = self.get_metrics_result()
        if not logs or set(logs) == set(results):
            return results
        return dict(logs)

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: int | str = "auto", callbacks: list[Callback] | None = None,
                 return_dict: bool = False, *, steps: int | None = None) -> Any:
        """Loss and metrics over the whole of ``x``/``y`` (eval mode, no gradients).

        Returns the loss alone when no metrics were compiled, else ``[loss, *metrics]`` in
        ``metrics_names`` order, or a dict with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        verbose = _check_verbose(verbose, "evaluate")
        data = self._batches(x, y, batch_size, False, "evaluate")
        cbs = CallbackList(callbacks, add_progress_bar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=num_batches(data, steps))
        logs = self._evaluate_loop(Epochs(data, steps, "evaluate"), cbs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_loop(self, batches: Epochs, cbs: CallbackList) -> dict[str, float]:
        net = self._network()
        was_training = net.training
        net.eval()
        self.reset_metrics()
        cbs.on_test_begin()
        logs: dict[str, Any] = {}
        try:
            with no_grad():
                for step, batch in enumerate(batches):
                    cbs.on_test_batch_begin(step)
                    logs = {k: _to_float(v) for k, v in self.test_step(batch).items()}
                    cbs.on_test_batch_end(step, logs)
        finally:
            net.train(was_training)
        logs = self._result_or_logs(logs)
        cbs.on_test_end(logs)
        return logs

    # ------------------------------------------------------------------ predict
    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto",
                steps: int | None = None, callbacks: list[Callback] | None = None) -> Any:
        """The model's outputs for every sample of ``x``, concatenated along dim 0.

        Runs in eval mode under ``no_grad`` and restores the previous mode. Returns an ember
        Tensor (Keras returns NumPy; call ``.numpy()``), or a tuple/dict of them for a model
        with several outputs. Needs no ``compile``.
        """
        verbose = _check_verbose(verbose, "predict")
        data = self._batches(x, None, batch_size, False, "predict")
        cbs = CallbackList(callbacks, add_progress_bar=verbose != 0, model=self,
                           verbose=verbose, epochs=1, steps=num_batches(data, steps))
        net = self._network()
        was_training = net.training
        net.eval()
        outputs = []
        cbs.on_predict_begin()
        try:
            with no_grad():
                for step, batch in enumerate(Epochs(data, steps, "predict")):
                    cbs.on_predict_batch_begin(step)
                    out = self.predict_step(batch)
                    outputs.append(out)
                    cbs.on_predict_batch_end(step, {"outputs": out})
        finally:
            net.train(was_training)
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data yielded no batches")
        return _concat(outputs, "predict")

    # ------------------------------------------------------------------ weights
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters and persistent buffers, in ``state_dict`` order."""
        return [t._data.copy() for t in self._network().state_dict().values()]

    def set_weights(self, weights: list) -> None:
        """Load arrays in ``get_weights`` order (shapes are checked)."""
        keys = list(self._network().state_dict().keys())
        if len(weights) != len(keys):
            raise ValueError(f"set_weights: the model has {len(keys)} weight tensors, got "
                             f"{len(weights)} arrays")
        self._network().load_state_dict(dict(zip(keys, weights)))

