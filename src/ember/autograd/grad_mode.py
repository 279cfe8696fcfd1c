"""The grad-mode flag: whether ops record autograd nodes.

``enabled`` is the one piece of global mutable state ember keeps (besides the default random
generator); ops read it as ``grad_mode.enabled``. The context managers also work as decorators.
"""

from __future__ import annotations

import functools

enabled: bool = True
inference: bool = False


class _GradModeContext:
    """Base of the grad-mode context managers; usable as a decorator too."""

    _target: bool = True

    def __enter__(self):
        global enabled
        self._prev = enabled
        enabled = self._target
        return self

    def __exit__(self, *exc):
        global enabled
        enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block (or the decorated function)."""

    _target = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside the block, even within ``no_grad``."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; like PyTorch it also takes effect when called bare."""

    def __init__(self, mode: bool):
        global enabled
        self._target = bool(mode)
        self._prev = enabled
        enabled = self._target  # PyTorch: set_grad_enabled(False) works as a plain call too

    def __enter__(self):
        return self

    def _args(self):
        return (self._target,)


class inference_mode(_GradModeContext):
    """Like ``no_grad``; tensors made inside never record history (PyTorch's inference mode)."""

    def __init__(self, mode: bool = True):
        self._mode = bool(mode)
        self._target = not self._mode

    def __enter__(self):
        global inference
        self._prev_inference = inference
        inference = self._mode
        return super().__enter__()

    def __exit__(self, *exc):
        global inference
        inference = self._prev_inference
        return super().__exit__(*exc)

    def _args(self):
        return (self._mode,)


def is_grad_enabled() -> bool:
    """Whether ops currently record autograd nodes."""
    return enabled


def is_inference_mode_enabled() -> bool:
    return inference
