"""Eager, define-by-run autograd.

- ``grad_mode.py``: the grad-mode flag; ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
  ``inference_mode``
- ``node.py``: ``Node``, one recorded op application (what ``tensor.grad_fn`` returns)
- ``engine.py``: ``backward`` and ``grad``, the reverse walk over nodes
- ``accumulate.py``: what happens to an arriving gradient: checks, hooks, ``.grad``
- ``function.py``: ``Function``, custom ops with user-written backward
- ``gradcheck.py``: ``gradcheck``/``gradgradcheck`` against finite differences
- ``hooks.py``: the handle ``register_hook`` returns
- ``anomaly_mode.py``: ``detect_anomaly``, finding the backward that produced NaN
"""

from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function, FunctionCtx
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "gradcheck", "gradgradcheck", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled"]
