"""Multi-tensor optimizer updates: the per-parameter update kernels of one optimizer step
become one set of kernels over flat arrays (PyTorch's "foreach"/"fused" optimizers).

After fusion an Adam step is, per parameter, a few fused kernels plus scalar nodes (the step
counter, the bias corrections); a model with 30 parameters runs ~400 small ufunc calls. This
pass finds those per-parameter *update components* and merges components of the same shape of
computation into one batch:

- the *update region* is every elementwise node whose results are read only by the region or
  by ``copy`` write-backs (new parameter and optimizer-state values): the optimizer's update,
  never the forward or backward. Scalar nodes that read only constants and read-only states
  (``1 - lr * weight_decay`` shared by a parameter group after CSE) stay outside, shared;
- a *component* is a connected piece of the region (one parameter's update); components whose
  steps are the same ops in the same dtypes over the same wiring form a batch;
- at compile time the tensors a batch reads and writes (parameters, ``exp_avg``, ``step``, ...)
  move into flat *arenas*, one per role: each tensor's ``_data`` becomes a C-contiguous view of
  its arena (values copied once), so every reader, eager code included, keeps working. Per-run
  inputs (the gradients) are concatenated into one flat array per run;
- the batch's steps run once over the flat arrays. A per-parameter scalar (each parameter's own
  step counter, bias corrections, the lr of its group) becomes a vector with one entry per
  parameter, widened to one entry per element (``np.repeat``) where it meets the flat tensors,
  unless all its entries have one bit pattern on that run (the usual case), when its 0-d value
  broadcasts instead;
- batches stop at ``BUCKET_ELEMENTS`` elements and larger tensors stay unbatched: NumPy runs
  a kernel one ufunc at a time over whole arrays, and flat arrays far larger than the cache
  lose more to memory traffic than the saved calls win.

Exactness: every element goes through the same ufunc, in the same dtype, with the same operand
values as in the per-parameter kernel, so results are bit-identical to eager. Only correctly
rounded ufuncs (add, mul, div, sqrt, casts, ...) run batched over vectors; a scalar step using
another op (``pow`` for the bias corrections) runs per parameter on 0-d arrays, as eager does,
and a tensor step using one leaves its components unbatched.

Arenas are guarded: before each run, a tensor whose ``_data`` is no longer its arena view (a
``p.data = ...``, another graph adopting it) has its current values copied back in and is
rebound (``multi_tensor_ops.adopt``, run by the executor first), so a graph never reads a
stale arena. Caveat: an array taken from such a tensor before the relocation (``a = p._data``)
no longer aliases it.
"""

from __future__ import annotations

import os

import numpy as np

from ..ir import Graph, Node, Value
from . import fuse as _fuse
from . import multi_tensor_ops as _ops

MIN_BATCH = 2
# a batch stops growing at this many elements: NumPy runs a fused kernel one ufunc at a time
# over whole arrays, so a batch much larger than the cache streams every step through memory
# (measured on W5's AdamW: one flat batch of 660k elements ran 2.5x slower than per parameter);
# larger tensors keep their own kernels, whose call overhead their size already amortizes
BUCKET_ELEMENTS = 1 << 15
# benchmarks and tests turn the pass off to compare (EMBER_MULTI_TENSOR=0 in the environment)
ENABLED = os.environ.get("EMBER_MULTI_TENSOR", "1") != "0"


def _steps(node: Node) -> list:
    return list(node.op.steps) if isinstance(node.op, _fuse.FusedOp) else [node]


def _elementwise(node: Node) -> bool:
    if node.branches is not None or node.multi or node.sides or node.dynamic:
        return False
    if getattr(node.op, "stateful", False):
        return False
    if isinstance(node.op, _fuse.FusedOp):
        return True
    return node.op.name == "pow" and len(node.outputs) == 1


# ---------------------------------------------------------------------- analysis


def _region(graph: Graph) -> tuple:
    """(update nodes, copy write-back targets by value id)."""
    copies: dict = {}
    other: set = {id(v) for v in graph.outputs if v is not None}
    state_tensors = {id(v.tensor) for v in graph.values if v.kind == "state"}
    for how, target, v in graph.writebacks:
        if v is None:
            continue
        if how == "copy" and not isinstance(target, tuple) and id(target) in state_tensors:
            copies.setdefault(v.id, []).append(target)
        else:
            other.add(id(v))
    region: set = set()
    for node in reversed(graph.nodes):
        if not _elementwise(node):
            continue
        used = False
        ok = True
        for out in node.outputs:
            if id(out) in other or any(id(u) not in region for u in out.users):
                ok = False
            used |= bool(out.users) or out.id in copies
        if ok and used:
            region.add(id(node))
    written = {id(t) for ts in copies.values() for t in ts}
    invariant: set = set()  # scalar nodes of constants and read-only states: shared, stay
    for node in graph.nodes:
        if id(node) in region and all(v.shape == () for v in node.outputs) and all(
                v.kind == "const" or (v.kind == "state" and id(v.tensor) not in written)
                or (v.producer is not None and id(v.producer) in invariant)
                for v in node.inputs):
            invariant.add(id(node))
    return [n for n in graph.nodes if id(n) in region and id(n) not in invariant], copies


def _components(nodes: list) -> list:
    parent = {id(n): id(n) for n in nodes}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for n in nodes:
        for v in n.inputs:
            p = v.producer
            if p is not None and id(p) in parent:
                parent[find(id(n))] = find(id(p))
    groups: dict = {}
    for n in nodes:
        groups.setdefault(find(id(n)), []).append(n)
    return list(groups.values())


class _Component:
    """One parameter's update: flattened steps, leaves, signature, written values."""

    def __init__(self, nodes: list, copies: dict):
        self.steps = [s for n in nodes for s in _steps(n)]
        made = {id(s.outputs[0]): (k, s) for k, s in enumerate(self.steps)}
        shapes = {v.shape for s in self.steps for v in s.inputs + s.outputs} - {()}
        self.ok = len(shapes) == 1 and all(len(s.outputs) == 1 for s in self.steps)
        self.shape = shapes.pop() if len(shapes) == 1 else None
        self.leaves: list = []
        leaf_pos: dict = {}
        sig = []
        for s in self.steps:
            refs = []
            for v in s.inputs:
                if id(v) in made:
                    refs.append(("s", made[id(v)][0]))
                else:
                    if id(v) not in leaf_pos:
                        leaf_pos[id(v)] = len(self.leaves)
                        self.leaves.append(v)
                    refs.append(("l", leaf_pos[id(v)]))
            attrs = tuple(sorted((k, repr(a)) for k, a in s.attrs.items()))
            out = s.outputs[0]
            sig.append((s.op.name, id(s.op), attrs, tuple(refs), out.dtype.str, out.shape == ()))
        self.written = [(k, copies[s.outputs[0].id]) for k, s in enumerate(self.steps)
                        if s.outputs[0].id in copies]
        self.ok &= all(len(ts) == 1 for _, ts in self.written)
        leaf_sig = tuple((v.dtype.str, v.shape == ()) for v in self.leaves)
        self.signature = (tuple(sig), leaf_sig, tuple(k for k, _ in self.written))
        self.size = int(np.prod(self.shape)) if self.shape else 0


# ---------------------------------------------------------------------- the pass


def merge_updates(graph: Graph, min_batch: int = MIN_BATCH) -> Graph:
    """Merge the per-parameter optimizer updates of ``graph`` into multi-tensor batches (see
    the module docstring); relocates the tensors they update into arenas. Returns the graph."""
    if not ENABLED:
        return graph
    graph.link()
    nodes, copies = _region(graph)
    batches: dict = {}
    for members in _components(nodes):
        comp = _Component(members, copies)
        if comp.ok and comp.shape and comp.size < BUCKET_ELEMENTS:
            batches.setdefault(comp.signature, []).append((comp, members))
    claimed: set = set()
    merged = False
    for items in batches.values():
        for bucket in _buckets(items):
            if len(bucket) >= min_batch:
                merged |= _Batch(graph, bucket, claimed).apply()
    if merged:
        graph.link()
        _fuse.fuse_elementwise(graph)
    return graph


def _buckets(items: list) -> list:
    """Consecutive runs of components of about ``BUCKET_ELEMENTS`` elements in all."""
    out, cur, size = [], [], 0
    for item in items:
        cur.append(item)
        size += item[0].size
        if size >= BUCKET_ELEMENTS:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


class _Batch:
    """Rewrites one batch of isomorphic components into flat-array nodes."""

    def __init__(self, graph: Graph, items: list, claimed: set):
        self.graph = graph
        self.comps = [c for c, _ in items]
        self.nodes = [n for _, ns in items for n in ns]
        self.claimed = claimed
        self.p = len(self.comps)
        self.counts = np.array([c.size for c in self.comps], dtype=np.intp)
        self.total = int(self.counts.sum())

    # ---------------------------------------------------------------- planning
    def _roles(self):
        """Tensor tuples to relocate: leaf position -> tuple, written step -> tuple."""
        c0 = self.comps[0]
        tuples: list = []
        leaf_role: dict = {}
        for m in range(len(c0.leaves)):
            vals = [c.leaves[m] for c in self.comps]
            if all(v.kind == "state" for v in vals):
                ts = tuple(v.tensor for v in vals)
                if len({id(t) for t in ts}) == self.p:
                    leaf_role[m] = ts
        write_role: dict = {}
        for j, (k, _) in enumerate(c0.written):
            write_role[k] = tuple(c.written[j][1][0] for c in self.comps)
        keys: set = set()
        for ts in list(leaf_role.values()) + list(write_role.values()):
            key = tuple(map(id, ts))
            if key not in keys:
                keys.add(key)
                tuples.append(ts)
        seen: dict = {}
        for i, ts in enumerate(tuples):
            for t in ts:
                if seen.setdefault(id(t), i) != i or id(t) in self.claimed:
                    return None
        return tuples, leaf_role, write_role

    def apply(self) -> bool:
        roles = self._roles()
        if roles is None:
            return False
        tuples, leaf_role, write_role = roles
        c0 = self.comps[0]
        # dtype and scalar-ness of each role, from a leaf or a written value of component 0
        kinds: dict = {}
        for m, ts in leaf_role.items():
            v = c0.leaves[m]
            kinds.setdefault(id(ts[0]), (v.dtype, v.shape == ()))
        for k, ts in write_role.items():
            v = c0.steps[k].outputs[0]
            if kinds.setdefault(id(ts[0]), (v.dtype, v.shape == ())) != (v.dtype, v.shape == ()):
                return False
        for ts in tuples:
            dtype, scalar = kinds[id(ts[0])]
            for c, t in zip(self.comps, ts):
                if not _ops.suitable(t, () if scalar else c.shape, dtype):
                    return False
        plan = self._plan_steps(leaf_role)
        if plan is None:
            return False
        self._rewrite(tuples, kinds, leaf_role, write_role, plan)
        return True

    def _plan_steps(self, leaf_role):
        """Class of every leaf and step output: "shared" (one 0-d value for all), "vec" (one
        entry per parameter) or "flat" (one per element); None when a step cannot batch."""
        c0 = self.comps[0]
        leaf_cls = []
        for m, v0 in enumerate(c0.leaves):
            same = all(c.leaves[m] is v0 for c in self.comps)
            if v0.shape != ():
                leaf_cls.append("flat")
            elif same and m not in leaf_role:
                leaf_cls.append("shared")
            else:
                leaf_cls.append("vec")
        step_cls = []
        for s in c0.steps:
            ins = [leaf_cls[r[1]] if r[0] == "l" else step_cls[r[1]] for r in self._refs(s)]
            if s.outputs[0].shape != ():
                if not _ops.exact(s) or _fuse.rule_for(s) is None:
                    return None
                step_cls.append("flat")
            elif "vec" in ins:
                step_cls.append("vec")
            else:
                step_cls.append("shared")
        for k, _ in c0.written:
            if step_cls[k] == "shared":
                return None
        return leaf_cls, step_cls

    def _refs(self, step):
        c0 = self.comps[0]
        k = c0.steps.index(step)
        return c0.signature[0][k][3]

    # ---------------------------------------------------------------- rewriting
    def _rewrite(self, tuples, kinds, leaf_role, write_role, plan):
        g, c0, P = self.graph, self.comps[0], self.p
        leaf_cls, step_cls = plan
        arenas: dict = {}
        for ts in tuples:
            dtype, scalar = kinds[id(ts[0])]
            arenas[id(ts[0])] = self._relocate(ts, dtype, scalar)
        new_nodes: list = []
        loc = self.nodes[-1].location

        def node(op, inputs, attrs, shape, dtype):
            n = g.add_node(op, inputs, attrs, loc)
            g.nodes.pop()  # placed with the batch's other nodes below
            n.outputs = [g.new_value(shape, dtype, "node", producer=n)]
            new_nodes.append(n)
            return n.outputs[0]

        leaves = []  # (value, class) per leaf position
        for m, v0 in enumerate(c0.leaves):
            vals = [c.leaves[m] for c in self.comps]
            cls = leaf_cls[m]
            if m in leaf_role:
                leaves.append((arenas[id(leaf_role[m][0])], cls))
            elif cls == "shared":
                leaves.append((v0, cls))
            elif all(v.kind == "const" for v in vals):
                arr = (np.stack([v.array for v in vals]) if v0.shape == ()
                       else _ops.flat_concat(*[v.array for v in vals]))
                leaves.append((g.new_value(arr.shape, arr.dtype, "const", array=arr), cls))
            elif v0.shape == ():
                leaves.append((node(_ops.STACK_SCALARS, vals, {}, (P,), v0.dtype), cls))
            else:
                leaves.append((node(_ops.FLAT_CONCAT, vals, {}, (self.total,), v0.dtype), cls))
        expanded: dict = {}

        def widen(v):
            if v.id not in expanded:
                expanded[v.id] = node(_ops.SEGMENT_EXPAND, [v], {"counts": self.counts},
                                      (self.total,), v.dtype)
            return expanded[v.id]

        results = []  # (value, class) per step
        for k, s in enumerate(c0.steps):
            ins = [leaves[r[1]] if r[0] == "l" else results[r[1]] for r in self._refs(s)]
            out = s.outputs[0]
            cls = step_cls[k]
            if cls == "flat":
                args = [widen(v) if c == "vec" else v for v, c in ins]
                made = node(s.op, args, s.attrs, (self.total,), out.dtype)
            elif cls == "vec" and not _ops.exact(s):
                op = _ops.per_segment(s.op, s.attrs, tuple(c == "vec" for _, c in ins), P,
                                  out.dtype)
                made = node(op, [v for v, _ in ins], {}, (P,), out.dtype)
            else:
                made = node(s.op, [v for v, _ in ins], s.attrs, (P,) if cls == "vec" else (),
                            out.dtype)
            results.append((made, cls))
        # the old nodes and write-backs go; the batch's write into the arenas
        gone = {id(n) for n in self.nodes}
        old_values = {s.outputs[0].id for c in self.comps for s in c.steps}
        g.nodes = [n for n in g.nodes if id(n) not in gone] + new_nodes
        g.writebacks = [wb for wb in g.writebacks
                        if not (wb[0] == "copy" and wb[2] is not None
                                and wb[2].id in old_values)]
        for k, ts in write_role.items():
            g.writebacks.append(("copy", arenas[id(ts[0])].tensor, results[k][0]))

    def _relocate(self, ts, dtype, scalar) -> Value:
        """Move tensors ``ts`` into one flat arena; returns the arena's state value."""
        from ...tensor import _make

        n = self.p if scalar else self.total
        sizes = [1 if scalar else c.size for c in self.comps]
        flat = _ops.laid_out(ts, sizes, n, dtype)
        if flat is None:
            flat = np.empty(n, dtype)
            off = 0
            for t, size, c in zip(ts, sizes, self.comps):
                view = flat[off:off + size].reshape(() if scalar else c.shape)
                off += size
                view[...] = t._data
                t._data = view
        pairs = [(t, t._data) for t in ts]
        self.claimed.update(id(t) for t in ts)
        arena = _make(flat)
        if not hasattr(self.graph, "arenas"):
            self.graph.arenas = []
        self.graph.arenas.append((arena, pairs))
        return self.graph.new_value(flat.shape, dtype, "state", tensor=arena)


__all__ = ["merge_updates"]
