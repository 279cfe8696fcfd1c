"""Tensor.backward / ember.autograd.backward: values against PyTorch, accumulation, graph
shapes (diamonds, deep chains, cut branches), retain_graph and the tensor-level API."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import ember
from ember.autograd.node import AccumulateGrad

from ._util import close, pair, rand, torch


def test_scalar_backward_matches_torch():
    xe, xt = pair(rand(3, 4))
    we, wt = pair(rand(3, 4, seed=1))
    for x, w, lib in ((xe, we, ember), (xt, wt, torch)):
        y = lib.tanh(x * w) * lib.exp(x) - w / (x * x + 1)
        y.sum().backward()
    close(xe.grad, xt.grad)
    close(we.grad, wt.grad)


def test_broadcast_leaf_gets_its_own_shape():
    # a (3, 1) leaf used in a (3, 4) expression, and a 0-d leaf, get gradients of their shapes
    ae, at = pair(rand(3, 1))
    be, bt = pair(rand(4, seed=1))
    ce, ct = pair(np.array(1.5))
    for a, b, c in ((ae, be, ce), (at, bt, ct)):
        ((a * b + c) * a).sum().backward()
    assert ae.grad.shape == (3, 1) and be.grad.shape == (4,) and ce.grad.shape == ()
    close(ae.grad, at.grad)
    close(be.grad, bt.grad)
    close(ce.grad, ct.grad)


def test_grad_accumulates_across_backward_calls_in_place():
    xe, xt = pair(rand(3))
    for x in (xe, xt):
        (x * 2).sum().backward()
    first = xe.grad
    for x in (xe, xt):
        (x * x).sum().backward()
    close(xe.grad, xt.grad)
    assert xe.grad is first  # PyTorch accumulates into the existing .grad tensor


def test_nonscalar_backward_needs_gradient():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="only for scalar outputs"):
        (x * 2).backward()
    v = rand(3, seed=4)
    (x * 2).backward(ember.tensor(v))
    np.testing.assert_allclose(x.grad.numpy(), 2 * v)


def test_gradient_dtype_is_cast_to_output_dtype():
    x = ember.tensor(rand(3, dtype=np.float32), requires_grad=True)
    (x * 2).backward(ember.ones(3, dtype=ember.float64))
    assert x.grad.dtype == ember.float32
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_autograd_backward_multiple_roots_matches_torch():
    xe, xt = pair(rand(2, 3))
    ge = [rand(2, 3, seed=5), None]
    for x, lib in ((xe, ember), (xt, torch)):
        y1 = x * x
        y2 = (lib.sin(x)).sum()
        g1 = lib.tensor(ge[0])
        lib.autograd.backward([y1, y2], [g1, None])
    close(xe.grad, xt.grad)


def test_backward_inputs_restricts_accumulation():
    xe, xt = pair(rand(3))
    we, wt = pair(rand(3, seed=1))
    for x, w in ((xe, we), (xt, wt)):
        h = x * w
        h.retain_grad() if x is xe else None
        z = (h * h).sum()
        z.backward(inputs=[x])
    close(xe.grad, xt.grad)
    assert we.grad is None and wt.grad is None


def test_backward_inputs_accepts_non_leaf():
    xe, xt = pair(rand(3))
    res = []
    for x in (xe, xt):
        y = x * 3
        (y * y).sum().backward(inputs=[y])
        res.append(y.grad)
        assert x.grad is None
    close(res[0], res[1])


def test_backward_inputs_empty_raises():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])


def test_diamond_accumulates():
    xe, xt = pair(rand(4))
    for x, lib in ((xe, ember), (xt, torch)):
        a = x * 2
        b = lib.sin(a)
        c = lib.exp(a)
        d = b * c + a  # a reaches d three ways
        d.sum().backward()
    close(xe.grad, xt.grad)


def test_same_tensor_used_twice_in_one_op():
    xe, xt = pair(rand(3))
    for x in (xe, xt):
        (x * x + x).sum().backward()
    close(xe.grad, xt.grad)


def test_deep_chain_does_not_recurse():
    n = 10_000
    x = ember.tensor([0.5], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** n], rtol=1e-4)


def test_dropping_a_very_deep_graph_does_not_overflow_the_stack():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(30_000):
        y = y + 1.0
    del y  # freeing a 30,000-node chain must not hit C recursion limits


def test_branch_that_gets_no_gradient():
    # the int cast cuts the graph; the node feeding it receives no gradient at all
    xe, xt = pair(rand(3))
    for x, lib in ((xe, ember), (xt, torch)):
        a = x * 3
        mask = (a * 0 + 1).to(lib.int64)  # integer: no gradient flows back through it
        (a * mask + x).sum().backward()
    close(xe.grad, xt.grad)


def test_node_with_no_incoming_gradient_still_releases_children():
    class Cut(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return None

    x = ember.tensor(rand(3), requires_grad=True)
    a = ember.exp(x)
    (Cut.apply(a * 2) + x).sum().backward()  # the exp node is reached, but with no gradient
    np.testing.assert_allclose(x.grad.numpy(), np.ones(3))


def test_second_backward_through_freed_graph_raises():
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.exp(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as info:
        y.backward()
    assert isinstance(info.value, ember.AutogradError)


def test_retain_graph_allows_second_backward():
    xe, xt = pair(rand(3))
    for x, lib in ((xe, ember), (xt, torch)):
        y = (lib.exp(x) * x).sum()
        y.backward(retain_graph=True)
        y.backward()
    close(xe.grad, xt.grad)


def test_graph_without_saved_values_can_be_walked_twice():
    # like PyTorch: only saved values are freed, so add-only graphs backward twice
    xe, xt = pair(rand(3))
    for x in (xe, xt):
        y = (x + 1).sum()
        y.backward()
        y.backward()
    close(xe.grad, xt.grad)


def test_leaf_grads_do_not_alias_each_other():
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.tensor(rand(3, seed=1), requires_grad=True)
    (x + y).sum().backward()  # add hands the same gradient to both inputs
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    x.grad.numpy()[...] = 7.0
    np.testing.assert_allclose(y.grad.numpy(), np.ones(3))


def test_leaf_grad_does_not_alias_the_given_gradient():
    x = ember.tensor(rand(3), requires_grad=True)
    v = ember.tensor(rand(3, seed=2))
    (x + 0.0).backward(v)
    assert not np.shares_memory(x.grad.numpy(), v.numpy())


def test_leaf_grad_does_not_alias_a_gradient_a_hook_kept():
    x = ember.tensor(rand(3), requires_grad=True)
    kept = []
    x.register_hook(kept.append)
    (x * 2).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), kept[0].numpy())


def test_leaf_grad_adopts_a_fresh_gradient_without_copying():
    x = ember.tensor(rand(3), requires_grad=True)
    seen = []

    class Probe(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            out = g * 2
            seen.append(weakref.ref(out._data))  # weak: must not count as another holder
            return out

    Probe.apply(x).sum().backward()
    assert x.grad._data is seen[0]()


def test_leaf_grad_is_writable_and_contiguous_for_broadcast_gradients():
    x = ember.tensor(rand(3), requires_grad=True)
    ember.broadcast_to(x, (4, 3)).sum().backward()
    assert x.grad.numpy().flags.writeable
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 4.0))


def test_root_that_does_not_require_grad_raises():
    x = ember.tensor(rand(3))
    with pytest.raises(ember.AutogradError, match="element 0 of tensors does not require grad"):
        (x * 2).sum().backward()


def test_backward_on_a_leaf():
    xe, xt = pair(np.array(2.0))
    xe.backward()
    xt.backward()
    close(xe.grad, xt.grad)


# --------------------------------------------------------------- tensor-level autograd API


def test_is_leaf_grad_fn_and_repr():
    x = ember.tensor(rand(3), requires_grad=True)
    c = ember.tensor(rand(3))
    y = x * c
    assert x.is_leaf and c.is_leaf and not y.is_leaf
    assert x.grad_fn is None
    assert repr(y.grad_fn) == "<MulBackward>"
    assert y.grad_fn.name == "MulBackward"


def test_next_functions_follow_pytorch_shape():
    x = ember.tensor(rand(3), requires_grad=True)
    c = ember.tensor(rand(3))
    y = x * c
    z = ember.exp(y) + x
    (fn0, nr0), (fn1, nr1) = z.grad_fn.next_functions
    assert fn0 is y.grad_fn.next_functions[0][0] or fn0.name == "ExpBackward"
    assert fn0.name == "ExpBackward" and nr0 == 0
    assert isinstance(fn1, AccumulateGrad) and fn1.variable is x and nr1 == 0
    assert repr(fn1) == "<AccumulateGrad>"
    (acc, _), (none, _) = y.grad_fn.next_functions
    assert acc.variable is x and none is None
    assert fn0.next_functions[0][0] is y.grad_fn


def test_detach_cuts_history_and_shares_data():
    x = ember.tensor(rand(3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y._data)
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y._data)


def test_detach_in_place():
    x = ember.tensor(rand(3), requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_requires_grad_in_place():
    x = ember.tensor(rand(3))
    assert x.requires_grad_() is x and x.requires_grad
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.0))
    x.requires_grad_(False)
    assert not (x * 3).requires_grad


def test_retain_grad_keeps_non_leaf_grad():
    xe, xt = pair(rand(3))
    grads = []
    for x in (xe, xt):
        y = x * 2
        z = y * y
        y.retain_grad()
        (z * 3).sum().backward()
        assert y.retains_grad and not z.retains_grad
        grads.append(y.grad)
        if x is xe:
            assert z.grad is None
    close(grads[0], grads[1])


def test_retain_grad_accumulates_and_is_not_aliased():
    x = ember.tensor(rand(3), requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y + 0.0).sum().backward(retain_graph=True)
    first = y.grad.numpy().copy()
    (y + 0.0).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * first)


def test_create_graph_leaf_grads_do_not_share_a_tensor():
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.tensor(rand(3, seed=1), requires_grad=True)
    (x * y + x + y).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    assert x.grad.grad_fn is not None
