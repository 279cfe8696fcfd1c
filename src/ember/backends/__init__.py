"""Kernel backends: which library runs ember's heavy kernels (convolution, pooling, RNNs).

- ``"numpy"`` (default): the kernels in ``ember/backend/``, always available.
- ``"onednn"``: ``ember/backends/onednn/``, the system oneDNN library through ctypes
  (``apt-get install libdnnl2``); float32 convolution and pooling run there, channels-last in
  memory; every case it does not cover falls back to NumPy.

``set_backend(name)`` / ``get_backend()`` (also ``ember.set_backend``); the environment variable
``EMBER_BACKEND`` sets the backend at import. Ops, autograd and graph mode never know which
backend ran: the dispatch happens inside the backend kernel functions.
``BackendError`` / ``BackendUnavailableError`` (in ``_errors.py``) report misuse.
"""

from __future__ import annotations

import os

from ._errors import BackendError, BackendUnavailableError, OneDNNError, OneDNNUnimplemented

BACKENDS = ("numpy", "onednn")
_current = ["numpy"]


def _check_name(name) -> str:
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise BackendError(f"set_backend: unknown backend {name!r}; expected one of "
                           f"{', '.join(repr(b) for b in BACKENDS)}")
    return name.lower()


def set_backend(name: str) -> None:
    """Select the kernel backend (``"numpy"`` or ``"onednn"``) for the whole process.

    Raises ``BackendError`` for an unknown name and ``BackendUnavailableError`` (saying why)
    when the backend's library cannot be loaded here."""
    name = _check_name(name)
    if name == "onednn":
        from . import onednn

        if not onednn.is_available():
            raise BackendUnavailableError(f"set_backend('onednn'): "
                                          f"{onednn.unavailable_reason()}")
    _current[0] = name


def get_backend() -> str:
    """The name of the selected kernel backend."""
    return _current[0]


def use_onednn() -> bool:
    """True when oneDNN is the selected backend (the kernels' dispatch test; cheap)."""
    return _current[0] == "onednn"


def _from_environment() -> None:
    name = os.environ.get("EMBER_BACKEND")
    if name:
        try:
            set_backend(name)
        except BackendError as e:
            raise BackendError(f"EMBER_BACKEND={name!r}: {e}") from None


_from_environment()

__all__ = ["set_backend", "get_backend", "use_onednn", "BACKENDS", "BackendError",
           "BackendUnavailableError", "OneDNNError", "OneDNNUnimplemented"]
