"""Optimizers and learning-rate schedules, in PyTorch's words (``ember.optim``).

- ``optimizer.py``: ``Optimizer``, the base class (parameter groups, ``step``, ``zero_grad``,
  ``state_dict``); a subclass writes only ``init_state`` and ``update`` (see docs/optim.md)
- ``sgd.py``: ``SGD``; ``adam.py``: ``Adam``, ``AdamW``; ``rmsprop.py``: ``RMSprop``;
  ``adagrad.py``: ``Adagrad``
- ``lr_scheduler/``: ``LRScheduler`` and the schedules (``StepLR``, ``OneCycleLR``,
  ``ReduceLROnPlateau``, ...), as ``ember.optim.lr_scheduler``
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
