"""Anomaly detection: find the op whose backward produced NaN, and the forward line that
recorded it.

While enabled, every recorded node remembers the stack of the forward call that made it
(swapping ``Node.record`` for a recording variant, so the eager path pays nothing while
detection is off), and the engine checks each gradient a backward rule returns for NaN. An
error raised inside a backward rule gets the forward stack added as a note. Slow: for
debugging only, as in PyTorch.
"""

from __future__ import annotations

import os
import traceback
import weakref

import numpy as np

from ..errors import AutogradError, shape_str
from .grad_mode import _decorate
from .node import Node

enabled: bool = False
check_nan: bool = True

_plain_record = Node.__dict__["record"]
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_forward_stacks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _record_with_stack(cls, op, inputs, attrs, out_data, out_box=None):
    node = _plain_record.__func__(cls, op, inputs, attrs, out_data, out_box)
    # drop the frames of ember itself below the user's call
    stack = [f for f in traceback.extract_stack()[:-1]
             if not os.path.abspath(f.filename).startswith(_EMBER_DIR)]
    _forward_stacks[node] = "".join(traceback.format_list(stack[-8:]))
    return node


def _state() -> tuple:
    return enabled, check_nan


def _set(mode: bool, nan: bool) -> None:
    global enabled, check_nan
    enabled = bool(mode)
    check_nan = bool(nan)
    Node.record = classmethod(_record_with_stack) if enabled else _plain_record


def forward_stack(node) -> str:
    """Where the forward op of ``node`` was called, if it was recorded in anomaly mode."""
    stack = _forward_stacks.get(node)
    if stack is None:
        return "(forward stack not recorded: the op ran before anomaly detection was on)"
    return stack


def check_gradients(node, input_grads) -> None:
    """Raise if a gradient returned by ``node``'s backward contains NaN."""
    for i, g in enumerate(input_grads):
        data = getattr(g, "_data", None)
        if data is not None and data.dtype.kind == "f" and np.isnan(data).any():
            raise AutogradError(
                f"Function '{node.name}' returned nan values in its {i}th output (a gradient of "
                f"shape {shape_str(data.shape)}). The forward call that recorded it:\n"
                f"{forward_stack(node)}"
            )


def annotate(node, exc: BaseException) -> None:
    """Add the forward stack of ``node`` to an error raised by its backward."""
    exc.add_note(f"Error in the backward of {node.name}, recorded by this forward call:\n"
                 f"{forward_stack(node)}")


class detect_anomaly:
    """Context manager and decorator enabling anomaly detection (see the module doc).

    check_nan: also check every gradient for NaN (errors always carry the forward stack).
    """

    def __init__(self, check_nan: bool = True) -> None:
        self._check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = _state()
        _set(True, self._check_nan)

    def __exit__(self, *exc) -> bool:
        _set(*self._prev)
        return False

    def __call__(self, fn):
        nan = self._check_nan
        return _decorate(lambda: detect_anomaly(nan), fn)


class set_detect_anomaly:
    """Turn anomaly detection on or off: as a plain call, a context manager or a decorator."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = _state()
        self._args = (mode, check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        _set(*self._args)

    def __exit__(self, *exc) -> bool:
        _set(*self._prev)
        return False

    def __call__(self, fn):
        _set(*self._prev)  # used as a decorator: the call above must not have taken effect
        args = self._args
        return _decorate(lambda: set_detect_anomaly(*args), fn)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks gradients for NaN."""
    return enabled and check_nan
