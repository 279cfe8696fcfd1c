"""Lowerings of movement ops: reshape/view, permute/transpose, expand, cat/stack,
narrow/select/index, flip/roll/repeat, pad, tril/triu, gather, embedding lookups.

Shapes come from the trace, so they are constants here. With ``dynamic_batch`` a reshape or
expand whose first target size equals the traced batch size writes 0 (Reshape: "copy this
dimension from the input") or reads dimension 0 of the input at run time, so the exported
model accepts any batch size.
"""

from __future__ import annotations

import numpy as np

from ._builder import Unsupported

_BIG = np.iinfo(np.int64).max


def _batch_follows(b, node) -> bool:
    """Whether dimension 0 of this node's first input and output is the symbolic batch."""
    x, out = node.inputs[0], node.outputs[0]
    return (b.dynamic_batch and b.batch is not None and len(x.shape) > 0
            and len(out.shape) > 0 and x.shape[0] == b.batch and out.shape[0] == b.batch)


def reshape(b, node, ins):
    """``Reshape`` to the traced output shape. With a dynamic batch, an output whose dim 0 is
    the batch copies it from the input (0); one that merges the batch into dim 0 or splits it
    out of it (``(B, T, C) <-> (B*T, C)``) infers dim 0 (-1). Dimensions other than 0 never
    carry the batch in an exported model."""
    shape = list(node.outputs[0].shape)
    in_shape = node.inputs[0].shape
    if _batch_follows(b, node):
        shape[0] = 0
    elif b.dynamic_batch and shape and b.batch and b.batch > 1 and (
            shape[0] == b.batch or (in_shape and in_shape[0] == b.batch
                                    and shape[0] % b.batch == 0)):
        # the batch split off (B*T -> B, T) or merged in (B, T -> B*T): the rest of the
        # shape is fixed, so dim 0 follows from the element count
        shape[0] = -1
    return b.op("Reshape", [ins[0], b.ints(shape)])


def permute(b, node, ins):
    """``Transpose`` with ``perm=dims``."""
    return b.op("Transpose", ins, perm=[int(d) for d in node.attrs["dims"]])


def transpose(b, node, ins):
    """``Transpose`` swapping ``dim0`` and ``dim1``."""
    perm = list(range(len(node.inputs[0].shape)))
    d0, d1 = node.attrs["dim0"] % max(len(perm), 1), node.attrs["dim1"] % max(len(perm), 1)
    if not perm:
        return b.op("Identity", ins)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return b.op("Transpose", ins, perm=perm)


def expand(b, node, ins):
    """``Expand`` to the traced output shape (the batch read from the input when dynamic)."""
    shape = list(node.outputs[0].shape)
    if _batch_follows(b, node) and len(node.inputs[0].shape) == len(shape):
        shape[0] = 1  # Expand broadcasts 1 against the input's own (run-time) batch
    return b.op("Expand", [ins[0], b.ints(shape)])


def cat(b, node, ins):
    """``Concat`` (ember drops legacy empty 1-D inputs, so does this)."""
    kept = [n for n, v in zip(ins, node.inputs) if v.shape != (0,)] or ins[:1]
    return b.op("Concat", kept, axis=int(node.attrs["dim"]))


def stack(b, node, ins):
    """``Unsqueeze`` each input at ``dim``, then ``Concat``."""
    dim = int(node.attrs["dim"])
    axes = b.ints([dim])
    return b.op("Concat", [b.op("Unsqueeze", [i, axes]) for i in ins], axis=dim)


def _slice(b, x, starts, ends, axes, steps=None):
    args = [x, b.ints(starts), b.ints(ends), b.ints(axes)]
    if steps is not None:
        args.append(b.ints(steps))
    return b.op("Slice", args)


def narrow(b, node, ins):
    """``Slice`` of ``length`` elements from ``start`` along ``dim``."""
    a = node.attrs
    dim = a["dim"] % len(node.inputs[0].shape)
    start = a["start"] % node.inputs[0].shape[dim] if a["start"] < 0 else a["start"]
    return _slice(b, ins[0], [start], [start + a["length"]], [dim])


def select(b, node, ins):
    """``Gather`` with a 0-d index (drops the dimension)."""
    a = node.attrs
    dim = a["dim"] % len(node.inputs[0].shape)
    index = a["index"] % node.inputs[0].shape[dim]
    return b.op("Gather", [ins[0], b.const(np.asarray(index, np.int64))], axis=dim)


def index(b, node, ins):
    """Basic indexing (ints, slices with positive steps, None, Ellipsis): ``Slice``, then
    ``Squeeze`` the integer positions and ``Unsqueeze`` the ``None`` ones; an index with one
    integer array: ``Gather``."""
    shape = node.inputs[0].shape
    items = list(node.attrs["index"])
    if not node.attrs.get("basic", True):
        return _advanced(b, node, ins, items)
    n_real = sum(1 for it in items if it is not None and it is not Ellipsis)
    expanded = []
    for it in items:
        if it is Ellipsis:
            expanded += [slice(None)] * (len(shape) - n_real)
        else:
            expanded.append(it)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    dim = out_dim = 0
    for it in expanded:
        if it is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        size = shape[dim]
        if isinstance(it, slice):
            start, stop, step = it.indices(size)
            if (start, stop, step) != (0, size, 1):
                starts.append(start)
                ends.append(stop)
                axes.append(dim)
                steps.append(step)
            out_dim += 1
        else:
            i = int(it) % size
            starts.append(i)
            ends.append(i + 1)
            axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        dim += 1
    x = ins[0]
    if axes:
        x = _slice(b, x, starts, ends, axes, steps)
    if squeeze:
        x = b.op("Squeeze", [x, b.ints(squeeze)])
    if unsqueeze:
        x = b.op("Unsqueeze", [x, b.ints(unsqueeze)])
    return x if x != ins[0] else b.op("Identity", ins)


def _advanced(b, node, ins, items):
    arrays = [(k, it) for k, it in enumerate(items) if isinstance(it, np.ndarray)]
    rest_plain = all(it is Ellipsis or it == slice(None) for k, it in enumerate(items)
                     if not isinstance(it, np.ndarray))
    if len(arrays) != 1 or arrays[0][1].dtype.kind == "b" or not rest_plain \
            or any(it is Ellipsis for it in items[:arrays[0][0]]):
        raise Unsupported("only indexing with one integer array (and full slices) is lowered")
    dim, idx = arrays[0]
    size = node.inputs[0].shape[dim]
    idx = np.where(idx < 0, idx + size, idx).astype(np.int64)
    return b.op("Gather", [ins[0], b.const(idx)], axis=dim)


def flip(b, node, ins):
    """``Slice`` with step -1 over ``dims``."""
    dims = [int(d) for d in node.attrs["dims"]]
    n = len(dims)
    return _slice(b, ins[0], [-1] * n, [-_BIG] * n, dims, [-1] * n)


def roll(b, node, ins):
    """Two slices concatenated per rolled dimension."""
    x = ins[0]
    shape = node.inputs[0].shape
    for shift, dim in zip(node.attrs["shifts"], node.attrs["dims"]):
        size = shape[dim]
        s = shift % size if size else 0
        if s:
            tail = _slice(b, x, [size - s], [size], [dim])
            head = _slice(b, x, [0], [size - s], [dim])
            x = b.op("Concat", [tail, head], axis=int(dim))
    return x if x != ins[0] else b.op("Identity", ins)


def repeat(b, node, ins):
    """``Tile`` (after a ``Reshape`` adding leading 1s when ``sizes`` is longer)."""
    sizes = [int(s) for s in node.attrs["sizes"]]
    shape = node.inputs[0].shape
    x = ins[0]
    if len(sizes) > len(shape):
        x = b.op("Reshape", [x, b.ints((1,) * (len(sizes) - len(shape)) + tuple(shape))])
    return b.op("Tile", [x, b.ints(sizes)])


def _pads(widths):
    return [int(w[0]) for w in widths] + [int(w[1]) for w in widths]


def pad_constant(b, node, ins):
    """``Pad`` mode constant (negative widths crop, as in ember)."""
    dt = node.outputs[0].dtype
    return b.op("Pad", [ins[0], b.ints(_pads(node.attrs["widths"])),
                        b.scalar(node.attrs["value"], dt)], mode="constant")


_PAD_MODES = {"reflect": "reflect", "replicate": "edge"}


def pad(b, node, ins):
    """``Pad`` mode reflect or edge (ember's replicate)."""
    mode = node.attrs["mode"]
    if mode not in _PAD_MODES:
        raise Unsupported(f"pad mode {mode!r} has no ONNX opset-17 equivalent")
    return b.op("Pad", [ins[0], b.ints(_pads(node.attrs["widths"]))], mode=_PAD_MODES[mode])


def _trilu(upper: int):
    def lower(b, node, ins):
        k = b.const(np.asarray(node.attrs["diagonal"], np.int64))
        return b.op("Trilu", [ins[0], k], upper=upper)

    lower.__doc__ = "``Trilu`` keeping the " + ("upper" if upper else "lower") + " triangle."
    return lower


def gather(b, node, ins):
    """``GatherElements`` along ``dim``."""
    idx = b.cast(ins[1], node.inputs[1].dtype, np.int64)
    return b.op("GatherElements", [ins[0], idx], axis=int(node.attrs["dim"]))


def embedding(b, node, ins):
    """``Gather`` rows of the weight (inputs are ``weight, indices``)."""
    idx = b.cast(ins[1], node.inputs[1].dtype, np.int64)
    return b.op("Gather", [ins[0], idx], axis=0)


LOWERINGS = {
    "reshape": reshape, "view": reshape, "reduce_reshape": reshape,
    "permute": permute, "transpose": transpose, "expand": expand,
    "cat": cat, "stack": stack, "narrow": narrow, "select": select, "index": index,
    "flip": flip, "roll": roll, "repeat": repeat, "pad_constant": pad_constant, "pad": pad,
    "tril": _trilu(0), "triu": _trilu(1), "gather": gather, "embedding": embedding,
}
