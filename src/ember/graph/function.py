"""``ember.compile``: the cache of traced graphs, its guards, and retrace logging.

A call of a compiled function computes a *key* from what the trace depended on: every tensor
argument's shape, dtype and requires_grad; every other argument's value (Python numbers,
strings, None, tuples of them) or identity (other objects); grad mode; and for each module the
function uses (passed as an argument, captured in a closure or a global it names) its
train/eval flags and which parameter tensors it holds. Each entry of the cache also checks the
shapes of the outside tensors its graph reads (parameters, optimizer state, ``.grad``).

A miss traces again and says why, naming the guard that failed with its old and new value,
when ``verbose=True`` or ``EMBER_LOG=recompiles``; after ``max_retraces`` retraces of one
function a warning says so, once, with the last reason.
"""

from __future__ import annotations

import builtins
import inspect
import logging
import os
import sys
import time
import warnings

from .. import tracing
from ..autograd import grad_mode
from ..errors import EmberError, GraphError
from ..tensor import Tensor, _make
from . import passes as _passes
from .executor import Executor
from .memory import MemoryPlan, plan_memory
from .passes import fuse as _fuse
from .passes import multi_tensor as _multi_tensor
from .trace import _EMBER_DIR, Tracer, location_of_traceback

log = logging.getLogger("ember.compile")

_ATOMIC = (int, float, bool, str, bytes, type(None), complex)


def _log_enabled(verbose: bool) -> bool:
    return verbose or "recompiles" in os.environ.get("EMBER_LOG", "").split(",")


# ---------------------------------------------------------------------- pytrees


def flatten(obj, path: str, tensors: list, key: list):
    """Walk ``obj``; collect tensors; append ``(path, guard)`` pairs; return a rebuild spec."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        key.append((path, ("tensor", obj._data.shape, obj._data.dtype.name,
                           obj._requires_grad)))
        return ("T",)
    if isinstance(obj, (list, tuple)):
        specs = [flatten(x, f"{path}[{i}]", tensors, key) for i, x in enumerate(obj)]
        key.append((path, (type(obj).__name__, len(obj))))
        return ("seq", type(obj), specs)
    if isinstance(obj, dict):
        keys = list(obj)
        specs = [flatten(obj[k], f"{path}[{k!r}]", tensors, key) for k in keys]
        key.append((path, ("dict", tuple(keys))))
        return ("dict", keys, specs)
    if isinstance(obj, _ATOMIC):
        key.append((path, ("value", type(obj).__name__, obj)))
        return ("const", obj)
    key.append((path, ("object", type(obj).__name__, id(obj))))
    return ("const", obj)


def rebuild(spec, arrays: list, pos: list):
    kind = spec[0]
    if kind == "T":
        arr = arrays[pos[0]]
        pos[0] += 1
        return _make(arr)
    if kind == "seq":
        items = [rebuild(s, arrays, pos) for s in spec[2]]
        typ = spec[1]
        return typ(*items) if hasattr(typ, "_fields") else typ(items)
    if kind == "dict":
        return {k: rebuild(s, arrays, pos) for k, s in zip(spec[1], spec[2])}
    return spec[1]


def _result_tensors(obj, out: list):
    """Flatten a traced function's result: tensors into ``out``, returns the rebuild spec."""
    if isinstance(obj, Tensor):
        out.append(obj)
        return ("T",)
    if isinstance(obj, (list, tuple)):
        return ("seq", type(obj), [_result_tensors(x, out) for x in obj])
    if isinstance(obj, dict):
        keys = list(obj)
        return ("dict", keys, [_result_tensors(obj[k], out) for k in keys])
    return ("const", obj)


# ---------------------------------------------------------------------- modules in reach


def _modules_in_reach(fn, args, kwargs) -> tuple:
    """Modules and optimizers the function can see: arguments, ``self``, closure cells,
    globals it names, and one level of attributes of plain objects among those (a trainer
    object holding ``self.model`` and ``self.optimizer``)."""
    import types

    from ..nn.module import Module
    from ..optim.optimizer import Optimizer

    modules: dict = {}
    optimizers: dict = {}

    def add(obj, depth: int = 0):
        if isinstance(obj, Module):
            modules.setdefault(id(obj), obj)
        elif isinstance(obj, Optimizer):
            optimizers.setdefault(id(obj), obj)
        elif depth == 0 and hasattr(obj, "__dict__") and not isinstance(
                obj, (type, types.ModuleType, types.FunctionType, types.MethodType)):
            for value in list(vars(obj).values()):
                add(value, 1)

    candidates = list(args) + list(kwargs.values())
    target = fn
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        candidates.append(owner)
        target = fn.__func__
    code = getattr(target, "__code__", None)
    if code is not None:
        for cell in getattr(target, "__closure__", None) or ():
            try:
                candidates.append(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        glob = getattr(target, "__globals__", {})
        candidates += [glob[name] for name in code.co_names if name in glob]
    for c in candidates:
        add(c)
    return list(modules.values()), list(optimizers.values())


def _module_guards(modules: list, optimizers: list) -> list:
    key = []
    for i, m in enumerate(modules):
        name = f"module {type(m).__name__}#{i}"
        key.append((f"{name} train/eval", tuple(sub.training for sub in m.modules())))
        key.append((f"{name} parameters", tuple(id(p) for p in m.parameters())))
    for i, opt in enumerate(optimizers):
        # an optimizer's first step creates its state (SGD's momentum buffer is the first
        # gradient): the trace of that step is not the trace of the next ones
        state = opt.state
        key.append((f"optimizer {type(opt).__name__}#{i} state",
                    tuple(len(state.get(p, ())) for g in opt.param_groups for p in g["params"])))
        # which tensors hold it: load_state_dict or ``state[p]["exp_avg"] = t`` puts new ones
        # there, which a graph reading the old ones would never see
        key.append((f"optimizer {type(opt).__name__}#{i} state tensors",
                    tuple(id(t) for g in opt.param_groups for p in g["params"]
                          for t in state.get(p, {}).values())))
    return key


def _describe(guard) -> str:
    if isinstance(guard, tuple) and guard and guard[0] == "tensor":
        _, shape, dtype, rg = guard
        text = f"tensor {dtype}[{', '.join(map(str, shape))}]"
        return text + (" requires_grad" if rg else "")
    if isinstance(guard, tuple) and guard and guard[0] == "value":
        return repr(guard[2])
    if isinstance(guard, tuple) and guard and guard[0] == "object":
        return f"{guard[1]} object at 0x{guard[2]:x}"
    return repr(guard)


def explain_miss(old: list, new: list) -> str:
    """Which guard differs between two keys, with its old and new value."""
    old_d = dict(old)
    for name, guard in new:
        if name not in old_d:
            return f"{name} is new ({_describe(guard)})"
        if old_d[name] != guard:
            return f"{name} changed: {_describe(old_d[name])} -> {_describe(guard)}"
    for name, _ in old:
        if name not in dict(new):
            return f"{name} is gone"
    return "the guards are equal (a cache entry was evicted)"


# ---------------------------------------------------------------------- the compiled callable


class _Entry:
    __slots__ = ("graph", "executor", "out_spec", "state_checks", "key", "plan", "trace_ms")

    def check_states(self) -> str | None:
        for t, shape, dtype, is_grad in self.state_checks:
            if is_grad == "unset":  # traced with .grad None: it set .grad, never added to it
                if t._grad is not None:
                    return "a .grad the graph sets (it was None when traced) is now a tensor"
                continue
            data = t._grad if is_grad else t
            if data is None:
                return f"{'.grad of ' if is_grad else ''}a tensor read by the graph is None"
            arr = data._data
            if arr.shape != shape or arr.dtype != dtype:
                what = "the .grad of a tensor" if is_grad else "a tensor"
                return (f"{what} the graph reads changed from {dtype.name}{list(shape)} to "
                        f"{arr.dtype.name}{list(arr.shape)}")
        return None


class CompiledFunction:
    """What ``ember.compile(fn)`` returns: call it like ``fn``.

    Attributes: ``graph`` (the optimized IR of the last call's entry, printable), ``code``
    (the generated executor source), ``memory_plan()`` (planned peak memory and the largest
    buffers), ``traces`` (how many times the function was traced), ``last_reason`` (why the
    last retrace happened).
    """

    def __init__(self, fn, *, verbose: bool = False, max_retraces: int = 8,
                 optimize: bool = True, backend: str = "ember", name: str | None = None):
        if not callable(fn):
            raise TypeError(f"ember.compile expects a function or a Module, got "
                            f"{type(fn).__name__}")
        if backend not in ("ember", "onnxruntime"):
            raise ValueError(f"ember.compile: unknown backend {backend!r} (expected 'ember' "
                             "or 'onnxruntime')")
        if not isinstance(max_retraces, int) or max_retraces < 1:
            raise ValueError(f"ember.compile: max_retraces must be a positive int, got "
                             f"{max_retraces!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        self.verbose = verbose
        self.max_retraces = max_retraces
        self.optimize = optimize
        self.backend = backend
        self._cache: dict = {}
        self._last: _Entry | None = None
        self._modules = None
        self._optimizers: list = []
        self._warned = False
        self.traces = 0
        self.last_reason: str | None = None
        try:
            self._signature = inspect.signature(fn)
        except (TypeError, ValueError):
            self._signature = None
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    # ------------------------------------------------------------------ calling
    def _bind(self, args, kwargs):
        names = []
        if self._signature is not None:
            try:
                bound = self._signature.bind(*args, **kwargs)
                names = list(bound.arguments)
            except TypeError:
                names = []
        items = []
        for i, a in enumerate(args):
            items.append((names[i] if i < len(names) else f"arg{i}", a))
        for k, a in kwargs.items():
            items.append((k, a))
        return items

    def _key(self, args, kwargs):
        tensors: list = []
        key: list = []
        for name, a in self._bind(args, kwargs):
            flatten(a, f"argument {name!r}", tensors, key)
        key.append(("grad mode", grad_mode.enabled))
        if self._modules is None:
            self._modules, self._optimizers = _modules_in_reach(self.fn, args, kwargs)
        key.extend(_module_guards(self._modules, self._optimizers))
        return tensors, key

    def __call__(self, *args, **kwargs):
        if tracing.current is not None:  # called inside another trace: inline it
            return self.fn(*args, **kwargs)
        tensors, key = self._key(args, kwargs)
        hkey = _hashable(key)
        entry = self._cache.get(hkey)
        reason = None
        if entry is not None:
            reason = entry.check_states()
            if reason is not None:
                entry = None
        elif self._last is not None:
            reason = explain_miss(self._last.key, key)
        if entry is None:
            return self._trace_and_run(args, kwargs, tensors, key, hkey, reason)
        self._last = entry
        outs = entry.executor([t._data for t in tensors], tensors)
        return rebuild(entry.out_spec, outs, [0])

    def _trace_and_run(self, args, kwargs, tensors, key, hkey, reason):
        if self.traces:
            self.last_reason = reason
            if _log_enabled(self.verbose):
                log.warning("ember.compile: retracing %s because %s", self.name, reason)
            if self.traces >= self.max_retraces and not self._warned:
                self._warned = True
                warnings.warn(
                    f"ember.compile: {self.name} has been traced {self.traces + 1} times "
                    f"(max_retraces={self.max_retraces}); the last retrace because {reason}. "
                    "Each retrace costs a trace and a compile: pass changing Python numbers "
                    "as 0-d tensors, and keep input shapes fixed (pad the last batch or drop "
                    "it).", stacklevel=3)
        start = time.perf_counter()
        tracer = Tracer(self.name)
        for t in tensors:
            tracer.add_input(t)
        outer = tracing.current
        tracing.current = tracer
        watch = _SideEffectWatch(tracer, _outside_containers(self.fn, args, kwargs,
                                                             self._modules))
        try:
            with watch:
                result = self.fn(*args, **kwargs)
        except EmberError as err:
            raise _at_user_line(err) from None
        finally:
            tracing.current = outer
        out_tensors: list = []
        out_spec = _result_tensors(result, out_tensors)
        graph = tracer.finish(out_tensors)
        entry = _Entry()
        entry.key = key
        if self.backend == "onnxruntime":
            # ONNX Runtime runs its own graph optimizations: lower the graph as traced
            entry.graph = graph
            entry.plan = None
            entry.executor = _OnnxRuntimeRunner(graph, self.name)
            return self._finish_trace(entry, graph, out_spec, start, hkey, result)
        if self.optimize:
            graph = _passes.optimize(graph)
            graph = _fuse.fuse_elementwise(graph)
            graph = _multi_tensor.merge_updates(graph)
        entry.graph = graph
        entry.plan = plan_memory(graph) if self.optimize else None
        entry.executor = Executor(graph, entry.plan)
        return self._finish_trace(entry, graph, out_spec, start, hkey, result)

    def _finish_trace(self, entry, graph, out_spec, start, hkey, result):
        entry.out_spec = out_spec
        checks = []
        for v in graph.values:
            if v.kind == "state" and v.users or v.kind == "state" and v in graph.live_values():
                checks.append((v.tensor, v.shape, v.dtype, False))
            elif v.kind == "grad" and (v.users or v in graph.live_values()):
                checks.append((v.tensor, v.shape, v.dtype, True))
        checks += [(t, None, None, "unset") for t in getattr(graph, "grads_assumed_none", ())]
        entry.state_checks = checks
        entry.trace_ms = (time.perf_counter() - start) * 1e3
        self._cache[hkey] = entry
        self._last = entry
        self.traces += 1
        # the trace ran the function eagerly: its results are this call's results; detached,
        # like the results of later calls
        return _detach_result(result)

    # ------------------------------------------------------------------ inspection
    def _entry(self) -> _Entry:
        if self._last is None:
            raise GraphError(f"{self.name} has not been called yet: there is no graph until "
                             "the first call traces it")
        return self._last

    @property
    def graph(self):
        """The optimized graph of the most recent call (printable IR)."""
        return self._entry().graph

    @property
    def code(self) -> str:
        """The generated executor source of the most recent call's graph."""
        return self._entry().executor.source

    def memory_plan(self) -> MemoryPlan:
        """Planned memory of the most recent call's graph, known before it runs."""
        entry = self._entry()
        return entry.plan if entry.plan is not None else plan_memory(entry.graph)

    @property
    def trace_ms(self) -> float:
        """Milliseconds the last trace (trace + passes + code generation) took."""
        return self._entry().trace_ms

    def __repr__(self) -> str:
        return f"<ember.compile of {self.name}: {self.traces} trace(s)>"


class CompiledModule(CompiledFunction):
    """``ember.compile(module)``: calls are compiled; attributes are the module's."""

    def __init__(self, module, **options):
        super().__init__(module, name=type(module).__name__, **options)
        self._modules, self._optimizers = [module], []
        self.module = module

    def _bind(self, args, kwargs):
        return super()._bind(args, kwargs)

    def __getattr__(self, name):
        return getattr(self.__dict__["module"], name)


def _outside_containers(fn, args, kwargs, modules) -> set:
    """ids of lists and dicts that exist outside the function: arguments, closure cells,
    globals it names, module attributes. Appending to one of them while tracing is a side
    effect later calls will not repeat."""
    found: list = list(args) + list(kwargs.values())
    target = getattr(fn, "__func__", fn)
    for cell in getattr(target, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:
            pass
    code = getattr(target, "__code__", None)
    if code is not None:
        glob = getattr(target, "__globals__", {})
        found += [glob[n] for n in code.co_names if n in glob]
    for m in modules or ():
        for sub in m.modules():
            found += list(vars(sub).values())
    return {id(x) for x in found if isinstance(x, (list, dict, set))}


class _SideEffectWatch:
    """While tracing, warn (once per line) about ``print`` and about appending to a list
    from outside: they happen on the tracing call only."""

    _MUTATORS = frozenset(("append", "extend", "insert", "add", "update", "setdefault"))

    def __init__(self, tracer, containers: set):
        self.tracer = tracer
        self.containers = containers
        self.previous = None

    def __enter__(self):
        self.previous = sys.getprofile()
        if self.previous is None:  # never replace a profiler or debugger the user runs
            sys.setprofile(self._event)
        return self

    def __exit__(self, *exc):
        if self.previous is None:
            sys.setprofile(None)

    def _event(self, frame, event, arg):
        if event != "c_call":
            return
        name = getattr(arg, "__name__", "")
        if name == "print" and getattr(arg, "__self__", None) is builtins:
            what = "print()"
        elif name in self._MUTATORS and id(getattr(arg, "__self__", None)) in self.containers:
            what = f"{type(arg.__self__).__name__}.{name}() on a container from outside"
        else:
            return
        filename = frame.f_code.co_filename
        if filename.startswith(_EMBER_DIR):
            return
        where = f"{filename}:{frame.f_lineno}"
        if where in self.tracer.side_effects_warned:
            return
        self.tracer.side_effects_warned.add(where)
        warnings.warn_explicit(
            f"{what} runs only while ember.compile traces the function, not on later calls "
            "(the compiled graph has no Python side effects); return the value instead",
            UserWarning, filename, frame.f_lineno)


class _OnnxRuntimeRunner:
    """``backend="onnxruntime"``: the traced forward graph exported to ONNX and run by an
    ONNX Runtime session. Parameters are baked into the model, so the session is rebuilt
    when one of them changed since (its version counter moved, or its array was replaced):
    never a stale weight."""

    def __init__(self, graph, name: str):
        from ..onnx.runtime import OnnxRuntimeExecutor, is_available

        if not is_available():
            raise GraphError("ember.compile(..., backend='onnxruntime') needs onnxruntime: "
                             "pip install onnxruntime (or ember[onnx])")
        if graph.writebacks:
            raise GraphError(
                f"ember.compile(..., backend='onnxruntime'): {name} updates parameters, "
                "buffers or gradients (a training step or a module in train mode with "
                "BatchNorm); ONNX Runtime runs forward-only graphs. Call model.eval() and "
                "run under ember.no_grad(), or use the default backend='ember'")
        self.graph = graph
        self._make = OnnxRuntimeExecutor
        self.states = [v.tensor for v in graph.values if v.kind == "state"]
        self.source = "# ONNX Runtime session (see ember.onnx.export_graph for the model)\n"
        self._build()

    def _stamp(self):
        return [(id(t._data), t._version[0] if t._version else 0) for t in self.states]

    def _build(self):
        self.stamp = self._stamp()
        self.session = self._make(self.graph)

    def __call__(self, arrays: list, args: list):
        if self._stamp() != self.stamp:
            self._build()
        return self.session(*arrays)


def _hashable(key: list):
    try:
        h = tuple(key)
        hash(h)
        return h
    except TypeError:
        return tuple((n, repr(g)) for n, g in key)


def _detach_result(obj):
    if isinstance(obj, Tensor):
        return obj.detach() if obj._requires_grad else obj
    if isinstance(obj, (list, tuple)):
        items = [_detach_result(x) for x in obj]
        return type(obj)(*items) if hasattr(type(obj), "_fields") else type(obj)(items)
    if isinstance(obj, dict):
        return {k: _detach_result(v) for k, v in obj.items()}
    return obj


def _at_user_line(err: EmberError) -> EmberError:
    """``err`` with the user's file:line in front (where the failing op was called)."""
    where = location_of_traceback(err.__traceback__)
    if where is None or str(err).startswith(where):
        return err
    new = type(err)(f"{where}: {err}")
    new.__traceback__ = err.__traceback__
    return new


def compile(fn=None, *, verbose: bool = False, max_retraces: int = 8, optimize: bool = True,
            backend: str = "ember"):
    """Trace ``fn`` (or an ``nn.Module``) into an optimized graph on its first call.

    Use as ``step = ember.compile(step)`` or as a decorator (with or without options). The
    compiled function returns what ``fn`` returns, with tensors detached from autograd: do
    the backward pass inside the function (a whole training step compiles, with the
    optimizer update). ``verbose=True`` (or ``EMBER_LOG=recompiles``) logs every retrace with
    its reason. ``optimize=False`` skips the graph passes (for debugging). See
    ``docs/graph.md``.

    Example::

        @ember.compile
        def train_step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
    """
    options = dict(verbose=verbose, max_retraces=max_retraces, optimize=optimize,
                   backend=backend)
    if fn is None:
        return lambda f: compile(f, **options)
    from ..nn.module import Module

    if isinstance(fn, Module):
        return CompiledModule(fn, **options)
    if isinstance(fn, CompiledFunction):
        return fn
    return CompiledFunction(fn, **options)
