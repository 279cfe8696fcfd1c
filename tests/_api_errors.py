"""Shared by the bad-input audit (``test_public_api_errors*.py``): what a clean error is,
small inputs, PyTorch as the oracle of "wrong", and the known leaks in others' code.

A raised error is *clean* when (1) it is an ember error or a TypeError / ValueError /
IndexError / RuntimeError, (2) it is not NumPy's own (``numpy.exceptions.AxisError``, a
traceback ending inside NumPy), (3) its text has none of the phrases of a leaked low-level
error ("operands could not be broadcast", "'str' object has no attribute", ...) and (4) it
names the function or layer, or one of its arguments.
"""

from __future__ import annotations

import os
import re
import traceback
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# ------------------------------------------------------------------ what a clean error is

_NUMPY_DIR = os.path.dirname(np.__file__)
_LEAK_PHRASES = (
    "operands could not be broadcast", "could not broadcast", "cannot reshape array",
    "has no attribute", "unsupported operand type", "ufunc", "'numpy.ndarray'", "invalid literal",
    "is not subscriptable", "object is not iterable", "not supported between instances",
    "can't multiply sequence", "cannot be interpreted as an integer", "out of bounds for axis",
    "index out of range", "could not convert string", "dtype('", "positional argument",
    "unexpected keyword", "object is not callable", "is not callable",
)
_ALLOWED = (ember.EmberError, TypeError, ValueError, IndexError, RuntimeError)


def leak_reason(exc: BaseException, names: tuple) -> str | None:
    """Why ``exc`` is not a clean error (None when it is)."""
    text = f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, _ALLOWED):
        return f"not an ember/Type/Value/Index/RuntimeError: {text}"
    if type(exc).__module__.startswith("numpy"):
        return f"NumPy's own exception: {text}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames and frames[-1].filename.startswith(_NUMPY_DIR) and \
            not isinstance(exc, ember.EmberError):
        return f"raised inside NumPy ({frames[-1].filename}:{frames[-1].lineno}): {text}"
    low = str(exc).lower()
    for phrase in _LEAK_PHRASES:
        if phrase.lower() in low:
            return f"low-level message ({phrase!r}): {text}"
    if not any(n.lower() in low for n in names if n):
        return f"message names none of {sorted(set(names))}: {text}"
    return None


def assert_clean(call, names: tuple) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    reason = leak_reason(info.value, names)
    assert reason is None, reason
    return info.value


# ------------------------------------------------------------------ inputs

def f(*shape, dtype=np.float32):
    """Float tensor in (0.1, 0.9): valid for log, acos, probabilities, ..."""
    rng = np.random.default_rng(sum(shape) + len(shape))
    return ember.tensor((rng.random(shape) * 0.8 + 0.1).astype(dtype))


def i(*shape, high=2):
    rng = np.random.default_rng(len(shape))
    return ember.tensor(rng.integers(0, high, shape).astype(np.int64))


def b(*shape):
    return ember.tensor(np.arange(int(np.prod(shape))).reshape(shape) % 2 == 0)


def to_torch(v):
    """The same argument for PyTorch (tensors copied; containers mapped)."""
    if isinstance(v, ember.Tensor):
        return torch.from_numpy(np.array(v.numpy(), copy=True))
    if isinstance(v, (list, tuple)):
        return type(v)(to_torch(x) for x in v)
    if isinstance(v, dict):
        return {k: to_torch(x) for k, x in v.items()}
    return v


def swap_dtype(t: ember.Tensor) -> ember.Tensor:
    """The "wrong" dtype for ``t``: int64 for a float tensor, float32 for an int/bool one."""
    if t.dtype.is_floating_point:
        return ember.tensor((t.numpy() * 10).astype(np.int64))
    return ember.tensor(t.numpy().astype(np.float32))


def torch_rejects(fn, args, kwargs) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation notes on odd shapes
        try:
            fn(*to_torch(list(args)), **to_torch(dict(kwargs)))
        except Exception:  # noqa: BLE001 - any rejection by PyTorch makes the input "wrong"
            return True
    return False


# ------------------------------------------------------------------ leaks in others' files

# A leak in code this suite's authors may not change: a pattern of the problem text, where it
# is, and a minimal repro. A probe whose problems all match these is an xfail;
# ``test_known_leak_still_leaks`` fails once a repro is fixed, so the entry gets removed.
KNOWN_LEAKS: dict[str, tuple] = {
    # problem pattern: (where and why, minimal repro, what the repro's error says today)
}


def judge(what: str, problems: list) -> None:
    unknown = [p for p in problems
               if not any(re.search(rx, f"{what}: {p}") for rx in KNOWN_LEAKS)]
    assert not unknown, f"{what}:\n  " + "\n  ".join(unknown)
    if problems:
        pytest.xfail(f"{what}: only known leaks: " + "; ".join(problems))
