"""The Keras-style high-level API: compile, fit, evaluate, predict, callbacks, metrics.

Two ways in (docs/training.md explains the choice):
- ``model.py``: ``Model``, an ``nn.Module`` subclass to inherit from instead of ``nn.Module``,
  and ``Sequential`` (``nn.Sequential`` + the training methods, takes a list like Keras)
- ``trainer.py``: ``Trainer(module)``, the same methods for a module you already have

Where things live:
- ``engine.py``: ``TrainingEngine``, the one implementation of compile/fit/evaluate/predict
  and the overridable ``train_step``/``test_step``/``predict_step``
- ``data_adapter.py``: arrays -> shuffled batches, DataLoaders/iterables, validation_split
- ``registry.py``: optimizers, losses and metrics by name; ``losses.py``: Keras-named losses
  (cross entropies on logits by default); ``metrics.py``: stateful metrics
- ``callbacks.py``: ``Callback``, ``CallbackList``, ``LambdaCallback``, ``TerminateOnNaN``;
  ``history.py``: ``History``; ``progress.py``: ``ProgressBar``;
  ``callbacks_monitor.py``: ``EarlyStopping``, ``ReduceLROnPlateau``,
  ``LearningRateScheduler``; ``callbacks_io.py``: ``ModelCheckpoint``, ``CSVLogger``,
  ``TensorBoard``
"""

from . import callbacks, losses, metrics
from .callbacks import Callback, CallbackList, LambdaCallback, TerminateOnNaN
from .callbacks_io import CSVLogger, ModelCheckpoint, TensorBoard
from .callbacks_monitor import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau
from .engine import TrainingEngine
from .history import History
from .model import Model, Sequential
from .progress import ProgressBar
from .trainer import Trainer

__all__ = ["Model", "Sequential", "Trainer", "TrainingEngine", "History", "Callback",
           "CallbackList", "LambdaCallback", "TerminateOnNaN", "ProgressBar", "EarlyStopping",
           "ReduceLROnPlateau", "LearningRateScheduler", "ModelCheckpoint", "CSVLogger",
           "TensorBoard", "callbacks", "losses", "metrics"]
