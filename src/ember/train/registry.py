"""What ``compile`` accepts by name: optimizers, losses and metrics.

Names are case-insensitive. An unknown name raises ``ValueError`` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import optim
from ..nn.module import Module
from . import losses as L
from . import metrics as M

# Learning rates are Keras' defaults for these names (the string API is Keras'); every other
# hyperparameter is the ember.optim (PyTorch) default. docs/training.md has the table.
OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (optim.SGD, {"lr": 0.01}),
    "adam": (optim.Adam, {"lr": 0.001}),
    "adamw": (optim.AdamW, {"lr": 0.001}),
    "rmsprop": (optim.RMSprop, {"lr": 0.001}),
    "adagrad": (optim.Adagrad, {"lr": 0.001}),
}

LOSSES: dict[str, Callable[[], L.Loss]] = {
    "sparse_categorical_crossentropy": L.SparseCategoricalCrossentropy,
    "categorical_crossentropy": L.CategoricalCrossentropy,
    "binary_crossentropy": L.BinaryCrossentropy,
    "mse": L.MeanSquaredError,
    "mean_squared_error": L.MeanSquaredError,
    "mae": L.MeanAbsoluteError,
    "mean_absolute_error": L.MeanAbsoluteError,
}

# name -> factory(name, from_logits) ; from_logits is the compiled loss' hint (or None).
METRICS: dict[str, Callable[[str, bool], M.Metric]] = {
    "accuracy": lambda n, lg: M.AutoAccuracy(n, from_logits=lg),
    "acc": lambda n, lg: M.AutoAccuracy(n, from_logits=lg),
    "binary_accuracy": lambda n, lg: M.BinaryAccuracy(n, from_logits=lg),
    "categorical_accuracy": lambda n, lg: M.CategoricalAccuracy(n),
    "sparse_categorical_accuracy": lambda n, lg: M.SparseCategoricalAccuracy(n),
    "top_k_accuracy": lambda n, lg: M.AutoAccuracy(n, top_k=5),
    "top_k_categorical_accuracy": lambda n, lg: M.TopKCategoricalAccuracy(name=n),
    "sparse_top_k_categorical_accuracy": lambda n, lg: M.SparseTopKCategoricalAccuracy(name=n),
    "precision": lambda n, lg: M.Precision(name=n, from_logits=lg),
    "recall": lambda n, lg: M.Recall(name=n, from_logits=lg),
    "mse": lambda n, lg: M.MeanSquaredError(n),
    "mean_squared_error": lambda n, lg: M.MeanSquaredError(n),
    "mae": lambda n, lg: M.MeanAbsoluteError(n),
    "mean_absolute_error": lambda n, lg: M.MeanAbsoluteError(n),
}


def _unknown(kind: str, name: str, table: dict) -> ValueError:
    return ValueError(f"compile: unknown {kind} {name!r}; valid names are "
                      f"{', '.join(sorted(table))}")


def get_optimizer(optimizer: Any, module: Module) -> optim.Optimizer:
    """An ``ember.optim.Optimizer`` for ``module``'s parameters.

    ``optimizer`` is a name, an optimizer instance (used as is) or a callable taking the
    parameters (``ember.optim.SGD`` itself, ``functools.partial(ember.optim.SGD, lr=0.1)``).
    """
    if isinstance(optimizer, optim.Optimizer):
        own = {id(p) for p in module.parameters()}
        held = [p for g in optimizer.param_groups for p in g["params"]]
        if own and not any(id(p) in own for p in held):
            raise ValueError(f"compile: the {type(optimizer).__name__} given holds none of the "
                             "model's parameters (was it built for another model?)")
        return optimizer
    params = list(module.parameters())
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise _unknown("optimizer", optimizer, OPTIMIZERS)
        cls, defaults = OPTIMIZERS[key]
        if not params:
            raise ValueError(f"compile: the model has no parameters for optimizer {optimizer!r}")
        return cls(params, **defaults)
    if callable(optimizer):
        built = optimizer(params)
        if not isinstance(built, optim.Optimizer):
            raise TypeError("compile: a callable optimizer must return an ember.optim.Optimizer"
                            f" when given the parameters, got {type(built).__name__}")
        return built
    raise TypeError("compile: optimizer must be a name, an ember.optim.Optimizer or a callable "
                    f"taking the parameters, got {type(optimizer).__name__}")


class _KerasOrder:
    """Calls a Keras-order loss ``(y_true, y_pred)`` the engine's way ``(y_pred, y_true)``
    (a class, not a lambda, so a compiled model still pickles)."""

    def __init__(self, loss: L.Loss) -> None:
        self.loss = loss

    def __call__(self, y_pred, y_true):
        return self.loss(y_true, y_pred)


def get_loss(loss: Any) -> tuple[Callable | None, bool | None]:
    """``(fn(y_pred, y_true) -> 0-d tensor, logits hint)`` for ``compile(loss=...)``.

    Names give ``ember.train.losses`` objects; those take Keras' ``(y_true, y_pred)`` and are
    adapted here. nn loss modules and plain callables take PyTorch's ``(input, target)``.
    """
    if loss is None:
        return None, None
    if isinstance(loss, str):
        key = loss.lower()
        if key not in LOSSES:
            raise _unknown("loss", loss, LOSSES)
        loss = LOSSES[key]()
    if isinstance(loss, L.Loss):
        return _KerasOrder(loss), loss.from_logits
    if isinstance(loss, type) and issubclass(loss, (Module, L.Loss)):
        raise TypeError(f"compile: loss must be an instance, got the class {loss.__name__} "
                        f"(write {loss.__name__}())")
    if callable(loss):
        return loss, L.logits_hint(loss)
    raise TypeError("compile: loss must be a name, an ember.nn loss module or a callable, got "
                    f"{type(loss).__name__}")


def get_metrics(metrics: Any, logits: bool | None) -> list[M.Metric]:
    """Metric objects for ``compile(metrics=[...])``; names become the log keys."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, M.Metric)):
        metrics = [metrics]
    out: list[M.Metric] = []
    for m in metrics:
        if isinstance(m, str):
            key = m.lower()
            if key not in METRICS:
                raise _unknown("metric", m, METRICS)
            out.append(METRICS[key](m, bool(logits)))
        elif isinstance(m, M.Metric):
            out.append(m)
        elif isinstance(m, type) and issubclass(m, M.Metric):
            raise TypeError(f"compile: metrics must be instances, got the class {m.__name__} "
                            f"(write {m.__name__}())")
        else:
            raise TypeError("compile: each metric must be a name or an ember.train.metrics."
                            f"Metric, got {type(m).__name__}")
    names = [m.name for m in out]
    for name in names:
        if name == "loss" or names.count(name) > 1:
            raise ValueError(f"compile: two metrics would be logged as {name!r}; give them "
                             "distinct names (Metric(name=...))")
    return out

