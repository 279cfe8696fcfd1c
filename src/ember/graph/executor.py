"""Lowering a Graph to straight-line Python: one statement per node, no dispatch at run time.

The generated function takes the input arrays and returns the output arrays. Each node is a
call of its op's NumPy-level ``forward`` with the static attributes bound in advance; there is
no autograd bookkeeping, no Tensor wrapping and no shape checking (the guards did that once).
Nodes the fusion pass merged call the fused kernel it generated, and values the buffer plan
assigned to a preallocated buffer are written with ``out=``. Write-backs (new parameter values,
gradients, optimizer state) close the function. ``Executor.source`` is the text, shown by
``compiled.code``.

An exception inside the generated code is re-raised naming the node that failed and the
user's source line it was traced from (the line numbers of the generated code map to nodes).
"""

from __future__ import annotations

import functools
import itertools
import linecache

import numpy as np

from ..errors import EmberError, GraphError
from .ir import Graph, Node, Value, walk_branches

_counter = itertools.count()


def _bump(t) -> None:
    box = t._version
    if box is None:
        t._version = [1]
    else:
        box[0] += 1


def _bump_all(tensors) -> None:
    for t in tensors:
        _bump(t)


def _make_tensor(arr):
    from ..tensor import _make

    return _make(arr)


class Executor:
    """A compiled graph: ``run(input_arrays) -> output arrays`` plus its source text."""

    def __init__(self, graph: Graph, plan=None):
        self.graph = graph
        self.plan = plan
        # the module name makes ember's filter of NumPy's floating-point warnings (registry.py)
        # apply to the generated code too, as it does to the eager ops
        self.env: dict = {"_np": np, "_copyto": np.copyto, "_bump": _bump,
                          "__name__": "ember.graph.compiled"}
        self.line_nodes: dict[int, Node] = {}
        self.source = self._generate()
        self.filename = f"<ember compiled {graph.name} #{next(_counter)}>"
        code = compile(self.source, self.filename, "exec")
        # linecache lets tracebacks and inspect show the generated lines
        linecache.cache[self.filename] = (len(self.source), None,
                                          self.source.splitlines(True), self.filename)
        exec(code, self.env)
        self._run = self.env["run"]

    # ------------------------------------------------------------------ code generation
    def _name(self, v: Value) -> str:
        return f"v{v.id}"

    def _global(self, prefix: str, obj) -> str:
        name = f"{prefix}{len(self.env)}"
        self.env[name] = obj
        return name

    def _generate(self) -> str:
        g = self.graph
        lines = ["def run(inputs):"]
        body: list = []
        if g.inputs:
            names = ", ".join(self._name(v) for v in g.inputs)
            body.append((f"{names}, = inputs", None))
        arenas = getattr(g, "arenas", ())
        if arenas:
            # tensors moved into flat arenas (passes/multi_tensor.py): one whose _data was
            # rebound since is copied back in before any state is read
            from .passes.multi_tensor_ops import adopt

            self.env["_adopt"] = adopt
            self._members = {id(a): [t for t, _ in pairs] for a, pairs in arenas}
            for _, pairs in arenas:
                body.append((f"_adopt({self._global('R', pairs)})", None))
        for v in g.values:
            if not v.users and v not in g.live_values():
                continue
            if v.kind == "state":
                t = self._global("S", v.tensor)
                body.append((f"{self._name(v)} = {t}._data", None))
            elif v.kind == "grad":
                t = self._global("P", v.tensor)
                body.append((f"{self._name(v)} = {t}._grad._data", None))
            elif v.kind == "const":
                body.append((f"{self._name(v)} = {self._global('K', v.array)}", None))
        if self.plan is not None:
            body.extend((line, None) for line in self.plan.prologue(self))
        last = self._last_uses()
        for i, node in enumerate(g.nodes):
            if self.plan is not None and hasattr(self.plan, "allocate_before"):
                body.extend((line, None) for line in self.plan.allocate_before(i))
            body.extend(self._node_lines(node, "    "))
            if self.plan is not None and hasattr(self.plan, "release_after"):
                body.extend((line, None) for line in self.plan.release_after(i))
            dead = last.get(i)
            if dead:
                # drop the names of arrays nothing reads any more: straight-line code would
                # otherwise hold every intermediate of the step until it returns
                body.append(("del " + ", ".join(dead), None))
        body.extend((line, None) for line in self._writeback_lines())
        # a returned constant or outside tensor is copied: the caller may write into what it
        # gets, and those arrays are read again by the next run
        outs = ", ".join("None" if v is None else self._name(v) + (
            ".copy()" if v.kind in ("const", "state") else "") for v in g.outputs)
        body.append((f"return ({outs}{',' if len(g.outputs) == 1 else ''})", None))
        for text, node in body:
            if node is not None:
                self.line_nodes[len(lines) + 1] = node
            lines.append(text if text.startswith("    ") else "    " + text)
        return "\n".join(lines) + "\n"

    def _last_uses(self) -> dict:
        """node index -> local names to delete after it (values, workspaces, cache lists)."""
        g = self.graph
        keep = {id(v) for v in g.live_values()}
        last: dict = {}
        where: dict = {}
        for i, node in enumerate(g.nodes):
            reads = list(node.all_inputs())
            if node.branches is not None:
                reads.append(node.branches[0])
                for inner in walk_branches(node):
                    reads += inner.all_inputs()
                reads += node.branches[3] + node.branches[4]
            for v in reads:
                where[id(v)] = (i, v)
            for v in list(node.outputs) + [v for v, _ in node.sides]:
                where.setdefault(id(v), (i, v))  # produced and never read: dropped at once
        inner_made = {id(v) for node in g.nodes if node.branches is not None
                      for inner in walk_branches(node) for v in inner.outputs}
        for key, (i, v) in where.items():
            if key in keep or v.kind not in ("node", "side") or key in inner_made:
                continue
            last.setdefault(i, []).append(self._name(v))
        for i, node in enumerate(g.nodes):
            if node.branches is None and node.multi and any(
                    w[0] == "workspace" for _, w in node.sides):
                last.setdefault(i, []).append(f"w{node.id}")
            if "cache" in node.attrs and isinstance(node.attrs["cache"], list):
                last.setdefault(i, []).append(f"c{node.id}")
        return last

    def _node_lines(self, node: Node, indent: str) -> list:
        if node.branches is not None:
            return self._cond_lines(node, indent)
        out_arg = self.plan.out_argument(node) if self.plan is not None else None
        # a planned node calls the plan's kernel, which writes into its out= buffer
        fn = self.plan.kernel(node) if out_arg else node.op.forward
        roots = {k.split(".", 1)[0] for k in node.dynamic}
        static = {k: v for k, v in node.attrs.items() if k not in roots and k != "cache"}
        call = self._global("F", functools.partial(fn, **static) if static else fn)
        args = [self._name(v) for v in node.inputs]
        args += [f"{k}={self._dynamic_source(node, k, node.attrs.get(k))}" for k in roots]
        if out_arg:
            args.append(out_arg)
        pre = []
        if "cache" in node.attrs and isinstance(node.attrs["cache"], list):
            cache = f"c{node.id}"
            pre.append((f"{indent}{cache} = []", node))
            args.append(f"cache={cache}")
        outs = [self._name(v) for v in node.outputs]
        target = ", ".join(outs) + ("," if len(outs) == 1 else "")
        call_text = f"{call}({', '.join(args)})"
        if node.multi:
            work = f"w{node.id}" if any(w[0] == "workspace" for _, w in node.sides) else "_"
            stmt = f"({target}), {work} = {call_text}"
        elif len(outs) == 1:
            stmt = f"{outs[0]} = {call_text}"
        else:
            stmt = f"{target} = {call_text}"
        lines = pre + [(f"{indent}{stmt}", node)]
        for v, where in node.sides:
            if where[0] == "workspace":
                lines.append((f"{indent}{self._name(v)} = w{node.id}[{where[1]}]", node))
            else:
                lines.append((f"{indent}{self._name(v)} = c{node.id}[{where[2]}]", node))
        return lines

    def _dynamic_source(self, node: Node, path: str, template) -> str:
        """Source for attribute ``path`` of ``node``: a value's name, or the attribute's
        tuple/list with the computed arrays in place (``index=(v3, K7)``)."""
        v = node.dynamic.get(path)
        if v is not None:
            return self._name(v)
        if isinstance(template, (tuple, list)) and any(
                k.startswith(path + ".") for k in node.dynamic):
            items = [self._dynamic_source(node, f"{path}.{i}", item)
                     for i, item in enumerate(template)]
            body = ", ".join(items) + ("," if len(items) == 1 else "")
            return f"({body})" if isinstance(template, tuple) else f"[{body}]"
        return self._global("A", template)

    def _cond_lines(self, node: Node, indent: str) -> list:
        pred, true_nodes, false_nodes, true_outs, false_outs = node.branches
        lines = [(f"{indent}if {self._name(pred)}:", node)]
        for branch, outs in ((true_nodes, true_outs), (false_nodes, false_outs)):
            for inner in branch:
                lines.extend(self._node_lines(inner, indent + "    "))
            for res, src in zip(node.outputs, outs):
                lines.append((f"{indent}    {self._name(res)} = {self._name(src)}", node))
            if branch is true_nodes:
                lines.append((f"{indent}else:", node))
        return lines

    def _writeback_lines(self) -> list:
        lines = []
        granted: set = set()  # values already handed to a .grad: others get their own copy
        for how, target, v in self.graph.writebacks:
            if isinstance(target, tuple):
                tgt = f"args[{target[1]}]"
            else:
                tgt = self._global("T", target)
            if how == "copy":
                # the version counter moves as an in-place update's would: autograd refuses a
                # stale saved tensor, and an ONNX Runtime session knows to rebuild
                bump = f"_bump({tgt})"
                members = getattr(self, "_members", {}).get(id(target))
                if members:  # an arena: its tensors are what users hold
                    self.env["_bump_all"] = _bump_all
                    bump = f"_bump_all({self._global('M', members)})"
                if self.plan is not None and self.plan.skips_writeback(v):
                    lines.append(bump)  # computed straight into the target's memory
                    continue
                lines.append(f"_copyto({tgt}._data, {self._name(v)}); {bump}")
            elif how == "replace":
                lines.append(f"{tgt}._data = {self._name(v)}; _bump({tgt})")
            elif v is None:
                lines.append(f"{tgt}._grad = None")
            else:
                self.env["_tensor"] = _make_tensor
                # a .grad gets memory of its own: never a constant's, an input's or a state's
                own = v.id in granted or v.kind in ("const", "state", "input", "grad")
                src = self._name(v) + (".copy()" if own else "")
                granted.add(v.id)
                lines.append(f"{tgt}._grad = _tensor({src})")
        return lines

    # ------------------------------------------------------------------ running
    def __call__(self, arrays: list, args: list):
        self.env["args"] = args
        try:
            return self._run(arrays)
        except EmberError as err:  # an op's own check (e.g. an index out of range): add where
            node = self._failed_node(err)
            if node is None or str(err).startswith(node.location):
                raise
            raise type(err)(f"{node.location}: {err}") from None
        except Exception as exc:
            raise self._explain(exc) from exc

    def _failed_node(self, exc: Exception):
        """The node whose generated line was running when ``exc`` was raised."""
        tb = exc.__traceback__
        node = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                node = self.line_nodes.get(tb.tb_lineno)
            tb = tb.tb_next
        return node

    def _explain(self, exc: Exception) -> Exception:
        node = self._failed_node(exc)
        if node is None:
            return GraphError(f"compiled {self.graph.name} failed: {exc}")
        shapes = ", ".join(v.type_str() for v in node.inputs)
        return GraphError(f"{node.location}: {node.name}({shapes}) failed while running the "
                          f"compiled {self.graph.name}: {type(exc).__name__}: {exc}")
