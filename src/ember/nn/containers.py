"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from .module import Module
from .parameter import Parameter


def _index(idx: int, n: int, where: str) -> int:
    if not isinstance(idx, int):
        raise TypeError(f"{where} indices must be integers or slices, not {type(idx).__name__}")
    if not -n <= idx < n:
        raise IndexError(f"{where} index {idx} is out of range for length {n}")
    return idx % n


class _ModuleSequence(Module):
    """List behaviour shared by ``Sequential`` and ``ModuleList``: children named "0", "1", ...

    Deleting or inserting renumbers the children (as PyTorch does), so ``append`` never
    reuses the name of a child that is still there.
    """

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, idx: int, module: Module) -> None:
        name = list(self._modules)[_index(idx, len(self._modules), type(self).__name__)]
        self.add_module(name, module)

    def __delitem__(self, idx) -> None:
        names = list(self._modules)
        if isinstance(idx, slice):
            targets = names[idx]
        else:
            targets = [names[_index(idx, len(names), type(self).__name__)]]
        for n in targets:
            delattr(self, n)
        self._renumber(list(self._modules.values()))

    def _renumber(self, modules: list) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def _insert(self, index: int, module: Module) -> None:
        n = len(self._modules)
        if not isinstance(index, int) or not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index!r} is out of range "
                             f"for length {n}")
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)


class Sequential(_ModuleSequence):
    """Modules called in order, each on the previous one's output.

    ``Sequential(a, b, c)`` names children "0", "1", "2"; ``Sequential(OrderedDict(...))``
    uses the given names.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                if not isinstance(m, Module):
                    raise TypeError(
                        f"Sequential: argument {i} is a {type(m).__name__}, not a Module"
                    )
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        mods = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(mods[idx]))
        return mods[_index(idx, len(mods), "Sequential")][1]

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``; returns self (as PyTorch's does)."""
        self._insert(index, module)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules, registered so their parameters are found."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (returns None, as PyTorch's does)."""
        self._insert(index, module)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is a container; call its modules in your forward")


class ModuleDict(Module):
    """A dict of modules, registered so their parameters are found."""

    def __init__(self, modules: dict | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)

    def pop(self, key: str) -> Module:
        m = self._modules[key]
        delattr(self, key)
        return m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict is a container; call its modules in your forward")


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ..."""

    def __init__(self, values: Iterable[Parameter] | None = None):
        super().__init__()
        for p in values or ():
            self.append(p)

    def append(self, value: Parameter) -> ParameterList:
        self.register_parameter(str(len(self._parameters)), value)
        return self

    def __getitem__(self, idx: int) -> Parameter:
        params = list(self._parameters.values())
        return params[_index(idx, len(params), "ParameterList")]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())
