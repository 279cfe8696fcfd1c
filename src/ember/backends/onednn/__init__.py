"""The optional oneDNN backend: convolution and pooling kernels from the system oneDNN library
(``libdnnl.so.2``, Debian/Ubuntu package ``libdnnl2``) through ctypes, no compiled code of ours.

- ``_lib.py``   loading, engine/stream, memory descriptors, ``Primitive``, the primitive cache
- ``_v2.py``    the oneDNN 2.x C API layer (enum values, descriptor creation)
- ``conv.py``   conv2d forward, backward-data, backward-weights(+bias), channels-last
- ``pool.py``   max/avg pooling forward and backward
- ``rnn.py``    LSTM/GRU (written separately)

``is_available()`` says whether the library loads here; ``unavailable_reason()`` why not.
Kernels are selected through ``ember.set_backend("onednn")``; ``ember/backend/conv.py`` and
``pool.py`` route to this package and fall back to NumPy for cases it does not cover.
"""

from __future__ import annotations

from . import _lib


def is_available() -> bool:
    """True when the oneDNN library can be loaded in this process (never raises)."""
    return _lib.available()


def unavailable_reason() -> str | None:
    """Why oneDNN cannot be used here (None when it can)."""
    return _lib.unavailable_reason()


def version() -> tuple:
    """``(major, minor, patch)`` of the loaded oneDNN (BackendUnavailableError if absent)."""
    return _lib.version()


__all__ = ["is_available", "unavailable_reason", "version"]
