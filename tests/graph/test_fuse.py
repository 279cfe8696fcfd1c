"""Elementwise fusion: fused kernels give exactly (bitwise) what the unfused ops give."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.graph.passes.fuse import FusedOp, fused_nodes

RNG = np.random.default_rng(0)


def _data(shape, dtype, positive=False):
    x = RNG.standard_normal(shape) * 3
    if positive:
        x = np.abs(x) + 0.1
    if np.dtype(dtype).kind in "iu":
        x = np.round(x)
    if np.dtype(dtype) == np.bool_:
        x = x > 0
    return ember.tensor(x.astype(dtype))


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))


def _check(fn, *args, min_steps=2):
    """Compiled == eager bitwise on three calls (the first call traces, the others run the
    fused kernels), and the graph holds a fused kernel of at least ``min_steps`` ops."""
    expect = fn(*args)
    compiled = ember.compile(fn)
    for _ in range(3):
        got = compiled(*args)
        _same(got.numpy(), expect.numpy())
    sizes = [len(n.op.steps) for n in fused_nodes(compiled.graph)]
    assert sizes and max(sizes) >= min_steps, compiled.graph
    return compiled


def _chain(a, b):
    return ember.sigmoid(a * b + a) - ember.exp(-b) * ember.tanh(a / (b * b + 1))


SHAPES = [((4, 5), (4, 5)), ((4, 5), (5,)), ((3, 1), (1, 4)), ((2, 3, 4), ()), ((), ())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shapes", SHAPES)
def test_float_chain_bitwise(dtype, shapes):
    _check(_chain, _data(shapes[0], dtype), _data(shapes[1], dtype), min_steps=8)


@pytest.mark.parametrize("da,db", [(np.int32, np.float32), (np.int64, np.float16),
                                   (np.float32, np.float64), (np.uint8, np.int8),
                                   (np.bool_, np.float32), (np.int16, np.int64)])
def test_mixed_dtypes_promote_like_eager(da, db):
    def fn(a, b):
        return (a * b + b) * 2 + a

    _check(fn, _data((3, 4), da), _data((4,), db))


def test_python_numbers_and_int_division():
    def fn(a, b):
        return ember.maximum(a * 2.5 + 1, b) / 3 + (a // 2) * 0.5

    _check(fn, _data((5, 6), np.int32), _data((6,), np.float32))


def test_transposed_and_broadcast_inputs():
    def fn(a, b):
        return ember.log(ember.exp(a.t()) + 1) * ember.sqrt(b * b + 2)

    x = _data((7, 5), np.float32)
    _check(fn, x, _data((1, 7), np.float32))
    _check(fn, x, _data((5, 7), np.float32).t().contiguous().t())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_compare_cast_relu(dtype):
    def fn(a, b):
        m = (a > b) & (b > 0)
        r = ember.relu(a - b) + ember.where(m, a * 2, b - 1)
        return r * (a < 0).to(a.dtype) + ember.abs(ember.minimum(a, b))

    _check(fn, _data((6, 5), dtype), _data((5,), dtype), min_steps=4)


def test_where_dest_never_overwrites_its_choice():
    # where's output may share memory only with its `other` operand (copied first)
    def fn(a, b):
        t = a * 3
        return ember.where(b > 0, t, b * 2) + 1

    _check(fn, _data((50,), np.float32), _data((50,), np.float32))


def test_nan_inf_and_signed_zero():
    a = ember.tensor(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 3e38], np.float32))
    b = ember.tensor(np.array([-0.0, 0.0, np.inf, 1.0, 2.0, -1e-40, 3e38], np.float32))

    def fn(a, b):
        return ember.exp(a * b) / (a - b) + ember.log(ember.abs(b)) * ember.sigmoid(a)

    _check(fn, a, b)


def test_training_step_backward_is_fused_and_equal():
    ember.manual_seed(0)
    x = _data((16, 8), np.float32)

    def make():
        ember.manual_seed(0)
        return ember.nn.Sequential(ember.nn.Linear(8, 12), ember.nn.Tanh(),
                                   ember.nn.Linear(12, 3), ember.nn.Sigmoid())

    def step_of(model):
        def step(x):
            loss = (model(x) ** 2).mean()
            loss.backward()
            grads = [p.grad * 1 for p in model.parameters()]
            for p in model.parameters():
                p.grad = None
            return [loss] + grads

        return step

    eager = step_of(make())(x)
    compiled = ember.compile(step_of(make()))
    compiled(x)
    got = compiled(x)
    for a, b in zip(got, eager):
        _same(a.numpy(), b.detach().numpy())


def test_multi_use_values_and_random_stay_separate():
    def fn(a):
        t = a * 2  # read twice: its own kernel
        return ember.exp(t) + t * t + ember.rand(3)

    compiled = ember.compile(fn)
    compiled(_data((3,), np.float32))
    graph = compiled.graph
    assert any(n.op.name == "random" for n in graph.nodes)
    t_nodes = [n for n in fused_nodes(graph) if n.op.steps[-1].op.name == "mul"
               and len(n.op.steps) == 1]
    assert t_nodes, graph


def test_kernel_with_given_buffers_equals_allocating_kernel():
    def fn(a, b):
        return ember.tanh(a * b) + (a - b) * (a + b)

    compiled = ember.compile(fn)
    a, b = _data((4, 6), np.float32), _data((4, 6), np.float32)
    compiled(a, b)
    (node,) = [n for n in fused_nodes(compiled.graph) if len(n.op.steps) > 1]
    op: FusedOp = node.op
    expect = op.forward(a.numpy(), b.numpy())
    for alias in [None] + [j for j in range(len(op.leaves)) if op.can_alias(j)]:
        kernel, scratch = op.build(alias)
        bufs = tuple(np.full(s, 7, d) for s, d in scratch)
        ins = [a.numpy().copy(), b.numpy().copy()]
        out = ins[alias] if alias is not None else np.empty((4, 6), np.float32)
        got = kernel(*ins, out=out, scratch=bufs if scratch else None)
        assert got is out
        _same(got, expect)


def test_printed_graph_names_the_fused_ops():
    compiled = ember.compile(_chain)
    compiled(_data((2,), np.float32), _data((2,), np.float32))
    text = str(compiled.graph)
    assert "fused{" in text and "sigmoid" in text


def test_final_step_never_overwrites_an_input_it_still_reads():
    """A fused group ending in where(c, x, y) with x already in the output buffer used to
    copy y over x before reading it (cumprod's backward); the kernel now computes aside."""
    def step(x, g):
        y = ember.cumprod(x, 1)
        y.backward(g)
        return x.grad

    rng = np.random.default_rng(0)

    def inputs():
        x = ember.tensor(rng.uniform(0.5, 2, (3, 4)).astype(np.float32), requires_grad=True)
        return x, ember.tensor(rng.standard_normal((3, 4)).astype(np.float32))

    f = ember.compile(step)
    f(*inputs())
    x, g = inputs()
    x2 = ember.tensor(x.detach().numpy(), requires_grad=True)
    np.testing.assert_array_equal(f(x, g).numpy(), step(x2, g).numpy())
    assert any(n.name.startswith("fused{") and "where" in n.name for n in f.graph.nodes)


def test_channels_last_results_keep_their_layout():
    """A 4-D result that was channels-last when traced (the oneDNN backend's conv outputs)
    is allocated channels-last by the fused kernel too, so a following convolution needs no
    layout copy; the values are the eager ones."""
    nhwc = np.random.default_rng(0).standard_normal((2, 5, 6, 3)).astype(np.float32)
    x = ember.tensor(nhwc).permute(0, 3, 1, 2)  # logical NCHW, NHWC in memory

    def f(a):
        return (a * 2.0).relu() - 1.0

    compiled = ember.compile(f)
    compiled(x)
    out = compiled(x)
    expected = f(x)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.numpy().strides == expected.numpy().strides
    assert out.numpy().strides[1] == 4  # channels are adjacent in memory
