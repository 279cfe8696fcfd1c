"""The ONNX graph under construction: node list, initializers and fresh names.

Lowering functions (``lower_*.py``) receive a :class:`Builder` and emit ONNX nodes through
:meth:`Builder.op`; constants they need (shapes, axes, scalars) become initializers through
:meth:`Builder.const`. Nothing here knows about ember's IR beyond names of values.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import proto


class Unsupported(Exception):
    """Raised by a lowering for attribute values it cannot express in ONNX; the exporter
    turns it into a GraphError naming the op and its source location."""


class Builder:
    """Accumulates ONNX nodes and initializers; hands out unique value names.

    ``dynamic_batch`` tells shape-carrying lowerings (reshape, expand) to leave dimension 0
    symbolic where it equals the traced batch size ``batch``.
    """

    def __init__(self, *, dynamic_batch: bool = False, batch: int | None = None):
        self.nodes: list[tuple] = []  # (op_type, inputs, outputs, attrs)
        self.initializers: dict[str, np.ndarray] = {}
        self.dynamic_batch = dynamic_batch
        self.batch = batch
        self.names: dict = {}  # ember Value id -> ONNX name (filled by the exporter)
        self.users: dict = defaultdict(list)  # ember Value id -> nodes reading it
        self._count = 0
        self._taken: set = set()
        self._consts: dict = {}  # (dtype, shape, bytes) -> name: small constants are shared

    def fresh(self, hint: str = "t") -> str:
        """A value name no other value has."""
        self._count += 1
        return self.reserve(f"{hint}_{self._count}")

    def reserve(self, name: str) -> str:
        """``name``, or ``name`` with a numeric suffix if it is taken; marks it taken."""
        out, k = name, 0
        while out in self._taken:
            k += 1
            out = f"{name}.{k}"
        self._taken.add(out)
        return out

    def op(self, op_type: str, inputs: list, n_out: int = 1, **attrs):
        """Emit one ONNX node; returns its output name (or a list when ``n_out > 1``).

        ``None`` in ``inputs`` is an optional input left out (written as an empty name).
        """
        outs = [self.fresh(op_type.lower()) for _ in range(n_out)]
        ins = ["" if i is None else i for i in inputs]
        self.nodes.append((op_type, ins, outs, {k: v for k, v in attrs.items()
                                                 if v is not None}))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=None, name: str | None = None) -> str:
        """An initializer holding ``value``; small repeated constants share one name."""
        a = np.asarray(value, dtype=dtype)
        if name is not None:
            name = self.reserve(name)
            self.initializers[name] = a
            return name
        key = None
        if a.size <= 16:
            key = (a.dtype.str, a.shape, a.tobytes())
            if key in self._consts:
                return self._consts[key]
        out = self.fresh("const")
        self.initializers[out] = a
        if key is not None:
            self._consts[key] = out
        return out

    def ints(self, values) -> str:
        """A 1-D int64 initializer (the shape/axes/pads inputs of ONNX ops)."""
        return self.const(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def scalar(self, value, dtype) -> str:
        """A 0-d initializer of ``dtype``."""
        return self.const(np.asarray(value, dtype=np.dtype(dtype)))

    def cast(self, name: str, src, dst) -> str:
        """``name`` converted from dtype ``src`` to ``dst`` (no node when they are equal)."""
        if np.dtype(src) == np.dtype(dst):
            return name
        return self.op("Cast", [name], to=proto.onnx_dtype(dst))

    def prune(self, outputs: list) -> None:
        """Drop nodes and initializers nothing in ``outputs`` depends on (the leftovers of
        fused patterns, e.g. the statistics a LayerNormalization computes itself)."""
        needed = set(outputs)
        kept = []
        for node in reversed(self.nodes):
            if any(o in needed for o in node[2]):
                kept.append(node)
                needed.update(i for i in node[1] if i)
        self.nodes = kept[::-1]
        self.initializers = {k: v for k, v in self.initializers.items() if k in needed}

    def encode_nodes(self) -> list[bytes]:
        """Every node as a NodeProto."""
        return [proto.node(t, ins, outs, name=outs[0], attrs=attrs)
                for t, ins, outs, attrs in self.nodes]

    def encode_initializers(self) -> list[bytes]:
        """Every initializer as a TensorProto."""
        return [proto.tensor(name, a) for name, a in self.initializers.items()]
