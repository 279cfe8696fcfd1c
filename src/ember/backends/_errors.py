"""Errors of ember's optional backends (kept apart so every backend module can import them)."""

from __future__ import annotations

from ..errors import EmberError


class BackendError(EmberError, RuntimeError):
    """A backend that does not exist, cannot be loaded, or failed inside a native call."""


class BackendUnavailableError(BackendError):
    """The selected backend's library is missing or unusable here (the message says why)."""


class OneDNNError(BackendError):
    """A oneDNN C call returned an error status; the message names the call and the status."""

    def __init__(self, call: str, status: int, name: str, detail: str = ""):
        self.call, self.status, self.status_name = call, status, name
        extra = f" ({detail})" if detail else ""
        super().__init__(f"oneDNN call {call} failed with status {name} ({status}){extra}")


class OneDNNUnimplemented(OneDNNError):
    """oneDNN has no implementation for this case (shapes/layout/attributes); callers fall
    back to the NumPy kernel."""
