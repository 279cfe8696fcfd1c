"""Handles returned by ``register_hook``."""

from __future__ import annotations


class RemovableHandle:
    """``handle.remove()`` unregisters the hook; also a context manager."""

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        try:
            self._hooks.remove(self._hook)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False
