"""One module per framework under test, all with the same small interface.

Each module exposes ``MODES: tuple[str, ...]``, ``available() -> (ok, reason)`` and
``build(workload_id, mode, weights, seed) -> Runner``; a Runner has ``step(x, y) -> float``
(one training step; the loss before the update) and ``predict(x) -> np.ndarray`` (logits).
Heavy frameworks are imported inside ``available``/``build``, never at module import.

- ``ember.py``: ember eager (``compiled`` raises ``ModeUnavailable`` until ``ember.compile``).
- ``torch.py``: the reference models (their state_dict names are the canonical weight names).
- ``tensorflow.py``, ``jax.py``: the TensorFlow/Keras and JAX versions.
- ``numpy_ref.py``: hand-written NumPy forward/backward/update, the floor for a NumPy framework.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["FRAMEWORKS", "ModeUnavailable", "load"]

FRAMEWORKS = ("ember", "torch", "tensorflow", "jax", "numpy")

# Module names tried in order for each framework (``numpy.py`` would read as the numpy package).
_MODULES = {
    "ember": ("ember",),
    "torch": ("torch", "torch_impl"),
    "tensorflow": ("tensorflow", "tensorflow_impl", "tf_impl"),
    "jax": ("jax", "jax_impl"),
    "numpy": ("numpy_ref",),
}


class ModeUnavailable(RuntimeError):
    """Raised by ``build`` when a (framework, mode) cannot run here; the message says why."""


def load(name: str) -> ModuleType:
    """Import the benchmark module for framework ``name`` (one of ``FRAMEWORKS``).

    Example: ``load("numpy").build("W1", "ref", weights, seed=0)``.
    """
    if name not in _MODULES:
        raise KeyError(f"unknown framework {name!r}; expected one of {FRAMEWORKS}")
    for module in _MODULES[name]:
        qualified = f"{__name__}.{module}"
        if importlib.util.find_spec(qualified) is not None:
            return importlib.import_module(qualified)
    raise ModuleNotFoundError(f"no benchmark module for {name!r} in {__name__} "
                              f"(looked for {', '.join(_MODULES[name])})")
