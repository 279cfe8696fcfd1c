"""``Trainer``: Keras' compile/fit/evaluate/predict for a module you already have.

``nn`` cannot know about ``train`` (the layering rule), so a plain ``nn.Sequential`` has no
``fit``; one extra line gives it one, and leaves the module itself untouched::

    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    trainer = ember.train.Trainer(net)
    trainer.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trainer.fit(x, y, epochs=5)
    net.state_dict()  # the same keys as before: nothing was wrapped into the module
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..nn.module import Module
from ..nn.parameter import Parameter
from .engine import TrainingEngine

__all__ = ["Trainer"]


class Trainer(TrainingEngine):
    """Trains ``module`` with Keras' methods; ``trainer.module`` is the module itself.

    Calling the trainer runs the module, and ``parameters``, ``state_dict``,
    ``load_state_dict``, ``train``, ``eval`` and ``summary`` pass through to it, so callbacks
    and ``train_step`` overrides are written the same way for a ``Trainer`` and a ``Model``.
    """

    def __init__(self, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Trainer: module must be an ember.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module

    def _network(self) -> Module:
        return self.module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    @property
    def training(self) -> bool:
        """The module's training flag."""
        return self.module.training

    def train(self, mode: bool = True) -> Trainer:
        """Put the module in training mode (``mode=False``: eval mode)."""
        self.module.train(mode)
        return self

    def eval(self) -> Trainer:
        """Put the module in eval mode."""
        self.module.eval()
        return self

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The module's parameters."""
        return self.module.parameters(recurse)

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """The module's (name, parameter) pairs."""
        return self.module.named_parameters(prefix, recurse, remove_duplicate)

    def state_dict(self, *args: Any, **kwargs: Any) -> dict:
        """The module's ``state_dict`` (the same keys as without the trainer)."""
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> Any:
        """Load into the module."""
        return self.module.load_state_dict(state_dict, strict)

    def summary(self, input_shape: Any, dtype: Any = None, print_fn: Any = print) -> str:
        """The module's Keras-style summary table."""
        return self.module.summary(input_shape, dtype, print_fn)

    def __repr__(self) -> str:
        opt = type(self.optimizer).__name__ if self.optimizer is not None else None
        inner = repr(self.module).replace("\n", "\n  ")
        return (f"Trainer(\n  module={inner},\n  optimizer={opt}, loss={self.loss!r}, "
                f"metrics={self.metrics_names}\n)")
