"""``Module``: the base class of layers and models, with PyTorch's methods.

Parameters, buffers and submodules are registered by attribute assignment, as in PyTorch, and
also stored in the instance ``__dict__`` so that ``self.weight`` in a forward is a plain
attribute read (no ``__getattr__`` detour on the hot path).

An error raised inside a forward is re-raised once, at the outermost module call, with the
path of the innermost module that raised it: ``features.3 (Conv2d 32->64): expected ...``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from ..autograd import grad_mode
from ..autograd.hooks import RemovableHandle
from ..dtypes import as_dtype
from ..errors import EmberError, ShapeError, shape_str
from ..tensor import Tensor, _make
from .parameter import Buffer, Parameter

_call_stack: list = []  # modules whose forward is running, outermost first


class IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class for all layers and models; subclass it and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = []
        d["_forward_pre_hooks"] = []

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one")

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ did not call super().__init__() before use"
            )
        _call_stack.append(self)
        try:
            for hook in self._forward_pre_hooks:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
            out = self.forward(*args, **kwargs)
            for hook in self._forward_hooks:
                res = hook(self, args, out)
                if res is not None:
                    out = res
            return out
        except EmberError as err:
            if not hasattr(err, "_ember_module"):
                err._ember_module = self  # the innermost module that saw the error
            if len(_call_stack) == 1:  # outermost: name the culprit by its path
                raise _with_path(err, self) from None
            raise
        finally:
            _call_stack.pop()

    def describe(self) -> str:
        """Short description used in error messages, e.g. ``Conv2d 32->64``."""
        return type(self).__name__

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._drop(name)
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign submodules before Module.__init__() call")
            self._drop(name)
            d["_modules"][name] = value
        elif isinstance(value, Buffer):
            self._drop(name)
            self.register_buffer(name, _make(value._data), persistent=value.persistent)
            return
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(ember.nn.Parameter or None expected)"
                )
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(ember.nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(ember.Tensor or None expected)"
                )
            d["_buffers"][name] = value
        d[name] = value

    def _drop(self, name: str) -> None:
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            d[registry].pop(name, None)
        d["_non_persistent"].discard(name)

    def __delattr__(self, name: str) -> None:
        self._drop(name)
        del self.__dict__[name]

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None) under ``name``."""
        _check_name(name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be an ember.nn.Parameter or None, "
                f"got {type(param).__name__}"
            )
        self._drop(name)
        self._parameters[name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. running means).

        Persistent buffers are saved in ``state_dict``.
        """
        _check_name(name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: '{name}' must be an ember.Tensor or None, "
                f"got {type(tensor).__name__}"
            )
        self._drop(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        _check_name(name, self)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._drop(name)
        self._modules[name] = module
        self.__dict__[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in target.split(".") if target else ():
            if part not in mod._modules:
                raise AttributeError(
                    f"{type(mod).__name__} has no submodule '{part}' (in '{target}')"
                )
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter '{name}'")
        return mod._parameters[name]

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, c in self.named_children():
            yield c

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a parameter shared by two modules is listed once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ state
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (detached unless keep_vars)."""
        out = OrderedDict() if destination is None else destination
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip(".")):
            base = f"{mod_prefix}." if mod_prefix else ""
            for name, p in mod._parameters.items():
                if p is not None:
                    out[base + name] = p if keep_vars else p.detach()
            for name, b in mod._buffers.items():
                if b is not None and name not in mod._non_persistent:
                    out[base + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy tensors from ``state_dict`` into this module's parameters and buffers.

        Every problem is reported at once: missing keys, unexpected keys (when strict) and
        shape mismatches (always an error). Values are copied, not aliased.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                src = state_dict[key]
                src_shape = tuple(src.shape) if hasattr(src, "shape") else np.shape(src)
                if tuple(target.shape) != tuple(src_shape):
                    mismatched.append(
                        f"  {key}: checkpoint has shape {shape_str(src_shape)}, the model has "
                        f"{shape_str(target.shape)}"
                    )
        problems = []
        if mismatched:
            problems.append("size mismatch for:\n" + "\n".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise ShapeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n" + "\n".join(problems)
            )
        with grad_mode.no_grad():
            for key, target in own.items():
                if key in state_dict:
                    src = state_dict[key]
                    arr = src._data if isinstance(src, Tensor) else np.asarray(src)
                    target._data = np.array(arr, dtype=target._data.dtype, copy=True)
                    box = target._version_box()
                    box[0] += 1
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes & dtypes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (affects Dropout, BatchNorm) on this module and its children."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = _make(np.zeros_like(p.grad._data))

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, **kwargs) -> Module:
        """Convert floating-point parameters and buffers to ``dtype`` (devices: 'cpu' only)."""
        target = dtype
        for a in args:
            if isinstance(a, str) and a.split(":")[0] == "cpu":
                continue
            target = a
        if target is None:
            return self
        dt = as_dtype(target)
        if not dt.is_floating_point:
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dt}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.is_floating_point:
                t._data = t._data.astype(dt.np)
                if t.grad is not None:
                    t.grad = _make(t.grad._data.astype(dt.np))
        return self

    def float(self) -> Module:
        return self.to(dtype="float32")

    def double(self) -> Module:
        return self.to(dtype="float64")

    def half(self) -> Module:
        return self.to(dtype="float16")

    def cpu(self) -> Module:
        return self

    # ------------------------------------------------------------------ hooks
    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, args, output)``; a non-None return replaces the output."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, args)``; a non-None return replaces the args."""
        self._forward_pre_hooks.append(hook)
        return RemovableHandle(self._forward_pre_hooks, hook)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        head = f"{type(self).__name__}("
        if not lines:
            return head + extra + ")"
        body = ([extra] if extra else []) + lines
        return head + "\n  " + "\n  ".join(body) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()))

    def summary(self, input_shape, dtype=None, print_fn: Callable[[str], None] = print) -> str:
        """Print a Keras-style table of each layer's output shape and parameter count.

        ``input_shape`` excludes the batch dimension (a batch of 2 is run in eval mode,
        without gradients). Returns the printed text.
        """
        from .summary import summarize

        text = summarize(self, input_shape, dtype)
        if print_fn is not None:
            print_fn(text)
        return text

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)


def _check_name(name: str, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"attribute name must be a str, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f"attribute name can't contain '.' or be empty, got '{name}'")
    if "_parameters" not in module.__dict__:
        raise AttributeError("cannot register before Module.__init__() call")


def _with_path(err: EmberError, root: Module) -> EmberError:
    culprit = getattr(err, "_ember_module", root)
    path = None
    for name, mod in root.named_modules():
        if mod is culprit:
            path = name
            break
    label = culprit.describe()
    where = f"{path} ({label})" if path else label
    new = type(err)(f"{where}: {err}")
    new._ember_module = culprit
    return new
