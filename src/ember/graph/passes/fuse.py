"""Elementwise fusion: a chain (or tree) of elementwise ops whose intermediate results have a
single user becomes one node calling one generated kernel.

The kernel is a Python function made once per fused group. It calls the same NumPy ufuncs the
unfused ops call, in the same order and in the same dtypes, but with ``out=``: intermediates
land in the output buffer or in a few scratch buffers (same shape and dtype as the value they
hold), never in fresh arrays. The operands were promoted (PyTorch's rules) when the graph was
traced, so every step computes in exactly the dtype the eager op did and the fused result is
bit-identical to the unfused one.

Every elementwise node becomes a :class:`FusedOp` node, even alone: the memory planner can then
hand any of them an ``out=`` buffer and let it write in place over a dying input.

Which ops qualify (:func:`rule_for`): ops whose forward is a NumPy ufunc (add, sub, mul, div,
neg, exp, log, tanh, maximum, comparisons, logical and bitwise ops, ...) with no attributes, and
relu, relu_backward, sigmoid, cast and where, whose forwards are written out here step by step.
"""

from __future__ import annotations

import numpy as np

from ..ir import Graph, Node

_ZERO_CACHE: dict = {}


def _zero(dtype: np.dtype) -> np.ndarray:
    z = _ZERO_CACHE.get(dtype)
    if z is None:
        z = _ZERO_CACHE[dtype] = np.zeros((), dtype)
        z.flags.writeable = False
    return z


class _Rule:
    """How one op writes its result into ``dest``.

    ``emit(dest, args, ns, node) -> lines``; ``alias`` lists the argument positions that may
    share memory with ``dest`` (the op reads them before it writes); ``temps(node)`` lists
    (shape, dtype) of extra scratch the op needs while it runs.
    """

    __slots__ = ("emit", "alias", "temps")

    def __init__(self, emit, alias=None, temps=None):
        self.emit = emit
        self.alias = alias  # None: every position
        self.temps = temps

    def may_alias(self, position: int) -> bool:
        return self.alias is None or position in self.alias


def _ufunc_rule(ufunc) -> _Rule:
    # NumPy's own ufuncs are spelled _np.<name> so a printed kernel reads like NumPy code
    spelled = f"_np.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc else None

    def emit(dest, args, ns, node):
        name = spelled or ns.add(ufunc)
        return [f"{name}({', '.join(args)}, out={dest})"]

    return _Rule(emit)


def _relu_emit(dest, args, ns, node):
    zero = ns.add(_zero(node.outputs[0].dtype))
    return [f"_np.maximum({args[0]}, {zero}, out={dest})"]


def _sigmoid_emit(dest, args, ns, node):
    # the steps of ops.unary.sigmoid_forward: 0.5 * (1 + tanh(a / 2)), in the input's dtype
    return [f"_np.multiply({args[0]}, 0.5, out={dest})", f"_np.tanh({dest}, out={dest})",
            f"_np.add({dest}, 1, out={dest})", f"_np.multiply({dest}, 0.5, out={dest})"]


def _cast_emit(dest, args, ns, node):
    return [f"_np.copyto({dest}, {args[0]}, casting='unsafe')"]


def _where_emit(dest, args, ns, node):
    c, a, b = args
    return [f"_np.copyto({dest}, {b})", f"_np.copyto({dest}, {a}, where={c})"]


def _relu_backward_emit(dest, args, ns, node, temps=()):
    g, out = args
    zero = ns.add(_zero(node.inputs[1].dtype))
    dtype = ns.add(node.outputs[0].dtype)
    mask = temps[0]
    return [f"_np.greater({out}, {zero}, out={mask})",
            f"_np.multiply({g}, {mask}, out={dest}, dtype={dtype})"]


def _relu_backward_temps(node):
    return [(node.inputs[1].shape, np.dtype(bool))]


_SPECIAL = {
    "relu": _Rule(_relu_emit),
    "sigmoid": _Rule(_sigmoid_emit),
    "cast": _Rule(_cast_emit),
    "where": _Rule(_where_emit, alias=(2,)),  # b is copied first: only it may share dest
    "relu_backward": _Rule(_relu_backward_emit, temps=_relu_backward_temps),
}


def rule_for(node: Node) -> _Rule | None:
    """The fusion rule of ``node``, or None when it cannot be part of a fused kernel."""
    if (node.multi or node.sides or node.dynamic or node.branches is not None
            or len(node.outputs) != 1 or getattr(node.op, "stateful", False)):
        return None
    op = node.op
    if isinstance(op, FusedOp):
        return None
    out = node.outputs[0]
    in_dtypes = [v.dtype for v in node.inputs]
    if isinstance(op.forward, np.ufunc):
        uf = op.forward
        if node.attrs or uf.nout != 1 or uf.nin != len(node.inputs):
            return None
        try:  # the loop NumPy picks must produce the recorded dtype, with or without out=
            resolved = uf.resolve_dtypes(tuple(in_dtypes) + (None,))
        except (TypeError, ValueError):
            return None
        if resolved[-1] != out.dtype or any(r != d for r, d in zip(resolved, in_dtypes)):
            return None
        return _ufunc_rule(uf)
    rule = _SPECIAL.get(op.name)
    if rule is None:
        return None
    if op.name == "cast":
        return rule if set(node.attrs) == {"dtype"} else None
    if node.attrs:
        return None
    if op.name in ("relu", "sigmoid") and in_dtypes[0] != out.dtype:
        return None
    if op.name == "where" and not (in_dtypes[0] == np.bool_
                                   and in_dtypes[1] == in_dtypes[2] == out.dtype):
        return None
    if op.name == "relu_backward" and (in_dtypes[0] != out.dtype
                                       or node.inputs[0].shape != node.inputs[1].shape):
        return None
    return rule


def _empty_source(value, ns) -> str:
    """Source allocating ``value``'s array in the memory layout it had when traced: a
    channels-last result (after the oneDNN backend's convolutions) stays channels-last, so
    the next convolution needs no layout copy."""
    if getattr(value, "layout", None) == "channels_last":
        n, c, h, w = value.shape
        return f"_np.empty({(n, h, w, c)!r}, {ns.add(value.dtype)}).transpose(0, 3, 1, 2)"
    return f"_np.empty({value.shape!r}, {ns.add(value.dtype)})"


class _Names:
    """The globals of a generated kernel: objects get short names."""

    def __init__(self):
        # a module name under ember: the registry's filter silences NumPy's floating-point
        # warnings (log(0), x/0) in ember code, as eager mode does
        self.env: dict = {"_np": np, "__name__": "ember.graph.fused_kernel"}
        self.by_id: dict = {}

    def add(self, obj) -> str:
        key = id(obj)
        if key not in self.by_id:
            name = f"_k{len(self.by_id)}"
            self.by_id[key] = name
            self.env[name] = obj
        return self.by_id[key]


class FusedOp:
    """The op of a fused node: ``steps`` (member nodes in execution order) over ``leaves``.

    ``forward(*leaves)`` is the kernel allocating its own output and scratch; the memory
    planner calls :meth:`build` for a kernel that takes ``out=`` and ``scratch=`` buffers and
    may write over leaf ``alias`` (whose buffer is the output's).
    """

    stateful = False
    differentiable = False

    def __init__(self, steps: list, leaves: list, rules: list):
        self.steps = steps
        self.leaves = leaves
        self.rules = rules
        self.out = steps[-1].outputs[0]
        names = [s.op.name for s in steps]
        self.name = names[0] if len(names) == 1 else "fused{" + ",".join(names) + "}"
        self._built: dict = {}
        self.forward, self.scratch = self.build(None)
        self.source = self._built[None][2]

    def __repr__(self) -> str:
        return f"<ember fused op {self.name}>"

    def can_alias(self, leaf: int) -> bool:
        """Whether the output buffer may be the memory of leaf ``leaf`` (written over)."""
        v = self.leaves[leaf]
        if v.shape != self.out.shape or v.dtype != self.out.dtype:
            return False
        root = self.steps[-1]
        rule = self.rules[-1]
        return all(rule.may_alias(p) for p, a in enumerate(root.inputs) if a is v)

    # ------------------------------------------------------------------ code generation
    def build(self, alias: int | None):
        """(kernel, scratch specs) for output aliasing leaf ``alias`` (or None)."""
        if alias in self._built:
            kernel, scratch, _ = self._built[alias]
            return kernel, scratch
        steps, rules, out = self.steps, self.rules, self.out
        position = {id(s.outputs[0]): k for k, s in enumerate(steps)}
        leaf_index = {id(v): i for i, v in enumerate(self.leaves)}
        alias_v = self.leaves[alias] if alias is not None else None
        # out holds the aliased leaf until its last read: no intermediate goes there before
        alias_last = -1
        if alias_v is not None:
            alias_last = max(k for k, s in enumerate(steps) if alias_v in s.inputs)
        where: dict = {}  # step -> buffer name
        free: dict = {}  # (shape, dtype) -> free scratch names
        scratch: list = []
        out_busy = alias_v is not None

        def take(shape, dtype):
            pool = free.setdefault((shape, dtype), [])
            if pool:
                return pool.pop()
            scratch.append((shape, dtype))
            return f"s{len(scratch) - 1}"

        def release(name, shape, dtype):
            nonlocal out_busy
            if name == "out":
                out_busy = False
            elif name.startswith("s"):
                free[(shape, dtype)].append(name)

        ns = _Names()
        body: list = []
        for k, (step, rule) in enumerate(zip(steps, rules)):
            args, dying = [], []
            for p, v in enumerate(step.inputs):
                if id(v) in position:
                    buf = where[position[id(v)]]
                    args.append(buf)
                    dying.append((p, buf, v))
                else:
                    args.append(f"a{leaf_index[id(v)]}")
            if k == alias_last:
                out_busy = False  # the aliased leaf's last read: out is this step's to write
                if not all(rule.may_alias(p) for p, v in enumerate(step.inputs) if v is alias_v):
                    out_busy = True  # cannot be written while read: leave it to a later step
            value = step.outputs[0]
            temps = [take(shape, np.dtype(dt)) for shape, dt in (rule.temps(step) if rule.temps
                                                                  else ())]
            final_copy = False
            if k == len(steps) - 1:
                dest = "out"
                if any(buf == "out" and not rule.may_alias(p) for p, buf, _ in dying):
                    # an input this op may not overwrite lives in out (where's true branch,
                    # say): compute aside, then copy
                    dest = take(value.shape, value.dtype)
                    final_copy = True
            else:
                dest = None
                for p, buf, v in dying:  # write over a dying input of the same type
                    if (rule.may_alias(p) and v.shape == value.shape and v.dtype == value.dtype
                            and all(a is not v or rule.may_alias(q)
                                    for q, a in enumerate(step.inputs))):
                        dest = buf
                        break
                if dest is None and not out_busy and k >= alias_last and (
                        value.shape == out.shape and value.dtype == out.dtype):
                    consumer = next(s for s in steps[k + 1:] if value in s.inputs)
                    if all(rules[steps.index(consumer)].may_alias(p)
                           for p, a in enumerate(consumer.inputs) if a is value):
                        dest = "out"
                if dest is None:
                    dest = take(value.shape, value.dtype)
            if dest == "out":
                out_busy = True
            where[k] = dest
            if temps:
                body += rule.emit(dest, args, ns, step, temps=temps)
            else:
                body += rule.emit(dest, args, ns, step)
            if final_copy:
                body.append(f"_np.copyto(out, {dest})")
            for _, buf, v in dying:
                if buf != dest:
                    release(buf, v.shape, v.dtype)
            for t, (shape, dt) in zip(temps, rule.temps(step) if rule.temps else ()):
                release(t, shape, np.dtype(dt))
        params = ", ".join(f"a{i}" for i in range(len(self.leaves)))
        lines = [f"def kernel({params}{', ' if params else ''}out=None, scratch=None):",
                 "    if out is None:",
                 f"        out = {_empty_source(out, ns)}"]
        if scratch:
            names = ", ".join(f"s{i}" for i in range(len(scratch))) + ","
            lines.append("    if scratch is None:")
            made = ", ".join(f"_np.empty({shape!r}, {ns.add(np.dtype(dt))})"
                             for shape, dt in scratch)
            lines.append(f"        scratch = ({made},)")
            lines.append(f"    {names} = scratch")
        lines += [f"    {line}" for line in body]
        lines.append("    return out")
        source = "\n".join(lines) + "\n"
        exec(compile(source, f"<ember fused kernel {self.name}>", "exec"), ns.env)
        kernel = ns.env["kernel"]
        kernel.__name__ = self.name
        self._built[alias] = (kernel, list(scratch), source)
        return kernel, list(scratch)


# ---------------------------------------------------------------------- the pass


def fuse_elementwise(graph: Graph) -> Graph:
    """Replace every elementwise node, with its single-use elementwise producers, by one node
    calling a generated kernel; returns the graph."""
    graph.link()
    live = {id(v) for v in graph.live_values()}
    top = set(map(id, graph.nodes))
    rules = {id(n): r for n in graph.nodes if (r := rule_for(n)) is not None}
    absorbed: set = set()
    replaced: dict = {}
    for node in reversed(graph.nodes):
        if id(node) not in rules or id(node) in absorbed:
            continue
        members = [node]
        stack = [node]
        while stack:
            member = stack.pop()
            for v in member.inputs:
                p = v.producer
                if (v.kind == "node" and p is not None and id(p) in rules and id(p) in top
                        and id(p) not in absorbed and len(v.users) == 1 and id(v) not in live
                        and p is not node and p not in members):
                    members.append(p)
                    stack.append(p)
        for m in members[1:]:
            absorbed.add(id(m))
        order = {id(n): i for i, n in enumerate(graph.nodes)}
        members.sort(key=lambda n: order[id(n)])
        produced = {id(m.outputs[0]) for m in members}
        leaves: list = []
        for m in members:
            for v in m.inputs:
                if id(v) not in produced and v not in leaves:
                    leaves.append(v)
        op = FusedOp(members, leaves, [rules[id(m)] for m in members])
        fused = Node(node.id, op, leaves, {}, node.location)
        out = node.outputs[0]
        fused.outputs = [out]
        out.producer = fused
        replaced[id(node)] = fused
    graph.nodes = [replaced.get(id(n), n) for n in graph.nodes if id(n) not in absorbed]
    graph.link()
    return graph


def fused_nodes(graph: Graph) -> list:
    """The nodes of ``graph`` made by :func:`fuse_elementwise`."""
    return [n for n in graph.nodes if isinstance(n.op, FusedOp)]


__all__ = ["FusedOp", "fuse_elementwise", "fused_nodes", "rule_for"]
