"""Lowerings of the neural-network primitives: linear/matmul, convolution, pooling,
normalization and the fused recurrent layers.

Recurrent layers: ember's ``lstm_sequence``/``gru_sequence``/``rnn_sequence`` take the input
projection ``xproj`` (T, B, G*H) computed beforehand, while ONNX's LSTM/GRU/RNN take the raw
input and the input weights. When ``xproj`` is the only use of a ``linear`` node, the linear's
input, weight and bias feed the ONNX op directly (the linear node is then dead and pruned);
otherwise ``xproj`` is the ONNX input and the input weight is a permutation matrix. Either way
the gate blocks are reordered from ember's (PyTorch's) order to ONNX's: LSTM i,f,g,o ->
i,o,f,c; GRU r,z,n -> z,r,h.
"""

from __future__ import annotations

import numpy as np

from ._builder import Unsupported

# ----------------------------------------------------------------------------- products


def linear(b, node, ins):
    """``Gemm(transB=1)`` for a 2-D input; ``MatMul`` with the transposed weight (+ ``Add``)
    otherwise."""
    x = node.inputs[0]
    bias = ins[2] if len(ins) > 2 else None
    if len(x.shape) == 2:
        return b.op("Gemm", [ins[0], ins[1]] + ([bias] if bias else []), transB=1)
    out = b.op("MatMul", [ins[0], b.op("Transpose", [ins[1]], perm=[1, 0])])
    return b.op("Add", [out, bias]) if bias else out


def matmul(b, node, ins):
    """``MatMul`` (NumPy semantics, as ember's matmul/mm/bmm/mv/dot)."""
    return b.op("MatMul", ins)


# ----------------------------------------------------------------------------- conv / pool


def _pair(v) -> list:
    return [int(v[0]), int(v[1])]


def conv2d(b, node, ins):
    """``Conv``: ember's padding ``((top, bottom), (left, right))`` -> ``pads``."""
    a = node.attrs
    (pt, pb), (pl, pr) = a["padding"]
    kernel = list(node.inputs[1].shape[2:])
    return b.op("Conv", ins, kernel_shape=kernel, strides=_pair(a["stride"]),
                dilations=_pair(a["dilation"]), pads=[pt, pl, pb, pr], group=int(a["groups"]))


def conv2d_backward_input(b, node, ins):
    """``ConvTranspose`` (conv_transpose2d's forward) with the output padding that gives
    ``input_shape``."""
    a = node.attrs
    (pt, pb), (pl, pr) = a["padding"]
    kernel = node.inputs[1].shape[2:]
    g_hw = node.inputs[0].shape[2:]
    extra = []
    for d in range(2):
        full = (a["stride"][d] * (g_hw[d] - 1) + (kernel[d] - 1) * a["dilation"][d] + 1
                - (pt, pl)[d] - (pb, pr)[d])
        extra.append(int(a["input_shape"][2 + d] - full))
    return b.op("ConvTranspose", ins, kernel_shape=list(kernel), strides=_pair(a["stride"]),
                dilations=_pair(a["dilation"]), pads=[pt, pl, pb, pr],
                group=int(a["groups"]), output_padding=extra)


def max_pool2d(b, node, ins):
    """``MaxPool`` (padding counts as -inf, as in ember)."""
    a = node.attrs
    ph, pw = _pair(a["padding"])
    return b.op("MaxPool", ins, kernel_shape=_pair(a["kernel"]), strides=_pair(a["stride"]),
                pads=[ph, pw, ph, pw], dilations=_pair(a["dilation"]),
                ceil_mode=int(bool(a["ceil_mode"])))


def avg_pool2d(b, node, ins):
    """``AveragePool``; a ``divisor_override`` has no ONNX equivalent."""
    a = node.attrs
    if a.get("divisor_override") is not None:
        raise Unsupported("avg_pool2d with divisor_override has no ONNX equivalent")
    ph, pw = _pair(a["padding"])
    return b.op("AveragePool", ins, kernel_shape=_pair(a["kernel"]),
                strides=_pair(a["stride"]), pads=[ph, pw, ph, pw],
                ceil_mode=int(bool(a["ceil_mode"])),
                count_include_pad=int(bool(a["count_include_pad"])))


# ----------------------------------------------------------------------------- normalization


def norm_stats(b, node, ins):
    """``[mean, biased var]`` over ``dims`` (keepdim), stacked on a new leading axis."""
    axes = [int(d) for d in node.attrs["dims"]]
    x = ins[0]
    mean = b.op("ReduceMean", [x], axes=axes, keepdims=1)
    centered = b.op("Sub", [x, mean])
    var = b.op("ReduceMean", [b.op("Mul", [centered, centered])], axes=axes, keepdims=1)
    zero = b.ints([0])
    return b.op("Concat", [b.op("Unsqueeze", [mean, zero]), b.op("Unsqueeze", [var, zero])],
                axis=0)


def _normalize_composite(b, node, ins):
    a = node.attrs
    out = b.op("Mul", [b.op("Sub", [ins[0], ins[1]]), ins[2]])
    k = 3
    if a["has_weight"]:
        out = b.op("Mul", [out, ins[k]])
        k += 1
    if a["has_bias"]:
        out = b.op("Add", [out, ins[k]])
    return out


def normalize(b, node, ins):
    """``(x - mean) * rstd * weight + bias`` from the statistics the graph computed."""
    return _normalize_composite(b, node, ins)


def layer_norm(b, node, ins):
    """``LayerNormalization`` over trailing ``dims``: the op's contract says ``mean``/``rstd``
    are ``x``'s own statistics with ``eps``, so ONNX may recompute them (ORT's fused kernel);
    the statistics nodes then have no users and are pruned."""
    a = node.attrs
    x = node.inputs[0]
    nd = len(x.shape)
    dims = tuple(sorted(int(d) for d in a["dims"]))
    if not dims or dims != tuple(range(dims[0], nd)):
        return _normalize_composite(b, node, ins)
    norm_shape = list(x.shape[dims[0]:])
    dt = node.outputs[0].dtype
    k = 3
    params = []
    for present in (a["has_weight"], a["has_bias"]):
        if present:
            p = ins[k]
            if tuple(node.inputs[k].shape) != tuple(norm_shape):
                p = b.op("Expand", [p, b.ints(norm_shape)])
            k += 1
        else:
            p = None
        params.append(p)
    scale = params[0] if params[0] is not None else b.const(np.ones(norm_shape, dt))
    inputs = [ins[0], scale] + ([params[1]] if params[1] is not None else [])
    return b.op("LayerNormalization", inputs, axis=dims[0], epsilon=float(a["eps"]))


# ----------------------------------------------------------------------------- recurrent

_LSTM_ORDER = (0, 3, 1, 2)  # ONNX i, o, f, c from ember i, f, g, o
_GRU_ORDER = (1, 0, 2)  # ONNX z, r, h from ember r, z, n
_RNN_ORDER = (0,)


def _block_index(order, hidden: int) -> np.ndarray:
    return np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in order])


def _fusable_linear(b, value):
    """The ``linear`` node producing ``value`` when it feeds only this recurrent op."""
    producer = value.producer
    if producer is None or producer.op.name != "linear" or len(b.users.get(value.id, ())) != 1:
        return None
    return producer


_PASS_THROUGH = ("select", "index", "narrow", "reshape", "view", "expand", "contiguous", "clone",
                 "alias")


def _is_zero_constant(value) -> bool:
    """Whether ``value`` is an all-zero constant, possibly seen through views of one (the
    ``h0[0]`` of a zero initial state)."""
    while value.kind == "node" and value.producer.op.name in _PASS_THROUGH:
        value = value.producer.inputs[0]
    return value.kind == "const" and value.array is not None and not np.any(value.array)


def _recurrent(b, node, ins, onnx_op, order, h0, c0, w_hh, b_hh=None, **attrs):
    """ONNX LSTM/GRU/RNN for an ember ``*_sequence`` op (input ``xproj``)."""
    xproj = node.inputs[0]
    gh = xproj.shape[2]
    hidden = gh // len(order)
    lin = _fusable_linear(b, xproj)
    if lin is not None and len(lin.inputs[0].shape) == 3:
        x = b.names[lin.inputs[0].id]
        w_ih = b.names[lin.inputs[1].id]
        b_ih = b.names[lin.inputs[2].id] if len(lin.inputs) > 2 else None
        w_is_gates = True
    else:
        x, b_ih, w_is_gates = ins[0], None, False
        w_ih = b.const(np.eye(gh, dtype=xproj.dtype)[_block_index(order, hidden)])
    states = [(node.inputs[1], h0)] + ([(node.inputs[2], c0)] if c0 is not None else [])
    return _emit_recurrent(b, onnx_op, order, hidden, xproj.dtype, x, w_ih, w_is_gates, b_ih,
                           w_hh, b_hh, states, **attrs)


def _emit_recurrent(b, onnx_op, order, hidden, dt, x, w_ih, reorder_w, b_ih, w_hh, b_hh,
                    states, **attrs):
    """The ONNX recurrent node with ember-ordered weights reordered to ONNX's gate order;
    outputs squeezed to ember's ``(hs (T, B, H), h_n (B, H)[, c_n])``."""
    index = b.const(_block_index(order, hidden).astype(np.int64))
    zero_axis = b.ints([0])

    def reorder(name):  # gate blocks along axis 0 into ONNX's order
        return b.op("Gather", [name, index], axis=0)

    w = reorder(w_ih) if reorder_w else w_ih
    zeros = b.const(np.zeros(len(order) * hidden, dt))
    if b_ih is None and b_hh is None:
        bias = None
    else:
        parts = [reorder(p) if p is not None else zeros for p in (b_ih, b_hh)]
        bias = b.op("Unsqueeze", [b.op("Concat", parts, axis=0), zero_axis])
    inputs = [x, b.op("Unsqueeze", [w, zero_axis]),
              b.op("Unsqueeze", [reorder(w_hh), zero_axis]), bias, None]
    for value, name in states:
        # an all-zero constant initial state is ONNX's default: leaving it out keeps the
        # batch size free (dynamic batch) and skips a copy
        inputs.append(None if _is_zero_constant(value)
                      else b.op("Unsqueeze", [name, zero_axis]))
    while inputs and inputs[-1] is None:
        inputs.pop()
    outs = b.op(onnx_op, inputs, n_out=1 + len(states), hidden_size=hidden, **attrs)
    seq = b.op("Squeeze", [outs[0], b.ints([1])])
    return [seq] + [b.op("Squeeze", [o, zero_axis]) for o in outs[1:]]


def lstm_sequence(b, node, ins):
    """ONNX ``LSTM`` (inputs ``xproj, h0, c0, w_hh``)."""
    return _recurrent(b, node, ins, "LSTM", _LSTM_ORDER, ins[1], ins[2], ins[3])


def gru_sequence(b, node, ins):
    """ONNX ``GRU`` with ``linear_before_reset=1`` (PyTorch's gates; inputs
    ``xproj, h0, w_hh[, b_hh]``)."""
    b_hh = ins[3] if len(ins) > 3 else None
    return _recurrent(b, node, ins, "GRU", _GRU_ORDER, ins[1], None, ins[2], b_hh,
                      linear_before_reset=1)


def rnn_sequence(b, node, ins):
    """ONNX ``RNN`` with a Tanh or Relu activation (inputs ``xproj, h0, w_hh``)."""
    act = {"tanh": "Tanh", "relu": "Relu"}[node.attrs["nonlinearity"]]
    return _recurrent(b, node, ins, "RNN", _RNN_ORDER, ins[1], None, ins[2],
                      activations=[act])


def rnn_fused_run(b, node, ins):
    """The oneDNN backend's whole-layer op (inputs ``x, h0[, c0], w_ih, w_hh[, b_ih, b_hh]``,
    attrs ``cell``, ``has_bias``, ``reverse``): ONNX LSTM/GRU on the layer input, reversed
    with ``direction="reverse"``. Its last output, oneDNN's training workspace, is unused in
    inference and exported as an empty constant."""
    a = node.attrs
    lstm = a["cell"] == "lstm"
    n = 2 if lstm else 1
    x = node.inputs[0]
    hidden = node.inputs[1].shape[-1]
    w_ih, w_hh = ins[1 + n], ins[2 + n]
    b_ih, b_hh = (ins[3 + n], ins[4 + n]) if a["has_bias"] else (None, None)
    states = [(node.inputs[1 + k], ins[1 + k]) for k in range(n)]
    order = _LSTM_ORDER if lstm else _GRU_ORDER
    extra = {} if lstm else {"linear_before_reset": 1}
    outs = _emit_recurrent(b, "LSTM" if lstm else "GRU", order, hidden, x.dtype, ins[0], w_ih,
                           True, b_ih, w_hh, b_hh, states,
                           direction="reverse" if a["reverse"] else None, **extra)
    workspace = node.outputs[-1]
    return outs + [b.const(np.zeros((0,), workspace.dtype))]


LOWERINGS = {
    "linear": linear, "matmul": matmul, "mm": matmul, "bmm": matmul, "mv": matmul,
    "dot": matmul, "conv2d": conv2d, "conv2d_backward_input": conv2d_backward_input,
    "max_pool2d": max_pool2d, "avg_pool2d": avg_pool2d, "norm_stats": norm_stats,
    "layer_norm": layer_norm, "batch_norm": normalize, "group_norm": normalize,
    "lstm_sequence": lstm_sequence, "gru_sequence": gru_sequence,
    "rnn_sequence": rnn_sequence, "rnn_fused_run": rnn_fused_run,
}
