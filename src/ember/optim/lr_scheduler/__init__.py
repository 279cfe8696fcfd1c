"""Learning-rate schedules, in PyTorch's words (``ember.optim.lr_scheduler``).

- ``base.py``: ``LRScheduler``, the base class (``step``, ``get_last_lr``, ``state_dict``)
- ``schedules.py``: ``LambdaLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``LinearLR``,
  ``CosineAnnealingLR`` (closed-form or chained schedules of the epoch count)
- ``one_cycle.py``: ``OneCycleLR`` (per-batch warm-up then anneal, with momentum cycling)
- ``plateau.py``: ``ReduceLROnPlateau`` (driven by a metric instead of the epoch count)

A scheduler writes ``group['lr']`` (a Python float); the optimizer copies it into its 0-d lr
tensor at the next ``step``, so schedules never force a graph-mode retrace.
"""

from .base import LRScheduler
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .schedules import CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiStepLR, StepLR

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
           "CosineAnnealingLR", "OneCycleLR", "ReduceLROnPlateau"]
