"""Random draws as an op, so that a traced function draws anew on every run.

``draw(kernel, generator, shape, dtype, *args)`` runs ``kernel(numpy_generator, *args)`` and
wraps the array. Eagerly that is all it does; inside ``ember.compile`` the registry records it
as a ``random`` node whose forward calls the kernel again on each run, drawing from the same
ember Generator object (so a compiled function consumes the generator exactly as the eager one
would, and seeded runs agree draw for draw). The node is marked ``stateful``: passes never
drop, merge or fold it.
"""

from __future__ import annotations

import numpy as np

from .. import random as _random
from ..random import integers_kernel, normal_kernel, permutation_kernel, uniform_kernel
from ..spec import TensorSpec
from ..tensor import Tensor
from .registry import Op, apply


def _draw_forward(*, kernel, generator, args, shape, dtype):
    return kernel(generator._rng, *args)


def _draw_infer(*, kernel, generator, args, shape, dtype):
    from ..dtypes import from_numpy_dtype

    return TensorSpec(tuple(shape), from_numpy_dtype(np.dtype(dtype)))


RANDOM = Op("random", _draw_forward, None, _draw_infer, differentiable=False)
RANDOM.stateful = True


def draw(kernel, generator, shape: tuple, dtype, *args) -> Tensor:
    """A tensor of shape ``shape`` and NumPy dtype ``dtype`` from ``kernel(rng, *args)``."""
    if generator is None:
        generator = _random.default_generator
    elif not isinstance(generator, _random.Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return apply(RANDOM, (), kernel=kernel, generator=generator, args=args,
                 shape=tuple(shape), dtype=np.dtype(dtype))


__all__ = ["RANDOM", "draw", "integers_kernel", "normal_kernel", "permutation_kernel",
           "uniform_kernel"]
