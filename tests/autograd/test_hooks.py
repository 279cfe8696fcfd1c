"""Tensor.register_hook on leaves and non-leaves: replacement gradients, order, removal,
and a leaf hook seeing the summed gradient once."""

from __future__ import annotations

import numpy as np
import pytest

import ember

from ._util import close, pair, rand, torch


def test_leaf_hook_replaces_grad_like_torch():
    xe, xt = pair(rand(3))
    for x in (xe, xt):
        x.register_hook(lambda g: g * 3)
        (x * x).sum().backward()
    close(xe.grad, xt.grad)


def test_non_leaf_hook_changes_upstream_grads_like_torch():
    xe, xt = pair(rand(3))
    for x, lib in ((xe, ember), (xt, torch)):
        h = lib.sin(x)
        h.register_hook(lambda g: g * g + 1)
        (h * x).sum().backward()
    close(xe.grad, xt.grad)


def test_hooks_run_in_registration_order_and_chain():
    order = []
    x = ember.tensor(rand(3), requires_grad=True)
    h = x * 2

    def first(g):
        order.append("first")
        return g * 10

    def second(g):
        order.append("second")
        np.testing.assert_allclose(g.numpy(), np.full(3, 10.0))  # sees first's result
        return None  # keeps the gradient

    h.register_hook(first)
    h.register_hook(second)
    h.sum().backward()
    assert order == ["first", "second"]
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 20.0))


def test_handle_remove():
    calls = []
    x = ember.tensor(rand(3), requires_grad=True)
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    handle.remove()  # removing twice is harmless
    (x * 2).sum().backward()
    assert calls == [1]


def test_handle_as_context_manager():
    calls = []
    x = ember.tensor(rand(3), requires_grad=True)
    with x.register_hook(lambda g: calls.append(1)):
        (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert calls == [1]


def test_leaf_hook_sees_the_summed_gradient_once():
    seen = {"ember": [], "torch": []}
    xe, xt = pair(rand(3))
    for x, key in ((xe, "ember"), (xt, "torch")):
        x.register_hook(lambda g, key=key: seen[key].append(g.detach().clone()
                                                            if key == "torch" else g))
        (x * 2 + x * 3 + x * x).sum().backward()
    assert len(seen["ember"]) == 1 and len(seen["torch"]) == 1
    close(seen["ember"][0], seen["torch"][0])


def test_hook_on_a_tensor_used_by_two_outputs_runs_once_per_backward():
    calls = []
    x = ember.tensor(rand(3), requires_grad=True)
    h = ember.exp(x)
    h.register_hook(lambda g: calls.append(g))
    ember.autograd.backward([(h * 2).sum(), (h * 3).sum()])
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0].numpy(), np.full(3, 5.0))


def test_retained_grad_sees_hook_result_like_torch():
    res = []
    for lib in (ember, torch):
        x = lib.tensor(rand(3), requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
        res.append((y.grad, x.grad))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_hook_can_observe_without_keeping_references_alive():
    x = ember.tensor(rand(3), requires_grad=True)
    norms = []
    x.register_hook(lambda g: norms.append(float((g * g).sum())))
    (x * 2).sum().backward()
    assert norms == [pytest.approx(12.0)]


def test_node_prehook():
    x = ember.tensor(rand(3), requires_grad=True)
    y = x * 2
    handle = y.grad_fn.register_prehook(lambda g: g * 0.5)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.ones(3))
    handle.remove()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.0))


def test_hook_on_tensor_without_grad_raises():
    x = ember.tensor(rand(3))
    with pytest.raises(ember.AutogradError, match="doesn't require gradient"):
        x.register_hook(lambda g: g)


def test_hook_returning_wrong_shape_raises():
    x = ember.tensor(rand(3), requires_grad=True)
    x.register_hook(lambda g: ember.ones(4, dtype=ember.float64))
    with pytest.raises(ember.AutogradError,
                       match=r"changed the gradient's shape from \[3\] to \[4\]"):
        (x * 2).sum().backward()


def test_hook_returning_non_tensor_raises():
    x = ember.tensor(rand(3), requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: 1.0)
    with pytest.raises(TypeError, match="returned a float"):
        h.sum().backward()
