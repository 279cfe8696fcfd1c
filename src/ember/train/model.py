"""``Model`` and ``Sequential``: nn.Modules that also have Keras' compile/fit/evaluate/predict.

Subclass ``Model`` instead of ``nn.Module`` (everything of nn.Module works unchanged: the
parameters, ``state_dict`` keys, hooks, ``summary``); ``Sequential`` is ``nn.Sequential``
with the same methods. For a module you already have, wrap it in ``ember.train.Trainer``.
"""

from __future__ import annotations

from collections import OrderedDict

from ..nn.containers import Sequential as _NNSequential
from ..nn.module import Module
from .engine import TrainingEngine

__all__ = ["Model", "Sequential"]


class Model(Module, TrainingEngine):
    """An ``nn.Module`` with ``compile``, ``fit``, ``evaluate`` and ``predict``.

    Example::

        class Net(ember.train.Model):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))

            def forward(self, x):
                return self.body(x)

        net = Net()
        net.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        history = net.fit(x, y, epochs=5, validation_split=0.2)
    """

    def _network(self) -> Module:
        return self


class Sequential(_NNSequential, Model):
    """``nn.Sequential`` with Keras' training methods; also takes a list of layers, as
    ``keras.Sequential([...])`` does.

    Example::

        model = ember.train.Sequential([nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    """

    def __init__(self, *layers) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            super().__init__(layers[0])
        else:
            super().__init__(*layers)
