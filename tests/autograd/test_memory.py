"""Graphs are freed by reference counting alone (no cycles, no gc.collect needed), and a long
training loop does not grow memory."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd.node import Node
from ember.ops.broadcast import sum_to

from ._util import rand


@pytest.fixture
def no_gc():
    """Run with the cycle collector off: whatever is freed here is freed by refcounts."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if was:
        gc.enable()


def test_graph_freed_when_output_dropped(no_gc):
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.exp(x) * x + ember.tanh(x)
    nodes = [weakref.ref(y.grad_fn)] + [weakref.ref(f) for f, _ in y.grad_fn.next_functions
                                        if isinstance(f, Node)]
    del y
    assert all(r() is None for r in nodes)


def test_graph_freed_after_backward(no_gc):
    x = ember.tensor(rand(3), requires_grad=True)
    y = (ember.exp(x) * x).sum()
    y.backward()
    ref = weakref.ref(y.grad_fn)
    del y
    assert ref() is None


def test_retained_graph_and_retain_grad_freed(no_gc):
    x = ember.tensor(rand(3), requires_grad=True)
    h = ember.sin(x)
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    refs = [weakref.ref(y.grad_fn), weakref.ref(h.grad_fn), weakref.ref(h)]
    del y, h
    assert all(r() is None for r in refs)


def test_custom_function_graph_freed(no_gc):
    class ExpSaved(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = ember.exp(a)
            ctx.save_for_backward(a, out)  # saving an output must not create a cycle
            return out

        @staticmethod
        def backward(ctx, g):
            _, out = ctx.saved_tensors
            return g * out

    x = ember.tensor(rand(3), requires_grad=True)
    y = ExpSaved.apply(x)
    ctx_ref = weakref.ref(y.grad_fn.attrs["ctx"])
    node_ref = weakref.ref(y.grad_fn)
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    g_node = weakref.ref(g.grad_fn)
    del y, g
    assert ctx_ref() is None and node_ref() is None and g_node() is None


def test_multi_output_function_graph_freed(no_gc):
    class Two(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3

    x = ember.tensor(rand(3), requires_grad=True)
    a, b = Two.apply(x)
    fn_ref = weakref.ref(a.grad_fn.edges[0])
    (a + b).sum().backward()
    del a, b
    assert fn_ref() is None


def test_create_graph_grad_is_freed_when_grad_is_reset(no_gc):
    # like PyTorch, backward(create_graph=True) makes x -> x.grad -> graph -> x; resetting
    # .grad (what zero_grad(set_to_none=True) does) breaks it
    x = ember.tensor(rand(3), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    ref = weakref.ref(x.grad.grad_fn)
    x.grad = None
    assert ref() is None


def _mlp_step(x, y, w1, w2, lr):
    if hasattr(ember.Tensor, "__matmul__") and hasattr(ember.Tensor, "relu"):
        pred = ember.relu(x @ w1) @ w2
    else:  # the same MLP from elementwise ops: (N,D,1)*(D,H) summed over D, and so on
        h = ember.relu(sum_to(x * w1, (x.shape[0], 1, w1.shape[1])))  # (N, 1, H)
        pred = sum_to(h * w2, (x.shape[0], w2.shape[0], 1))  # (N, O, 1), w2 is (O, H)
    d = pred - y
    loss = sum_to(d * d, ())
    loss.backward()
    with ember.no_grad():
        for w in (w1, w2):
            w._data -= lr * w.grad._data
            w.grad = None
    return float(loss)


def test_training_loop_memory_is_flat(no_gc):
    rng = np.random.default_rng(0)
    n, d, h, o = 16, 8, 32, 4
    use_matmul = hasattr(ember.Tensor, "__matmul__") and hasattr(ember.Tensor, "relu")
    if use_matmul:
        x = ember.tensor(rng.standard_normal((n, d)).astype(np.float32))
        y = ember.tensor(rng.standard_normal((n, o)).astype(np.float32))
        w1 = ember.tensor(rng.standard_normal((d, h)).astype(np.float32) * 0.3,
                          requires_grad=True)
        w2 = ember.tensor(rng.standard_normal((h, o)).astype(np.float32) * 0.3,
                          requires_grad=True)
    else:
        x = ember.tensor(rng.standard_normal((n, d, 1)).astype(np.float32))
        y = ember.tensor(rng.standard_normal((n, o, 1)).astype(np.float32))
        w1 = ember.tensor(rng.standard_normal((d, h)).astype(np.float32) * 0.3,
                          requires_grad=True)
        w2 = ember.tensor(rng.standard_normal((o, h)).astype(np.float32) * 0.3,
                          requires_grad=True)
    # gc.collect() below only empties CPython's free lists (tuples, floats, ...), which
    # tracemalloc counts as allocated; it must find no garbage: the graphs made no cycles
    tracemalloc.start()
    try:
        losses = []
        for step in range(1, 1001):
            losses.append(_mlp_step(x, y, w1, w2, lr=0.005))
            if step == 100:
                assert gc.collect() == 0
                current_100 = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
            if step == 200:
                rise_100_200 = tracemalloc.get_traced_memory()[1] - current_100
            if step == 900:
                gc.collect()
                current_900 = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
        rise_900_1000 = tracemalloc.get_traced_memory()[1] - current_900
        assert gc.collect() == 0  # gc was off for 900 steps: not one cycle was created
        current_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert losses[-1] < losses[0]  # it trains
    # the losses list grows by 900 floats (~29 KiB); a leak of one gradient per step would
    # add >= 900 * 128 bytes on top
    assert current_1000 - current_100 < 48 * 1024, (current_100, current_1000)
    # the peak of a step (graph + gradients alive at once) stays the same
    assert rise_900_1000 <= rise_100_200 + 16 * 1024, (rise_100_200, rise_900_1000)
