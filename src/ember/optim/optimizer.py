"""``Optimizer``: the base class every optimizer builds on.

A subclass writes its rule once, with ember ops, in two methods:

- ``init_state(param, group) -> dict``: the per-parameter state (moments, step count, ...)
  created the first time the parameter is updated;
- ``update(param, grad, state, lr, group)``: one step for one parameter, written with in-place
  ember ops (``param.add_``, ``exp_avg.lerp_``, ...). ``lr`` is a 0-d tensor.

The base class owns everything else: parameter groups, ``step`` (iteration, ``no_grad``, the
closure), ``zero_grad`` and ``state_dict``/``load_state_dict`` in PyTorch's layout.

Why ``lr`` is a tensor: a graph-mode capture of ``step`` reads the learning rate as a 0-d
tensor input, so a scheduler changing ``group['lr']`` (a Python float, as in PyTorch) updates
that tensor's value in place and the captured graph stays valid. The same holds for the step
count kept in ``state['step']``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad, no_grad
from ..dtypes import float64
from ..ops.elementwise import cast
from ..tensor import Tensor, _make


class _Required:
    """Marks a default every parameter group must give (``ember.optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _typename(x: Any) -> str:
    return "ember.Tensor" if isinstance(x, Tensor) else type(x).__name__


def check_number(owner: str, name: str, value: Any, low: float = 0.0,
                 text: str | None = None) -> None:
    """Raise ``ValueError`` naming ``owner`` unless ``value >= low`` (PyTorch's wording)."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) \
            or not value >= low:
        raise ValueError(f"{owner}: Invalid {text or name + ' value'}: {value!r} "
                         f"(expected {name} >= {low})")


def step_dtype(param: Tensor):
    """The dtype of ``state['step']``: float32 as in PyTorch (float64 for float64
    parameters). Bias corrections cast it to float64 before use."""
    return np.float64 if param._data.dtype == np.float64 else np.float32


def like_param(scalar: Tensor, param: Tensor) -> Tensor:
    """0-d ``scalar`` cast to ``param``'s dtype: an in-place update then runs NumPy's loop of
    the parameter's dtype, as PyTorch does (a float64 operand would compute in float64)."""
    if scalar._data.dtype == param._data.dtype:
        return scalar
    return cast(scalar, param.dtype)


def as_float64(scalar: Tensor) -> Tensor:
    """0-d ``scalar`` in float64, for scalar math such as ``1 - beta2 ** step`` that loses
    digits to cancellation in float32 (PyTorch does it on Python floats)."""
    return scalar if scalar._data.dtype == np.float64 else cast(scalar, float64)


class Optimizer:
    """Base class of optimizers: parameter groups, ``step``, ``zero_grad``, ``state_dict``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (parameter
    groups: ``{'params': [...], 'lr': 0.1, ...}``; options a group omits come from
    ``defaults``). Subclasses implement ``init_state`` and ``update`` (see the module
    docstring).
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        owner = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{owner}: params argument given to the optimizer should be an "
                            f"iterable of Tensors or dicts, but got {_typename(params)}")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{owner}: optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        self.defaults = defaults
        self.state: dict[Tensor, dict] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._lr_cache: dict[int, list] = {}  # id(group) -> [float lr, 0-d lr tensor]
        self._opt_called = False  # read by lr schedulers to warn about a wrong call order
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError(f"{owner}: params argument given to the optimizer should be an "
                            f"iterable of Tensors or dicts, but got {_typename(params)}") from None
        if len(param_groups) == 0:
            raise ValueError(f"{owner}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ the rule (subclasses)
    def init_state(self, param: Tensor, group: dict) -> dict:
        """The state of ``param`` before its first update (empty by default)."""
        return {}

    def update(self, param: Tensor, grad: Tensor, state: dict, lr: Tensor, group: dict) -> None:
        """Update ``param`` in place from ``grad``; ``lr`` is the group's rate as a 0-d tensor."""
        raise NotImplementedError(f"{type(self).__name__} does not implement update()")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. unfreezing layers mid-run)."""
        owner = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{owner}.add_param_group: param_group must be a dict, but got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{owner}.add_param_group: the group has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{owner}: optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
        if names and len(names) != len(tensors):
            raise ValueError(f"{owner}: all optimizer params should be with/without names. "
                             "Some param names are missing")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: optimizer can only optimize Tensors, but one of the "
                                f"params (index {i}) is {_typename(p)}")
            if not p.is_leaf:
                raise ValueError(f"{owner}: can't optimize a non-leaf Tensor (params index {i} "
                                 "was computed from other tensors; pass a leaf, e.g. "
                                 "tensor.detach().requires_grad_())")
        group = ParamGroup(param_group)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"{owner}: parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self.validate_group(group)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn(f"{owner}: optimizer contains a parameter group with duplicate "
                          "parameters; each will be updated once per occurrence",
                          stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in tensors):
            raise ValueError(f"{owner}: some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ValueError(f"{owner}: all optimizer param groups should be with/without "
                                 "names")
        self.param_groups.append(group)

    def validate_group(self, group: dict) -> None:
        """Check a group's options (called by ``add_param_group``); subclasses raise
        ``ValueError`` for bad values."""

    # ------------------------------------------------------------------ stepping
    def _lr_tensor(self, group: dict) -> Tensor:
        """The group's rate as a 0-d float64 tensor, cached and updated in place (a captured
        graph holding it sees a scheduler's new rate)."""
        lr = group["lr"]
        if isinstance(lr, Tensor):
            return lr
        entry = self._lr_cache.get(id(group))
        if entry is None:
            entry = self._lr_cache[id(group)] = [lr, _make(np.array(lr, dtype=np.float64))]
            if isinstance(group, ParamGroup):
                group.lr_entry = entry
        elif entry[0] != lr:
            entry[1]._data[...] = lr
            entry[0] = lr
        return entry[1]

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given
        (the closure is run with grad enabled, before the update)."""
        loss = None
        self._opt_called = True
        if closure is not None:
            with enable_grad():
                loss = closure()
        states = self.state
        with no_grad():
            for group in self.param_groups:
                lr = None
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    if lr is None:
                        lr = self._lr_tensor(group)
                    state = states.get(p)
                    if state is None:
                        state = states[p] = self.init_state(p, group)
                    self.update(p, grad, state, lr, group)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (``set_to_none=True``, the default) or zero them."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g._node is not None:
                        g.detach_()
                    else:
                        g._requires_grad = False
                    g.zero_()

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``, as
        in PyTorch; parameters are numbered in group order and state tensors are returned by
        reference (copy them, or save to disk, before stepping again if you need a snapshot)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                ids.append(index.setdefault(id(p), len(index)))
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if s:
                    state[index[id(p)]] = s
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and group options from ``state_dict()``'s output.

        The loaded tensors are copied (cast to the parameter's floating dtype, except
        ``step``), so the source optimizer and this one do not share memory.
        """
        owner = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise TypeError(f"{owner}.load_state_dict: expected a dict with keys 'state' and "
                            f"'param_groups', got {type(state_dict).__name__}")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}.load_state_dict: loaded state dict has a different number "
                             f"of parameter groups ({len(saved_groups)}; this optimizer has "
                             f"{len(self.param_groups)})")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{owner}.load_state_dict: loaded state dict contains a parameter group "
                    f"that doesn't match the size of optimizer's group (group {i}: "
                    f"{len(saved['params'])} saved parameters, {len(group['params'])} here)")
        id_map = {}
        for saved, group in zip(saved_groups, self.param_groups):
            id_map.update(zip(saved["params"], group["params"]))
        state: dict = {}
        for key, value in state_dict["state"].items():
            param = id_map.get(key)
            if param is None:
                state[key] = copy.deepcopy(value)
                continue
            state[param] = {k: _load_value(param, k, v) for k, v in value.items()}
        new_groups = []
        cache = {}
        for saved, group in zip(saved_groups, self.param_groups):
            saved = ParamGroup(saved)
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            # keep the group's 0-d lr tensor (with the loaded rate): a compiled step reads
            # that very tensor
            entry = self._lr_cache.get(id(group))
            if entry is not None:
                cache[id(saved)] = saved.lr_entry = entry
                saved["lr"] = saved["lr"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups
        self._lr_cache = cache

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        out = dict(self.__dict__)
        out["_lr_cache"] = {}  # keyed by id(group): meaningless in another process
        return out


class ParamGroup(dict):
    """A parameter group: a dict, whose ``'lr'``, once the optimizer has stepped, also lives
    in a 0-d float64 tensor that assigning ``group['lr']`` updates in place. A compiled
    training step reads that tensor (it does not run the optimizer's Python), so a
    scheduler's new rate reaches it without a retrace."""

    __slots__ = ("lr_entry",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lr_entry = None  # [float lr, 0-d lr tensor], shared with Optimizer._lr_cache

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        entry = self.lr_entry
        if key == "lr" and entry is not None and not isinstance(value, Tensor):
            entry[1]._data[...] = value
            entry[0] = value


def _load_value(param: Tensor, key: str, value: Any) -> Any:
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    data = value._data
    if key != "step" and param._data.dtype.kind == "f" and data.dtype.kind == "f":
        return _make(data.astype(param._data.dtype, copy=True))
    return _make(data.copy())
