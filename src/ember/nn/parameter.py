"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``requires_grad`` defaults to True, as in PyTorch.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            arr = np.asarray(data)
        self._data = arr
        self._requires_grad = False
        self._node = None
        self.grad = None
        self._version = None
        self._base = None
        self._hooks = None
        self._retains = False
        if requires_grad:
            self.requires_grad = True  # validates the dtype is floating

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):
        return (_rebuild_parameter, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        out = Parameter(None, requires_grad=False)
        out._data = self._data.copy()
        out._requires_grad = self._requires_grad
        if self.grad is not None:
            from ..tensor import _make

            out.grad = _make(self.grad._data.copy())
        memo[id(self)] = out
        return out


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marker accepted by ``Module.__setattr__`` to register a buffer, like ``torch.nn.Buffer``."""

    def __init__(self, data, persistent: bool = True):
        super().__init__()
        self._data = data._data if isinstance(data, Tensor) else np.asarray(data)
        self.persistent = persistent
