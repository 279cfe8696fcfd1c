"""The op-info table machinery: one entry per op drives every op test.

Each op family has a table module (``opinfo_elementwise.py``, ``opinfo_reduce.py``, ...)
exporting ``OPS``, a list of :class:`OpInfo`. ``test_op_table.py`` runs, for every entry and
every sample:

- forward against the reference (PyTorch when installed, else the NumPy reference);
- forward on non-contiguous (strided) copies of the inputs, which must give the same values;
- every primitive's ``infer`` rule against what its forward produced (``CHECK_INFER``);
- gradients against float64 central finite differences (``gradcheck``);
- gradients against PyTorch's for a random upstream gradient;
- second-order gradients against finite differences for ops marked ``gradgrad``.

A sample is ``Sample(args, kwargs)``: ``args`` holds NumPy arrays (become tensors) and plain
Python values (passed through). ``diff`` lists the positions of args to differentiate.
Samples should include broadcasting, 0-d and empty inputs where the op allows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    diff: tuple | None = None  # positions to differentiate; None = every float array
    name: str = ""

    def __repr__(self) -> str:
        shapes = [a.shape if isinstance(a, np.ndarray) else a for a in self.args]
        return f"Sample({self.name or shapes}, {self.kwargs})"


@dataclass
class OpInfo:
    """How to test one op.

    ``fn(*args, **kwargs)`` calls ember (args are ember tensors); ``torch_fn`` the same with
    torch tensors (None when PyTorch has no such op); ``np_fn`` a NumPy reference on arrays
    (used when torch is absent or as the only reference). ``samples(rng)`` lists Samples.
    """

    name: str
    fn: Callable
    samples: Callable
    torch_fn: Callable | None = None
    np_fn: Callable | None = None
    differentiable: bool = True
    gradgrad: bool = False
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_atol: float = 1e-4
    grad_rtol: float = 1e-3
    # ops whose outputs are not a function of values (random) or are not continuous
    skip_fd: bool = False
    noncontiguous: bool = True
    output_index: int | None = None  # for ops returning tuples: which output to check

    def __repr__(self) -> str:
        return self.name


def rand(rng, *shape, low=-2.0, high=2.0, dtype=np.float32) -> np.ndarray:
    return np.asarray(rng.uniform(low, high, size=shape).astype(dtype))


def positive(rng, *shape, low=0.3, high=2.0, dtype=np.float32) -> np.ndarray:
    return np.asarray(rng.uniform(low, high, size=shape).astype(dtype))


def away_from(rng, *shape, points=(0.0,), gap=0.15, low=-2.0, high=2.0, dtype=np.float32):
    """Uniform values kept ``gap`` away from ``points`` (kinks of relu, abs, floor...)."""
    x = rng.uniform(low, high, size=shape)
    for p in points:
        close = np.abs(x - p) < gap
        x = np.where(close, p + np.sign(x - p + 1e-12) * gap * 1.5, x)
    return np.asarray(x.astype(dtype))


def distinct(rng, *shape, dtype=np.float32) -> np.ndarray:
    """Values with no ties (for max/min/sort whose gradient picks one element)."""
    n = int(np.prod(shape)) if shape else 1
    vals = rng.permutation(n).astype(np.float64) * 0.37 - n * 0.15
    return np.asarray(vals.reshape(shape).astype(dtype))


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values in a strided (non-contiguous) view."""
    if a.ndim == 0 or a.size == 0:
        return a
    wide = np.repeat(a, 2, axis=-1)
    view = wide[..., ::2]
    assert not view.flags.c_contiguous or a.shape[-1] == 1
    return view
