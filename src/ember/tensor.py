"""The Tensor: a NumPy array, a dtype, ``requires_grad`` and the node that made it.

This file holds the data model (attributes, conversions, printing, ``backward``). The math
methods (``+``, ``exp``, ``sum``, ``reshape``, indexing, ...) are bound onto the class by the
op families in ``ember/ops/`` next to the ops themselves, so a method and its op are read
together. Creation functions (``ember.tensor``, ``zeros``, ...) live in ``creation.py``.
"""

from __future__ import annotations

import numpy as np

from . import tracing as _tracing
from .dtypes import DType, as_dtype, from_numpy_dtype, get_default_dtype
from .errors import AutogradError, DTypeError, ShapeError, shape_str

_FROM_NP = {d.np: d for d in (from_numpy_dtype(t) for t in (
    np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
    np.float16, np.float32, np.float64))}


def _make(data: np.ndarray, requires_grad: bool = False, node=None) -> Tensor:
    """Wrap an ndarray without copying or checking (the fast internal constructor)."""
    t = _new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t._node = node
    t._grad = None
    t._version = None
    t._base = None
    t._hooks = None
    t._retains = False
    return t


_new = object.__new__


class Tensor:
    """A multi-dimensional array with autograd, in PyTorch's words.

    Build tensors with :func:`ember.tensor` (keeps the dtype of its data) rather than this
    constructor, which like ``torch.Tensor(data)`` always makes the default float dtype.
    """

    # ``_view_chain`` (the indices from ``_base`` to a view made by indexing) and ``_views``
    # (weak references a base keeps to its views, see ops/inplace_views.py) stay unset unless
    # used: only in-place ops read them, with getattr defaults, so _make pays nothing for them.
    __slots__ = ("_data", "_requires_grad", "_node", "_grad", "_version", "_base", "_hooks",
                 "_retains", "_view_chain", "_views", "__weakref__")

    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data=(), requires_grad: bool = False):
        arr = np.asarray(data.numpy() if isinstance(data, Tensor) else data)
        if arr.dtype.kind not in "biuf":
            raise DTypeError(f"Tensor(): cannot make a tensor from data of dtype {arr.dtype}")
        self._data = np.array(arr, dtype=get_default_dtype().np)
        self._requires_grad = False
        self._node = None
        self._grad = None
        self._version = None
        self._base = None
        self._hooks = None
        self._retains = False
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------------- attributes
    @property
    def data(self) -> Tensor:
        """The same values, detached from autograd (PyTorch's ``.data``)."""
        return _make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr

    @property
    def shape(self) -> tuple:
        return self._data.shape

    def size(self, dim: int | None = None):
        """The shape, or its size along ``dim``."""
        if dim is None:
            return self._data.shape
        from .ops.registry import normalize_dim

        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> DType:
        return _FROM_NP[self._data.dtype]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def nelement(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward`` (None until then)."""
        if _tracing.current is not None:
            _tracing.current.note_grad_owner(self)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # PyTorch's checks: a gradient of another shape or dtype would fail much later, in an
        # optimizer step, far from the assignment that caused it
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise DTypeError(f"assigned grad has data of a different type: the tensor is "
                                 f"{self.dtype.name}, the grad {value.dtype.name}")
            if value._data.shape != self._data.shape:
                raise ShapeError(f"assigned grad has data of a different size: the tensor has "
                                 f"shape {shape_str(self._data.shape)}, the grad "
                                 f"{shape_str(value._data.shape)}")
        if _tracing.current is not None:
            _tracing.current.note_grad_owner(self)
        self._grad = value

    @property
    def grad_fn(self):
        return self._node

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and not self.dtype.is_floating_point:
            raise AutogradError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not value and self._node is not None:
            raise AutogradError(
                "you can only change requires_grad flags of leaf variables; use .detach() "
                "to get a tensor that does not require grad"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    # ----------------------------------------------------------------- conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying array (shared memory, like PyTorch)."""
        if self._requires_grad and not force:
            raise AutogradError(
                "Can't call numpy() on a Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if _tracing.current is not None:
            raise _tracing.current.refuse_value_read("numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if _tracing.current is not None:
            raise _tracing.current.refuse_value_read("item()")
        if self._data.size != 1:
            raise ValueError(
                f"a Tensor with {self._data.size} elements cannot be converted to a Python "
                "number; item() needs exactly one element"
            )
        return self._data.item()

    def tolist(self):
        if _tracing.current is not None:
            raise _tracing.current.refuse_value_read("tolist()")
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if _tracing.current is not None:
            raise _tracing.current.refuse_value_read("using a tensor as a Python int")
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data.item())

    def __bool__(self) -> bool:
        if _tracing.current is not None:
            raise _tracing.current.refuse_value_read("`if`/`while`/`and`/`or` on a tensor")
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a Tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self._data.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    __hash__ = object.__hash__

    def __reduce__(self):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise AutogradError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol; use .detach().clone()"
            )
        out = _make(self._data.copy(), self._requires_grad)
        if self.grad is not None:
            out.grad = _make(self.grad._data.copy())
        memo[id(self)] = out
        return out

    def to(self, *args, dtype=None, copy: bool = False, **kwargs) -> Tensor:
        """Convert to ``dtype`` (device strings such as 'cpu' are accepted and ignored)."""
        target = dtype
        for a in args:
            if isinstance(a, Tensor):
                target = a.dtype
            elif isinstance(a, str) and a.split(":")[0] == "cpu":
                continue
            elif a is not None:
                target = a
        if target is not None:
            target = as_dtype(target)
            if target is not self.dtype:
                return _cast(self, target)  # a new array: no copy needed for copy=True
        return self.clone() if copy else self

    def type(self, dtype=None):
        if dtype is None:
            return f"ember.{self.dtype.name}"
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(as_dtype("float32"))

    def double(self) -> Tensor:
        return self.to(as_dtype("float64"))

    def half(self) -> Tensor:
        return self.to(as_dtype("float16"))

    def long(self) -> Tensor:
        return self.to(as_dtype("int64"))

    def int(self) -> Tensor:
        return self.to(as_dtype("int32"))

    def short(self) -> Tensor:
        return self.to(as_dtype("int16"))

    def bool(self) -> Tensor:
        return self.to(as_dtype("bool"))

    def byte(self) -> Tensor:
        return self.to(as_dtype("uint8"))

    def char(self) -> Tensor:
        return self.to(as_dtype("int8"))

    def cpu(self) -> Tensor:
        return self

    # ----------------------------------------------------------------- autograd
    def detach(self) -> Tensor:
        """The same data, cut from the graph; shares the version counter like PyTorch (and,
        like PyTorch, is not an autograd view: its ``_base`` is None)."""
        out = _make(self._data)
        out._version = self._version_box()
        return out

    def detach_(self) -> Tensor:
        self._node = None
        self._requires_grad = False
        return self

    def _version_box(self) -> list:
        box = self._version
        if box is None:
            box = self._version = [0]
        return box

    @property
    def _version_count(self) -> int:
        return self._version[0] if self._version else 0

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``ember.autograd``)."""
        from .autograd.engine import backward

        backward((self,), None if gradient is None else (gradient,),
                 retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a
        replacement gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise AutogradError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.hooks import RemovableHandle

        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._node.pre_hooks is None:
                self._node.pre_hooks = []
            hooks = self._node.pre_hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise AutogradError("can't retain_grad on a Tensor that has requires_grad=False")
        if self._node is not None:
            import weakref

            self._node.retained = weakref.ref(self)
            self._retains = True

    @property
    def retains_grad(self) -> bool:
        return self._retains and self._node is not None

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        from ._format import format_tensor

        return format_tensor(self)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return self.__repr__()


def _rebuild(data, requires_grad):
    return _make(data, requires_grad)


def _cast(x: Tensor, dtype: DType) -> Tensor:
    """``ops.operands.cast``, imported on first use (the ops import this module)."""
    global _cast
    from .ops.operands import cast

    _cast = cast
    return cast(x, dtype)
