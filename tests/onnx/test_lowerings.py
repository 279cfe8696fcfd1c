"""Every ONNX lowering: a one-node graph run in ONNX Runtime equals the op's own forward.

``CASES`` has at least one case per name in ``ember.onnx.LOWERINGS`` (checked by
``test_every_lowering_has_a_case``), with the attributes exactly as the op wrappers pass them.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.onnx import LOWERINGS

from ._helpers import assert_close, check_and_run, one_node_graph

R = np.random.default_rng(7)


def f(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, shape).astype(np.float32)


def pos(*shape):
    return f(*shape, lo=0.1, hi=3.0)


def i64(*shape, hi=5):
    return R.integers(0, hi, shape).astype(np.int64)


def bools(*shape):
    return R.random(shape) > 0.5


X = f(2, 3, 4)
Y = f(2, 3, 4)
SPECIAL = np.array([1.0, np.nan, np.inf, -np.inf, -2.0], np.float32)

_UNARY = ["neg", "abs", "exp", "sin", "cos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf",
          "floor", "ceil", "relu", "square", "expm1", "trunc", "frac", "sign", "silu", "exp2",
          "clone", "contiguous", "alias", "stale_view"]
_POSITIVE = ["log", "sqrt", "reciprocal", "rsqrt", "log2", "log10", "log1p"]
_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "remainder", "fmod",
           "floor_divide"]
_COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]

CASES = (
    [(name, [X], {}) for name in _UNARY]
    + [(name, [pos(3, 4)], {}) for name in _POSITIVE]
    + [(name, [X, Y], {}) for name in _BINARY]
    + [(name, [np.round(X), np.round(Y)], {}) for name in _COMPARE]
    + [(name, [bools(3, 4), bools(3, 4)], {}) for name in ("logical_and", "logical_or",
                                                            "logical_xor")]
    + [
        ("tan", [f(3, 4, lo=-1, hi=1)], {}),
        ("asin", [f(3, 4, lo=-0.9, hi=0.9)], {}),
        ("acos", [f(3, 4, lo=-0.9, hi=0.9)], {}),
        ("pow", [pos(3, 4), f(3, 4)], {}),
        ("add", [X, np.float32(0.5)], {}),  # broadcast against a 0-d operand
        ("mul", [X, f(4)], {}),
        ("round", [X * 3], {"decimals": 0}),
        ("round", [X * 3], {"decimals": 1}),
        ("logical_not", [bools(3, 4)], {}),
        ("isnan", [SPECIAL], {}),
        ("isinf", [SPECIAL], {}),
        ("gelu", [X], {"approximate": "none"}),
        ("gelu", [X], {"approximate": "tanh"}),
        ("leaky_relu", [X], {"negative_slope": 0.1}),
        ("elu", [X], {"alpha": 1.5}),
        ("softplus", [X], {"beta": 1.0, "threshold": 20.0}),
        ("softplus", [X], {"beta": 2.0, "threshold": 1.0}),
        ("clamp", [X], {"min": -0.5, "max": 0.5}),
        ("clamp", [X], {"min": 0.1, "max": None}),
        ("hardtanh", [X], {"min_val": -1.0, "max_val": 1.0}),
        ("where", [bools(2, 3, 4), X, Y], {}),
        ("cast", [X * 3], {"dtype": ember.int32}),
        ("cast", [i64(3, 4)], {"dtype": ember.float32}),
        # reductions
        ("sum", [X], {"dim": None, "keepdim": False, "dtype": None}),
        ("sum", [X], {"dim": (0, 2), "keepdim": True, "dtype": None}),
        ("mean", [X], {"dim": (1,), "keepdim": False}),
        ("prod", [X], {"dim": 1, "keepdim": False, "dtype": None}),
        ("amax", [X], {"dim": (2,), "keepdim": False}),
        ("amin", [X], {"dim": (0, 1), "keepdim": True}),
        ("var", [X], {"dim": (1,), "keepdim": False, "correction": 1}),
        ("var", [X], {"dim": (0, 2), "keepdim": True, "correction": 0}),
        ("logsumexp", [X], {"dim": (1,), "keepdim": False}),
        ("argmax", [X], {"dim": 1, "keepdim": False}),
        ("argmax", [X], {"dim": None, "keepdim": False}),
        ("argmin", [X], {"dim": 2, "keepdim": True}),
        ("max_dim", [X, X.argmax(1)], {"dim": 1, "keepdim": False}),
        ("min_dim", [X, np.expand_dims(X.argmin(2), 2)], {"dim": 2, "keepdim": True}),
        ("cumsum", [X], {"dim": 1, "dtype": None, "reverse": False}),
        ("cumsum", [X], {"dim": 2, "dtype": None, "reverse": True}),
        ("softmax", [X], {"dim": 2}),
        ("log_softmax", [X], {"dim": 0}),
        ("softmax_sum", [X], {"dim": 1}),
        ("all", [bools(3, 4)], {"dim": None, "keepdim": False}),
        ("any", [bools(3, 4)], {"dim": (1,), "keepdim": False}),
        ("count_nonzero", [np.round(X)], {"dim": (1,)}),
        # movement
        ("reshape", [X], {"shape": (6, -1)}),
        ("view", [X], {"shape": (2, 12)}),
        ("reduce_reshape", [X], {"shape": (2, 3, 4, 1)}),
        ("permute", [X], {"dims": (2, 0, 1)}),
        ("transpose", [X], {"dim0": 0, "dim1": 2}),
        ("expand", [f(3, 1)], {"shape": (2, 3, 5)}),
        ("cat", [X, Y[:, :2]], {"dim": 1}),
        ("stack", [X, Y], {"dim": 1}),
        ("narrow", [X], {"dim": 2, "start": 1, "length": 2}),
        ("select", [X], {"dim": 1, "index": -1}),
        ("index", [X], {"index": (slice(None), slice(1, 3, 2), None, 0, Ellipsis),
                        "basic": True}),
        ("index", [X], {"index": (Ellipsis, 1), "basic": True}),
        ("index", [X], {"index": (slice(None, 1, None), Ellipsis), "basic": True}),
        ("index", [X], {"index": (slice(None), np.array([2, 0, -1])), "basic": False}),
        ("flip", [X], {"dims": (0, 2)}),
        ("roll", [X], {"shifts": (1, -1), "dims": (1, 2)}),
        ("repeat", [f(3, 4)], {"sizes": (2, 1, 3)}),
        ("pad_constant", [X], {"widths": ((0, 0), (1, 2), (-1, 1)), "value": 0.5}),
        ("pad", [X], {"widths": ((0, 0), (0, 0), (2, 1)), "mode": "reflect"}),
        ("pad", [X], {"widths": ((0, 0), (1, 1), (1, 1)), "mode": "replicate"}),
        ("tril", [f(4, 5)], {"diagonal": 0}),
        ("triu", [f(2, 4, 5)], {"diagonal": 1}),
        ("gather", [X, i64(2, 3, 2, hi=4)], {"dim": 2}),
        ("embedding", [f(10, 4), i64(2, 3, hi=10)], {"padding_idx": None,
                                                     "scale_grad_by_freq": False}),
        # products, conv, pooling
        ("linear", [f(5, 4), f(3, 4), f(3)], {}),
        ("linear", [f(2, 5, 4), f(3, 4), f(3)], {}),
        ("linear", [f(5, 4), f(3, 4)], {}),
        ("matmul", [f(2, 3, 4), f(4, 5)], {}),
        ("mm", [f(3, 4), f(4, 5)], {}),
        ("bmm", [f(2, 3, 4), f(2, 4, 5)], {}),
        ("mv", [f(3, 4), f(4)], {}),
        ("dot", [f(4), f(4)], {}),
        ("conv2d", [f(2, 3, 9, 8), f(4, 3, 3, 3), f(4)],
         {"stride": (1, 1), "padding": ((1, 1), (1, 1)), "dilation": (1, 1), "groups": 1,
          "cache": None}),
        ("conv2d", [f(1, 4, 9, 8), f(6, 2, 3, 2)],
         {"stride": (2, 1), "padding": ((0, 1), (2, 0)), "dilation": (1, 2), "groups": 2,
          "cache": None}),
        ("conv2d_backward_input", [f(2, 4, 5, 4), f(4, 3, 3, 3)],
         {"input_shape": (2, 3, 10, 8), "stride": (2, 2), "padding": ((1, 1), (1, 1)),
          "dilation": (1, 1), "groups": 1}),
        ("max_pool2d", [f(2, 3, 8, 8)], {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0),
                                         "dilation": (1, 1), "ceil_mode": False, "cache": None}),
        ("max_pool2d", [f(1, 2, 9, 7)], {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1),
                                         "dilation": (1, 1), "ceil_mode": True, "cache": None}),
        ("avg_pool2d", [f(2, 3, 8, 8)], {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0),
                                         "ceil_mode": False, "count_include_pad": True,
                                         "divisor_override": None}),
        ("avg_pool2d", [f(1, 2, 7, 7)], {"kernel": (3, 3), "stride": (2, 2), "padding": (1, 1),
                                         "ceil_mode": False, "count_include_pad": False,
                                         "divisor_override": None}),
        ("norm_stats", [X], {"dims": (2,)}),
    ]
)


def _normalize_case(op_name, x, dims, param_shape):
    mean = x.mean(axis=dims, keepdims=True)
    rstd = 1 / np.sqrt(x.var(axis=dims, keepdims=True) + 1e-5)
    attrs = {"dims": dims, "eps": 1e-5, "has_weight": True, "has_bias": True}
    return (op_name, [x, mean.astype(np.float32), rstd.astype(np.float32), f(*param_shape),
                      f(*param_shape)], attrs)


def _recurrent_cases():
    t, n, h = 5, 2, 3
    return [
        ("lstm_sequence", [f(t, n, 4 * h), f(n, h), f(n, h), f(4 * h, h)], {}),
        ("gru_sequence", [f(t, n, 3 * h), f(n, h), f(3 * h, h), f(3 * h)], {}),
        ("gru_sequence", [f(t, n, 3 * h), f(n, h), f(3 * h, h)], {}),
        ("rnn_sequence", [f(t, n, h), f(n, h), f(h, h)], {"nonlinearity": "tanh"}),
        ("rnn_sequence", [f(t, n, h), f(n, h), f(h, h)], {"nonlinearity": "relu"}),
    ]


CASES += [
    _normalize_case("layer_norm", f(2, 3, 8), (2,), (8,)),
    _normalize_case("layer_norm", f(2, 3, 8), (1, 2), (3, 8)),
    _normalize_case("batch_norm", f(4, 3, 5, 5), (0, 2, 3), (3, 1, 1)),
    _normalize_case("group_norm", f(2, 3, 2, 4), (2, 3), (1, 1, 4)),
    ("layer_norm", [X, X.mean(2, keepdims=True),
                    (1 / np.sqrt(X.var(2, keepdims=True) + 1e-3)).astype(np.float32)],
     {"dims": (2,), "eps": 1e-3, "has_weight": False, "has_bias": False}),
] + _recurrent_cases()


def _case_id(case):
    name, arrays, attrs = case
    shapes = "x".join(str(np.shape(a)).replace(" ", "") for a in arrays)
    return f"{name}-{shapes}-{len(attrs)}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_lowering_matches_forward(case):
    name, arrays, attrs = case
    graph, want, feed = one_node_graph(name, arrays, attrs)
    got = check_and_run(graph, feed)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w, rtol=2e-5, atol=2e-5)


# lowerings tested by a dedicated test below instead of a CASES row
DEDICATED = {"rnn_fused_run"}


def test_every_lowering_has_a_case():
    covered = {c[0] for c in CASES} | DEDICATED
    assert set(LOWERINGS) - covered == set()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("has_bias", [False, True])
def test_rnn_fused_run_matches_its_composite(cell, reverse, has_bias):
    """The oneDNN backend's whole-layer op; the reference is its ember-op composite (the op's
    own forward needs libdnnl)."""
    from ember.graph.ir import Graph
    from ember.ops import rnn_fused
    from ember.ops.registry import REGISTRY

    t, n, i, h = 5, 2, 4, 3
    g_count = 4 if cell == "lstm" else 3
    n_states = 2 if cell == "lstm" else 1
    arrays = [f(t, n, i)] + [f(n, h) for _ in range(n_states)] + [f(g_count * h, i),
                                                                   f(g_count * h, h)]
    if has_bias:
        arrays += [f(g_count * h), f(g_count * h)]
    tensors = [ember.from_numpy(a) for a in arrays]
    x, states = tensors[0], tuple(tensors[1:1 + n_states])
    w_ih, w_hh = tensors[1 + n_states], tensors[2 + n_states]
    b_ih, b_hh = (tensors[3 + n_states], tensors[4 + n_states]) if has_bias else (None, None)
    with ember.no_grad():
        want = [o.numpy() for o in rnn_fused._composite(x, states, w_ih, w_hh, b_ih, b_hh,
                                                        cell, reverse)]
    graph = Graph("rnn")
    ins = []
    for a in arrays:
        v = graph.new_value(a.shape, a.dtype, "input", index=len(graph.inputs))
        graph.inputs.append(v)
        ins.append(v)
    node = graph.add_node(REGISTRY["rnn_fused_run"], ins,
                          {"cell": cell, "has_bias": has_bias, "reverse": reverse,
                           "training": False}, "t.py:1", multi=True)
    for k, w in enumerate(want):
        node.outputs.append(graph.new_value(w.shape, w.dtype, "node", producer=node, index=k))
    node.outputs.append(graph.new_value((0,), np.uint8, "node", producer=node,
                                        index=len(want)))
    graph.outputs = node.outputs[:-1]
    graph.link()
    got = check_and_run(graph, arrays)
    for g_, w_ in zip(got, want):
        assert_close(g_, w_)


def test_lstm_zero_initial_state_is_left_out():
    """A zero constant h0/c0 is ONNX's default: no initial_h/initial_c input is written."""
    t, n, h = 4, 2, 3
    arrays = [f(t, n, 4 * h), np.zeros((n, h), np.float32), np.zeros((n, h), np.float32),
              f(4 * h, h)]
    graph, want, feed = one_node_graph("lstm_sequence", arrays, {},
                                       kinds=["input", "const", "const", "input"])
    got = check_and_run(graph, feed)
    for g, w in zip(got, want):
        assert_close(g, w)
    from ember.onnx import export_graph

    from ._helpers import onnx
    model = onnx.load_from_string(export_graph(graph))
    (lstm,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(lstm.input) <= 4  # X, W, R, B: no sequence_lens / initial_h / initial_c
