"""``Module.summary``: a Keras-style table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..errors import ShapeError
from ..tensor import Tensor, _make


def _shape_text(out) -> str:
    if isinstance(out, Tensor):
        return str([None] + list(out.shape[1:]))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_text(o) for o in out if isinstance(o, (Tensor, tuple, list)))
    return "-"


def summarize(model, input_shape, dtype=None) -> str:
    """Run a batch of 2 zeros of ``input_shape`` through ``model`` and tabulate each layer."""
    from ..dtypes import as_dtype, get_default_dtype

    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise ShapeError(
            f"summary: input_shape must be a tuple of ints, got {input_shape!r}"
        ) from None
    dt = get_default_dtype() if dtype is None else as_dtype(dtype)
    rows = []
    handles = []
    names = {id(m): n for n, m in model.named_modules()}

    def record(module, args, out):
        rows.append((names.get(id(module), "?"), type(module).__name__, _shape_text(out),
                     sum(p.numel() for p in module.parameters(recurse=False))))

    for m in model.modules():
        if m is not model and not m._modules:  # leaves only: containers add no rows
            handles.append(m.register_forward_hook(record))
    was_training = model.training
    model.eval()
    try:
        with grad_mode.no_grad():
            x = _make(np.zeros((2,) + shape, dtype=dt.np))
            out = model(x)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    header = ("Layer (type)", "Output Shape", "Param #")
    body = [(f"{n} ({t})", s, f"{c:,}") for n, t, s, c in rows]
    widths = [max(len(r[i]) for r in [header] + body) + 2 for i in range(3)]
    rule = "=" * sum(widths)
    lines = [f"Model: {type(model).__name__}", rule,
             "".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in body]
    lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}",
              f"Output shape: {_shape_text(out)}", rule]
    return "\n".join(lines)
