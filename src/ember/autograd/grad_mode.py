"""The grad-mode flag: whether ops record autograd nodes.

``enabled`` is the one piece of global mutable state ember keeps (besides the default random
generator); ops read it as ``grad_mode.enabled``. Every context manager here also works as a
decorator (``@no_grad()`` or bare ``@no_grad``), including on generator functions, where
the mode applies while the generator's own code runs, not while its caller's does.
"""

from __future__ import annotations

import functools
import inspect
import sys

enabled: bool = True
inference: bool = False


def _decorate(make_ctx, fn):
    """Wrap ``fn`` so it runs inside a fresh context from ``make_ctx()``."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator_wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make_ctx():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make_ctx():
                            gen.close()
                        raise
                    except BaseException:
                        with make_ctx():
                            response = gen.throw(*sys.exc_info())
                    else:
                        with make_ctx():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_ctx():
            return fn(*args, **kwargs)

    return wrapper


class _GradModeContext:
    """Base of the grad-mode context managers; an instance is also a decorator."""

    _target: bool = True

    def __new__(cls, *args, **kwargs):
        # bare ``@no_grad`` (no parentheses): the class is called with the function itself
        if cls._allows_bare and len(args) == 1 and not kwargs and callable(args[0]) \
                and not isinstance(args[0], bool):
            return _decorate(cls, args[0])
        return super().__new__(cls)

    _allows_bare = True

    def __enter__(self) -> None:
        global enabled
        self._prev = enabled
        enabled = self._target

    def __exit__(self, *exc) -> bool:
        global enabled
        enabled = self._prev
        return False

    def __call__(self, fn):
        args = self._args()
        return _decorate(lambda: self.__class__(*args), fn)

    def _args(self) -> tuple:
        return ()

    def clone(self):
        """A new context manager with the same settings (PyTorch API)."""
        return self.__class__(*self._args())


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block (or the decorated function).

    Example::

        with ember.no_grad():
            w -= lr * w.grad
    """

    _target = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside the block, even within ``no_grad``."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: as a context manager, a decorator, or a plain call
    (``ember.set_grad_enabled(False)`` switches recording off until switched back)."""

    _allows_bare = False

    def __init__(self, mode: bool) -> None:
        global enabled
        self._target = bool(mode)
        self._prev = enabled
        enabled = self._target  # takes effect at the call, like PyTorch

    def __enter__(self) -> None:
        global enabled
        enabled = self._target

    def __call__(self, fn):
        global enabled
        enabled = self._prev  # used as a decorator: the call above must not have taken effect
        return super().__call__(fn)

    def _args(self) -> tuple:
        return (self._target,)


class inference_mode(_GradModeContext):
    """Like ``no_grad``, for code that will never be differentiated (PyTorch's inference
    mode). ``inference_mode(False)`` turns recording back on inside an inference block.

    Unlike PyTorch, tensors made inside are ordinary tensors: ember does not forbid using
    them in autograd afterwards (they simply have no history).
    """

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)
        self._target = not self._mode

    def __enter__(self) -> None:
        global inference
        self._prev_inference = inference
        inference = self._mode
        super().__enter__()

    def __exit__(self, *exc) -> bool:
        global inference
        inference = self._prev_inference
        return super().__exit__(*exc)

    def _args(self) -> tuple:
        return (self._mode,)


def is_grad_enabled() -> bool:
    """Whether ops currently record autograd nodes."""
    return enabled


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside ``inference_mode()``."""
    return inference
