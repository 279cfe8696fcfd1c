"""Tracer unit tests: what ember.graph.trace must capture besides plain ops.

Every check runs the compiled function at least twice with *different* values: the first
call is the eager trace itself, so only later calls show whether the graph is right.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ember
from ember import nn
from ember.errors import GraphError
from ember.tensor import _make

HERE = __file__


def _line_of(marker: str) -> str:
    """``this_file:line`` of the source line containing ``marker``."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    for i, text in enumerate(lines, 1):
        if marker in text and "_line_of" not in text:
            return f"{HERE}:{i}"
    raise AssertionError(marker)


def _t(*values):
    return ember.tensor(np.array(values, np.float32))


def test_inplace_update_of_an_input_is_written_back():
    def f(x):
        x.mul_(2).add_(1)
        return x * 3

    step = ember.compile(f)
    step(_t(1.0, 2.0))
    x = _t(5.0, -1.0)
    out = step(x)
    np.testing.assert_array_equal(x.numpy(), [11.0, -1.0])
    np.testing.assert_array_equal(out.numpy(), [33.0, -3.0])


def test_inplace_update_of_a_captured_tensor_is_written_back_every_call():
    counter = ember.zeros(2)

    @ember.compile
    def f(x):
        counter.add_(x)
        return counter * 1

    for k in range(1, 4):
        out = f(_t(1.0, 2.0))
        np.testing.assert_array_equal(counter.numpy(), [k, 2 * k])
        np.testing.assert_array_equal(out.numpy(), [k, 2 * k])


def test_grad_is_written_back_and_cleared():
    w = ember.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)

    @ember.compile
    def backward_step(x):
        (w * x).sum().backward()

    @ember.compile
    def clear():
        w.grad = None
        return w * 1

    backward_step(_t(1.0, 1.0))
    clear()
    assert w.grad is None
    backward_step(_t(3.0, 4.0))  # a new graph: .grad is None again, as when traced
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 4.0])
    clear()
    assert w.grad is None


def test_grad_accumulates_like_eager_when_not_cleared():
    w = ember.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    step = ember.compile(lambda x: (w * x).sum().backward())
    step(_t(1.0, 1.0))
    step(_t(2.0, 3.0))
    step(_t(4.0, 5.0))
    np.testing.assert_array_equal(w.grad.numpy(), [7.0, 9.0])


def test_random_draws_consume_the_generator_like_eager():
    def f(x):
        return x + ember.rand(3), nn.functional.dropout(x, 0.5, True)

    results = {}
    for mode in ("eager", "compiled"):
        step = ember.compile(f) if mode == "compiled" else f
        ember.manual_seed(3)
        outs = [step(_t(1.0, 2.0, 3.0)) for _ in range(3)]
        after = ember.rand(2).numpy()  # the generator advanced by the same draws
        results[mode] = ([o.numpy() for pair in outs for o in pair], after)
    for a, b in zip(results["eager"][0], results["compiled"][0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results["eager"][1], results["compiled"][1])
    assert not np.array_equal(results["eager"][0][0], results["eager"][0][2])


def test_value_read_raises_graph_error_naming_the_line():
    def f(x):
        if x.sum() > 0:  # value-read-here
            return x
        return -x

    with pytest.raises(GraphError) as info:
        ember.compile(f)(_t(1.0))
    assert _line_of("# value-read-here") in str(info.value)


@pytest.mark.parametrize("read", ["item", "numpy", "tolist"])
def test_item_numpy_tolist_raise_graph_error(read):
    def f(x):
        getattr(x, read)()  # read-method-here
        return x

    with pytest.raises(GraphError, match=_line_of("# read-method-here")):
        ember.compile(f)(_t(1.0))


def test_inplace_into_a_view_raises_graph_error():
    def f(x):
        y = x * 1
        y[0].mul_(2)  # view-write-here
        return y

    with pytest.raises(GraphError, match="view") as info:
        ember.compile(f)(_t(1.0, 2.0))
    assert _line_of("# view-write-here") in str(info.value)


def test_tensor_made_from_a_raw_view_of_a_traced_array_raises():
    """The stale-constant hole: a Tensor wrapped around (a view of) a per-run array outside
    an op would be read as the traced call's values forever; the tracer refuses it."""
    def f(x):
        y = x * 2
        bad = _make(y._data[::-1])
        return bad + 1  # stale-use-here (the first op reading it)

    with pytest.raises(GraphError, match="outside an op") as info:
        ember.compile(f)(_t(1.0, 2.0))
    assert _line_of("# stale-use-here") in str(info.value)


def test_index_values_read_outside_an_op_raise():
    def f(x, idx):
        return ember.take(x, idx)  # take-here

    with pytest.raises(GraphError, match=_line_of("# take-here")):
        ember.compile(f)(_t(1.0, 2.0, 3.0), ember.tensor(np.array([2, 0])))


def test_index_tensor_as_input_follows_new_values():
    step = ember.compile(lambda x, idx: x[idx] * 2)
    step(_t(1.0, 2.0, 3.0), ember.tensor(np.array([2, 0])))
    out = step(_t(1.0, 2.0, 3.0), ember.tensor(np.array([1, 1])))
    np.testing.assert_array_equal(out.numpy(), [4.0, 4.0])


def test_constants_made_inside_the_function_stay_correct():
    step = ember.compile(lambda x: x * ember.ones(2) + ember.tensor([1.0, 2.0]))
    step(_t(1.0, 1.0))
    np.testing.assert_array_equal(step(_t(5.0, 6.0)).numpy(), [6.0, 8.0])


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
def test_recurrent_backward_is_a_graph_node_reading_the_forward_workspace(cell):
    ember.manual_seed(0)
    layer = cell(3, 4)
    params = list(layer.parameters())

    def step(x):
        for p in params:
            p.grad = None
        layer(x)[0].sum().backward()
        return tuple(p.grad for p in params)

    compiled = ember.compile(step)
    rng = np.random.default_rng(0)
    compiled(ember.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32)))
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    got = compiled(ember.tensor(x))
    expected = step(ember.tensor(x))
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy())
    name = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}[cell] + "_sequence_backward"
    if ember.get_backend() == "onednn" and cell is not nn.RNN:
        name = "rnn_fused_backward"  # the oneDNN backend's fused layer op (ops/rnn_fused.py)
    assert name in str(compiled.graph)


def test_max_pool_indices_follow_new_inputs():
    step = ember.compile(lambda x: nn.functional.max_pool2d(x, 2, return_indices=True))
    rng = np.random.default_rng(0)
    step(ember.tensor(rng.standard_normal((1, 1, 4, 4)).astype(np.float32)))
    x = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    got = step(ember.tensor(x))
    expected = nn.functional.max_pool2d(ember.tensor(x), 2, return_indices=True)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g.numpy(), e.numpy())


def test_retain_grad_of_an_intermediate_follows_new_values():
    w = ember.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)

    def f(x):
        h = w * x
        h.retain_grad()
        (h * h).sum().backward()
        return h.grad

    step = ember.compile(f)
    step(_t(1.0, 1.0))
    np.testing.assert_array_equal(step(_t(3.0, 4.0)).numpy(), [6.0, 16.0])
