"""Memory planning: which arrays are alive at each step of a graph, which of them share
planned buffers (values never alive together), and the peak, all known before the graph runs.

The planner walks the nodes in execution order once:

- *liveness*: a value lives from the node that makes it to its last reader; graph outputs and
  write-back sources live to the end. A view (reshape, permute, expand, basic indexing, and any
  op not known to return fresh memory) shares its input's memory, so a value and its views
  form one *alias group* whose memory lives until the group's last reader;
- *buffers*: a value whose kernel can write into given memory (fused elementwise kernels,
  matmul-backed ops, ``linear``) gets a buffer from a pool of freed buffers of the same byte
  size and dtype, or a new one. Buffers are allocated once per compiled graph (on its first
  run) and reused by every run;
- *in place*: a fused kernel whose input dies at that node writes its result over the input's
  buffer; a new value of a parameter or optimizer state (a ``copy`` write-back) is written
  straight into the tensor's memory when nothing reads the old value afterwards, and the
  write-back copy disappears;
- never planned: graph outputs and arrays handed to ``.grad`` or ``replace`` write-backs (the
  user keeps them: a later run must not overwrite them), side arrays, and anything inside
  ``ember.cond`` branches. Those are allocated fresh by their op on every run.

:class:`MemoryPlan` is what ``compiled.memory_plan()`` returns; the executor asks it for the
``out=`` argument of each node (:meth:`MemoryPlan.out_argument`).
"""

from __future__ import annotations

import numpy as np

from ..ops.einsum import blas_layout
from .ir import Graph, Node, Value, walk_branches
from .passes import rewrite as _rewrite
from .passes.fuse import FusedOp

# ops whose result is (or may be) a view of an input: no new memory, and the input's memory
# lives as long as the view
VIEW_OPS = _rewrite.VIEW_OPS | frozenset({
    "reshape", "view", "permute", "transpose", "expand", "squeeze", "unsqueeze", "flatten",
    "unflatten", "movedim", "t", "index", "narrow", "select", "diagonal", "reduce_reshape",
    "contiguous", "detach", "as_strided", "broadcast_to", "alias", "split", "chunk", "unbind",
})
# ops known to return fresh memory (besides fused kernels and out= kernels); any other op is
# assumed to possibly alias its inputs, which only makes the plan more careful
FRESH_OPS = frozenset({
    "linear", "mm", "matmul", "bmm", "mv", "dot", "sum", "mean", "amax", "amin", "prod",
    "softmax", "log_softmax", "softmax_sum", "cross_entropy", "nll_loss", "random", "clone",
    "cat", "stack", "pow", "var", "logsumexp", "gelu", "gelu_backward", "silu", "softplus",
    "leaky_relu", "elu", "sign", "rsqrt", "clamp", "erf", "round", "frac", "repeat", "flip",
    "roll", "cumsum", "cumprod", "tril", "triu", "argmax", "argmin", "embedding",
    "layer_norm", "dropout", "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "einsum",
    "flat_concat", "stack_scalars", "segment_expand", "per_segment",  # passes/multi_tensor
})

_END = 1 << 60


def _matmul_out(a, b, out):
    return np.matmul(blas_layout(a), blas_layout(b), out=out)


def _linear_out(x, w, b=None, *, out):
    k = w.shape[1]
    if x.ndim > 2:  # the rows of one GEMM, as in nn.functional's linear forward
        np.matmul(blas_layout(x.reshape(-1, k)), w.T, out=out.reshape(-1, w.shape[0]))
    else:
        np.matmul(blas_layout(x), w.T, out=out)
    if b is not None:
        out += b
    return out


def _out_kernel(node: Node):
    """A kernel for ``node`` that writes into ``out=``, or None when it has none."""
    op = node.op
    if isinstance(op, FusedOp):
        return op.forward
    if node.multi or node.sides or node.dynamic or node.branches is not None or node.attrs:
        return None
    if op.name in ("mm", "bmm") or (op.name == "matmul" and all(
            len(v.shape) >= 2 for v in node.inputs)):
        return _matmul_out
    if op.name == "linear":
        return _linear_out
    return None


def _fresh(node: Node) -> bool:
    name = node.op.name
    return (isinstance(node.op, FusedOp) or name in FRESH_OPS or node.multi
            or isinstance(getattr(node.op, "forward", None), np.ufunc))


class _Groups:
    """Union-find over values: a value and everything that may view its memory."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, v: Value) -> Value:
        p = self.parent.get(v, v)
        if p is v:
            return v
        root = self.find(p)
        self.parent[v] = root
        return root

    def union(self, a: Value, b: Value) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[ra] = rb


class MemoryPlan:
    """The planned memory of a graph (``compiled.memory_plan()``).

    ``peak_bytes``: the most memory the arrays of one run occupy at once (planned buffers
    included, inputs and parameters excluded); ``largest``: the biggest arrays alive at that
    moment, as ``(nbytes, value name, type, op, user source line)``; ``allocated_per_run``:
    bytes of fresh arrays each run allocates; ``arena_bytes``: total bytes of the planned
    buffers (each allocated right before the first node writing into it and dropped after the
    last, on every run, so a compiled step holds no memory between calls).
    """

    def __init__(self, graph: Graph):
        self.graph_name = graph.name
        self.peak_bytes = 0
        self.peak_node: str = ""
        self.largest: list = []
        self.allocated_per_run = 0
        self.fresh_arrays = 0
        self.arena_bytes = 0
        self.buffers: list = []  # (nbytes, dtype) of each preallocated buffer
        self.assignment: dict = {}  # value id -> (buffer index, shape) or ("value", Value)
        self.intervals: dict = {}  # value id -> (first node, last node) of its memory
        self.in_place = 0
        self.scratch_uses: list = []  # (buffer, node position) of fused kernels' scratch
        self.skipped_writebacks: set = set()  # value ids written straight into their target
        self._node_args: dict = {}  # node id -> (kernel, out argument text)
        self._views: dict = {}  # (buffer, shape, layout) -> name

    # ------------------------------------------------------------------ executor hooks
    def _buffer_name(self, buffer: int, shape: tuple, layout=None) -> str:
        key = (buffer, shape, layout)
        if key not in self._views:
            self._views[key] = f"b{buffer}_{len(self._views)}"
        return self._views[key]

    def prologue(self, executor) -> list:
        """Lines run before the first node (none: buffers are made where first used)."""
        self._lazy_lines()
        return []

    def _lazy_lines(self) -> None:
        """Each buffer is allocated just before the first node writing into it and dropped
        after the last one, as eager's arrays come and go: the run never holds a buffer
        longer than the values in it need (values read later keep their memory alive
        through their own names)."""
        if hasattr(self, "_before"):
            return
        import re

        name_of = {name: key for key, name in self._views.items()}
        first: dict = {}
        last: dict = {}
        view_first: dict = {}
        for i, node in enumerate(self._order):
            entry = self._node_args.get(node.id)
            if entry is None:
                continue
            for name in re.findall(r"\bb\d+_\d+\b", entry[1]):
                buffer = name_of[name][0]
                first.setdefault(buffer, i)
                last[buffer] = i
                view_first.setdefault(name, i)
        self._before: dict = {}
        self._after: dict = {}
        for buffer, i in first.items():
            nbytes, dt = self.buffers[buffer]
            self._before.setdefault(i, []).append(
                f"B{buffer} = _np.empty({nbytes // dt.itemsize}, {dt.name!r})")
        for name, i in sorted(view_first.items(), key=lambda kv: kv[1]):
            buffer, shape, layout = name_of[name]
            if layout == "channels_last":  # NCHW indexing over NHWC memory, as traced
                n, c, h, w = shape
                view = f"B{buffer}.reshape({(n, h, w, c)!r}).transpose(0, 3, 1, 2)"
            else:
                view = f"B{buffer}.reshape({shape!r})"
            self._before.setdefault(i, []).append(f"{name} = {view}")
        for buffer, i in last.items():
            views = [n for n, (b, _, _) in name_of.items() if b == buffer and n in view_first]
            self._after.setdefault(i, []).append("del " + ", ".join([f"B{buffer}"] + views))

    def allocate_before(self, index: int) -> list:
        """Lines to run before top-level node ``index``: buffers first written there."""
        self._lazy_lines()
        return self._before.get(index, [])

    def release_after(self, index: int) -> list:
        """Lines to run after top-level node ``index``: buffers nothing writes any more."""
        self._lazy_lines()
        return self._after.get(index, [])


    def out_argument(self, node: Node) -> str | None:
        """The ``out=`` (and ``scratch=``) argument text of ``node``'s call, or None."""
        entry = self._node_args.get(node.id)
        return entry[1] if entry is not None else None

    def kernel(self, node: Node):
        """The callable the executor calls for ``node`` when it has a planned output."""
        entry = self._node_args.get(node.id)
        return entry[0] if entry is not None else None

    def skips_writeback(self, value: Value) -> bool:
        """True when ``value`` was written straight into its write-back target."""
        return value is not None and value.id in self.skipped_writebacks

    # ------------------------------------------------------------------ reading
    def __str__(self) -> str:
        mb = _mb
        lines = [f"memory plan of {self.graph_name}: peak {mb(self.peak_bytes)}"
                 + (f" at {self.peak_node}" if self.peak_node else ""),
                 f"  planned buffers: {len(self.buffers)} buffers, {mb(self.arena_bytes)}, holding "
                 f"{sum(1 for a in self.assignment.values() if a[0] != 'value')} values "
                 f"({self.in_place} written in place)",
                 f"  allocated per run: {mb(self.allocated_per_run)} in {self.fresh_arrays} "
                 "arrays"]
        if self.largest:
            lines.append("  largest arrays alive at the peak:")
            for nbytes, name, typ, op, where in self.largest:
                lines.append(f"    {mb(nbytes):>10}  {name} {typ} = {op}  {where}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<MemoryPlan {self.graph_name}: peak {_mb(self.peak_bytes)}>"


def _mb(n: int) -> str:
    if n < 1 << 10:
        return f"{n} B"
    if n < 1 << 20:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1 << 20):.2f} MiB"


# ---------------------------------------------------------------------- planning


def _liveness(graph: Graph):
    """(position of each top-level node, last reader position of each value id)."""
    pos = {}
    owner = {}  # id(inner node) -> its top-level cond node
    for i, node in enumerate(graph.nodes):
        pos[id(node)] = i
        if node.branches is not None:
            for inner in walk_branches(node):
                owner[id(inner)] = node
    last: dict = {}

    def use(v, i):
        if v is not None and last.get(v.id, -1) < i:
            last[v.id] = i

    for i, node in enumerate(graph.nodes):
        for v in node.all_inputs():
            use(v, i)
        if node.branches is not None:
            use(node.branches[0], i)
            for v in node.branches[3] + node.branches[4]:
                use(v, i)
            for inner in walk_branches(node):
                for v in inner.all_inputs():
                    use(v, i)
    for v in graph.live_values():
        last[v.id] = _END
    return pos, last


def plan_memory(graph: Graph) -> MemoryPlan:
    """Plan the buffers of ``graph`` (see the module docstring); returns a MemoryPlan."""
    plan = MemoryPlan(graph)
    plan._order = list(graph.nodes)  # top-level node order, as the executor emits it
    nodes = graph.nodes
    pos, last = _liveness(graph)
    groups, group_last = _alias_groups(graph, last)
    pinned = set()  # groups the user keeps: never in a reused buffer
    for v in graph.outputs:
        if v is not None:
            pinned.add(groups.find(v))
    copy_target: dict = {}  # value id -> the state/input value its write-back copies into
    state_of = {}
    for v in graph.values:
        if v.kind == "state":
            state_of[id(v.tensor)] = v
    for how, target, v in graph.writebacks:
        if v is None:
            continue
        if how != "copy":
            pinned.add(groups.find(v))
        elif isinstance(target, tuple):
            copy_target[v.id] = graph.inputs[target[1]]
        elif id(target) in state_of:
            copy_target[v.id] = state_of[id(target)]
    members: dict = {}
    for v in graph.values:
        members.setdefault(groups.find(v), []).append(v)

    free: dict = {}  # (nbytes, dtype) -> [buffer index]
    holder: dict = {}  # value id -> its buffer index
    owner: dict = {}  # buffer index -> the value that holds it now
    release_at: dict = {}  # node position -> values whose memory dies after it
    for i, node in enumerate(nodes):
        args = _plan_node(plan, node, i, groups, group_last, pinned, members, copy_target,
                          free, (holder, owner), release_at)
        if args is not None:
            plan._node_args[node.id] = args
        for v in release_at.pop(i, ()):
            b = holder.get(v.id)
            if b is not None and owner.get(b) is v:
                free.setdefault(plan.buffers[b], []).append(b)
    plan.arena_bytes = sum(n for n, _ in plan.buffers)
    _account(plan, graph, pos, groups, group_last)
    return plan


def _alias_groups(graph: Graph, last: dict) -> tuple:
    """Values that may share memory (a view and its base, a flat optimizer array and the
    tensors viewing it) as union-find groups, and each group's last reader: a value's memory
    lives until the last reader of any value sharing it."""
    groups = _Groups()
    for node in graph.nodes:
        if not _fresh(node):
            for out in node.outputs:
                for v in node.inputs:
                    groups.union(out, v)
    _union_arenas(graph, groups)
    group_last: dict = {}
    for v in graph.values:
        r = groups.find(v)
        group_last[r] = max(group_last.get(r, -1), last.get(v.id, -1))
    return groups, group_last


def _union_arenas(graph: Graph, groups) -> None:
    """A flat arena (passes/multi_tensor.py) and the state values of the tensors viewing it
    share memory: one alias group."""
    arenas = getattr(graph, "arenas", ())
    if not arenas:
        return
    by_tensor = {id(v.tensor): v for v in graph.values if v.kind == "state"}
    for arena, pairs in arenas:
        a = by_tensor.get(id(arena))
        if a is None:
            continue
        for t, _ in pairs:
            v = by_tensor.get(id(t))
            if v is not None:
                groups.union(v, a)


def _plan_node(plan, node, i, groups, group_last, pinned, members, copy_target, free,
               holding, release_at):
    holder, owner = holding
    kernel = _out_kernel(node) if node.branches is None else None
    if kernel is None or len(node.outputs) != 1:
        return None
    v = node.outputs[0]
    r = groups.find(v)
    if r in pinned or any(m.kind != "node" for m in members[r]):
        return None
    key = (v.nbytes, v.dtype)
    op = node.op
    alias = None
    out_text = None
    if isinstance(op, FusedOp):
        target = copy_target.get(v.id)
        for j, leaf in enumerate(op.leaves):
            if not op.can_alias(j):
                continue
            lr = groups.find(leaf)
            if group_last.get(lr, -1) != i or lr in pinned:
                continue
            b = holder.get(leaf.id)
            if b is not None and owner.get(b) is leaf and len(members[lr]) == 1:
                alias = j  # the dying input's buffer becomes the output's
                holder[v.id] = b
                owner[b] = v
                plan.in_place += 1
                break
            if leaf is target and (len(members[lr]) == 1 or not any(
                    groups.find(x) is lr for x in node.inputs if x is not leaf)):
                # new state value over the old one; views of it (an arena's tensors) are dead
                alias = j
                out_text = f"out=v{leaf.id}"
                plan.assignment[v.id] = ("value", leaf)
                plan.skipped_writebacks.add(v.id)
                plan.in_place += 1
                break
    if out_text is None and v.id not in holder:
        pool = free.get(key)
        if pool:
            b = pool.pop()
        else:
            b = len(plan.buffers)
            plan.buffers.append(key)
        holder[v.id] = b
        owner[b] = v
    if out_text is None:
        b = holder[v.id]
        assert plan.buffers[b] == key, (v, plan.buffers[b])
        plan.assignment[v.id] = (b, v.shape)
        out_text = f"out={plan._buffer_name(b, v.shape, v.layout)}"
    release_at.setdefault(max(group_last.get(r, i), i), []).append(v)
    if isinstance(op, FusedOp):
        kernel, scratch = op.build(alias)
        if scratch:
            taken = []
            for shape, dt in scratch:
                skey = (int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize,
                        np.dtype(dt))
                pool = free.get(skey)
                if pool:
                    b = pool.pop()
                else:
                    b = len(plan.buffers)
                    plan.buffers.append(skey)
                taken.append((b, tuple(shape)))
            for b, _ in taken:  # scratch is free again once the kernel returns
                free.setdefault(plan.buffers[b], []).append(b)
                plan.scratch_uses.append((b, i))
            names = ", ".join(plan._buffer_name(b, s) for b, s in taken)
            out_text += f", scratch=({names},)"
    return kernel, out_text


def _account(plan: MemoryPlan, graph: Graph, pos: dict, groups, group_last) -> None:
    """Peak bytes, the arrays alive at the peak and fresh bytes per run."""
    events = []  # (first, last, nbytes, value, node)
    n = len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        made = list(node.outputs) + [v for v, _ in node.sides]
        if node.branches is not None:
            made = list(node.outputs)
        for v in made:
            if v.id in plan.assignment:
                continue
            if v.kind == "node" and node.op.name in VIEW_OPS:
                continue
            end = group_last.get(groups.find(v), i)
            events.append((i, n if end >= _END else max(end, i), v.nbytes, v, node))
    granted = set()
    for how, _, v in graph.writebacks:  # a value handed to two .grads is copied for the second
        if how == "grad" and v is not None:
            if v.id in granted:
                events.append((n, n, v.nbytes, v, None))
            granted.add(v.id)
    plan.allocated_per_run = sum(e[2] for e in events)
    plan.fresh_arrays = len(events)
    # a buffer exists from the first node writing into it to the last read of a value it
    # holds (the executor allocates it there and drops its name after the last write; the
    # values it holds keep it alive until their own last reads)
    by_id = {v.id: v for v in graph.values}
    holders: dict = {}
    for vid, where in plan.assignment.items():
        if where[0] != "value":
            v = by_id[vid]
            first = pos.get(id(v.producer), 0)
            end = min(group_last.get(groups.find(v), first), n)
            holders.setdefault(where[0], []).append((first, end, v))
    spans: dict = {}
    for b, items in holders.items():
        spans[b] = (min(it[0] for it in items), max(it[1] for it in items))
    for b, at in plan.scratch_uses:
        lo, hi = spans.get(b, (at, at))
        spans[b] = (min(lo, at), max(hi, at))
    live = [0] * (n + 1)
    for first, end, nbytes, _, _ in events:
        for t in range(first, end + 1):
            live[t] += nbytes
    for b, (first, end) in spans.items():
        for t in range(first, min(end, n) + 1):
            live[t] += plan.buffers[b][0]
    peak_at = max(range(n + 1), key=live.__getitem__) if n else 0
    plan.peak_bytes = live[peak_at] if n else 0
    if peak_at < n:
        node = graph.nodes[peak_at]
        made = ", ".join(v.name for v in node.outputs)
        plan.peak_node = f"{made} = {node.name} ({node.location})"
    else:
        plan.peak_node = "the end of the run"
    alive = [(e[2], e[3], e[4]) for e in events if e[0] <= peak_at <= e[1]]
    # the buffers that exist at the peak: named by the value each holds then, or (idle) by
    # the last value it held before
    for b, items in holders.items():
        if not spans[b][0] <= peak_at <= spans[b][1]:
            continue
        now = [it for it in items if it[0] <= peak_at <= it[1]]
        before = sorted((it for it in items if it[0] <= peak_at), key=lambda it: it[:2]) or \
            sorted(items, key=lambda it: it[:2])
        first, end, v = now[0] if now else before[-1]
        alive.append((plan.buffers[b][0], v, v.producer, not now))
    alive = [a if len(a) == 4 else a + (False,) for a in alive]
    alive.sort(key=lambda e: -e[0])
    plan.largest = [(nb, v.name + (" (buffer idle)" if idle else ""), v.type_str(),
                     node.name if node is not None else "grad copy",
                     node.location if node is not None else "")
                    for nb, v, node, idle in alive[:6]]
    plan.intervals = {e[3].id: (e[0], e[1]) for e in events}


def check_plan(plan: MemoryPlan, graph: Graph) -> list:
    """Problems with ``plan``: two values alive at once in one buffer, a planned graph
    output, a buffer too small. Returns a list of messages (empty: the plan is sound)."""
    pos, last = _liveness(graph)
    groups, group_last = _alias_groups(graph, last)
    by_id = {v.id: v for v in graph.values}
    problems = []
    kept = {v.id for v in graph.outputs if v is not None}
    kept |= {v.id for how, _, v in graph.writebacks if v is not None and how != "copy"}
    spans: dict = {}
    for vid, where in plan.assignment.items():
        v = by_id[vid]
        if vid in kept:
            problems.append(f"{v.name} is kept by the user but lives in a planned buffer")
        if where[0] == "value":
            continue
        nbytes, dtype = plan.buffers[where[0]]
        if nbytes != v.nbytes or dtype != v.dtype:
            problems.append(f"{v.name} ({v.type_str()}) does not fit buffer {where[0]}")
        first = pos[id(v.producer)]
        spans.setdefault(where[0], []).append((first, group_last[groups.find(v)], v))
    for b, at in plan.scratch_uses:
        for first, end, v in spans.get(b, ()):
            if first <= at <= end:
                problems.append(f"buffer {b}: scratch of node {at} while {v.name} is alive")
    for b, items in spans.items():
        items.sort(key=lambda s: s[0])
        for (_, l1, v1), (f2, _, v2) in zip(items, items[1:]):
            # the next value may take the buffer at the node where the previous one dies
            # only by writing in place (an elementwise kernel reading it as it writes)
            if f2 < l1 or (f2 == l1 and v1 not in v2.producer.inputs):
                problems.append(f"buffer {b}: {v1.name} (alive to node {l1}) and {v2.name} "
                                f"(made at node {f2}) overlap")
    return problems
