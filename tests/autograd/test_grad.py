"""ember.autograd.grad: returned gradients, no .grad side effects, unused inputs, non-leaf
inputs, and pruning of the part of the graph that does not lead to the inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops.registry import REGISTRY, Op

from ._util import close, pair, rand, torch


def test_grad_matches_torch_and_touches_no_grad():
    xe, xt = pair(rand(2, 3))
    we, wt = pair(rand(3, seed=1))
    res = []
    for x, w, lib in ((xe, we, ember), (xt, wt, torch)):
        y = (lib.sin(x) * w + w * w).sum()
        res.append(lib.autograd.grad(y, [x, w]))
    assert isinstance(res[0], tuple) and len(res[0]) == 2
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])
    assert xe.grad is None and we.grad is None


def test_grad_does_not_change_an_existing_grad():
    x = ember.tensor(rand(3), requires_grad=True)
    (x * 2).sum().backward()
    before = x.grad.numpy().copy()
    ember.autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(x.grad.numpy(), before)


def test_grad_single_tensor_arguments():
    x = ember.tensor(rand(3), requires_grad=True)
    (g,) = ember.autograd.grad((x * 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), np.full(3, 3.0))


def test_grad_with_respect_to_non_leaf():
    xe, xt = pair(rand(4))
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        h = lib.exp(x) * 2
        y = (h * h + h).sum()
        res.append(lib.autograd.grad(y, [h, x]))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_grad_outputs_for_non_scalar_outputs():
    xe, xt = pair(rand(2, 3))
    v = rand(2, 3, seed=3)
    (ge,) = ember.autograd.grad(ember.tanh(xe), xe, ember.tensor(v))
    (gt,) = torch.autograd.grad(torch.tanh(xt), xt, torch.tensor(v))
    close(ge, gt)


def test_grad_outputs_of_wrong_count_raise():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="length 1"):
        ember.autograd.grad([x * 2], [x], [ember.ones(3), ember.ones(3)])


def test_unused_input_error_names_index():
    x = ember.tensor(rand(3), requires_grad=True)
    unused = ember.tensor(rand(2), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="index 1 appears to not have been used"):
        ember.autograd.grad((x * 2).sum(), [x, unused])


def test_allow_unused_and_materialize_grads():
    x = ember.tensor(rand(3), requires_grad=True)
    unused = ember.tensor(rand(2), requires_grad=True)
    gx, gu = ember.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True,
                                 allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), np.full(3, 2.0))
    _, gu = ember.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    assert gu.shape == (2,) and not gu.numpy().any()
    with pytest.raises(ValueError, match="materialize_grads"):
        ember.autograd.grad((x * 2).sum(), [unused], allow_unused=False,
                            materialize_grads=True)


def test_input_that_does_not_require_grad_raises():
    x = ember.tensor(rand(3), requires_grad=True)
    c = ember.tensor(rand(3))
    with pytest.raises(ember.AutogradError, match="does not require grad: input 1"):
        ember.autograd.grad((x * c).sum(), [x, c])


def test_non_tensor_input_raises_type_error():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(TypeError, match=r"inputs\[1\] is a list"):
        ember.autograd.grad((x * 2).sum(), [x, [1.0]])


def test_grad_frees_the_graph_unless_retained():
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.exp(x).sum()
    ember.autograd.grad(y, x)
    with pytest.raises(ember.AutogradError, match="retain_graph=True"):
        ember.autograd.grad(y, x)


def test_duplicate_inputs_get_the_same_gradient():
    x = ember.tensor(rand(3), requires_grad=True)
    g1, g2 = ember.autograd.grad((x * x).sum(), [x, x])
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    np.testing.assert_allclose(g1.numpy(), 2 * x.detach().numpy())


def test_leaf_hooks_run_and_retained_grads_fill_like_torch():
    res = []
    for lib in (ember, torch):
        x = lib.tensor(rand(3), requires_grad=True)
        x.register_hook(lambda g: g * 10)
        h = x * 2
        h.retain_grad()
        (g,) = lib.autograd.grad((h * h).sum(), x)
        res.append((g, h.grad))
        assert x.grad is None
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_is_grads_batched_is_rejected_clearly():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        ember.autograd.grad((x * 2).sum(), x, is_grads_batched=True)


# --------------------------------------------------------------------------- pruning


def _counting_function(name: str, calls: list):
    def backward(ctx, g):
        calls.append(name)
        return g * 2

    return type(name, (ember.autograd.Function,), {
        "forward": staticmethod(lambda ctx, x: x * 2),
        "backward": staticmethod(backward),
    })


def test_grad_skips_branches_that_do_not_lead_to_inputs():
    calls: list = []
    CountX = _counting_function("CountX", calls)
    CountW = _counting_function("CountW", calls)
    CountTop = _counting_function("CountTop", calls)
    x = ember.tensor(rand(3), requires_grad=True)
    w = ember.tensor(rand(3, seed=1), requires_grad=True)
    a = CountX.apply(x)
    b = CountW.apply(ember.exp(w))
    y = CountTop.apply(a * b).sum()
    (gx,) = ember.autograd.grad(y, x, retain_graph=True)
    assert sorted(calls) == ["CountTop", "CountX"]
    np.testing.assert_allclose(gx.numpy(), 4 * b.detach().numpy())
    # the same graph through backward() runs everything
    calls.clear()
    y.backward()
    assert sorted(calls) == ["CountTop", "CountW", "CountX"]


def test_grad_with_respect_to_non_leaf_does_not_run_below_it():
    calls: list = []
    Below = _counting_function("Below", calls)
    x = ember.tensor(rand(3), requires_grad=True)
    h = Below.apply(x)
    (gh,) = ember.autograd.grad((h * h).sum(), h)
    assert calls == []
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())


@pytest.fixture
def probe_mul():
    """A mul op whose vjp records ctx.needs_input_grad (unregistered after the test)."""
    seen: list = []

    def vjp(ctx, g):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        seen.append((need_a, need_b))
        return (g * b if need_a else None, g * a if need_b else None)

    op = Op("autograd_test_probe_mul", np.multiply, vjp, lambda a, b: a)
    yield op, seen
    REGISTRY.pop(op.name, None)


def test_grad_narrows_needs_input_grad(probe_mul):
    op, seen = probe_mul
    x = ember.tensor(rand(3), requires_grad=True)
    w = ember.tensor(rand(3, seed=1), requires_grad=True)
    y = ember.ops.apply(op, (x, w)).sum()
    (gx,) = ember.autograd.grad(y, x, retain_graph=True)
    assert seen == [(True, False)]
    np.testing.assert_allclose(gx.numpy(), w.detach().numpy())
    y.backward()
    assert seen[1] == (True, True)  # the narrowing does not outlive the grad call


def test_grad_of_a_tensor_with_respect_to_itself():
    x = ember.tensor(rand(3), requires_grad=True)
    v = ember.tensor(rand(3, seed=9))
    (gx,) = ember.autograd.grad(x, x, v)
    np.testing.assert_allclose(gx.numpy(), v.numpy())
    y = ember.exp(x)
    (gy,) = ember.autograd.grad(y, y, v)
    np.testing.assert_allclose(gy.numpy(), v.numpy())
    assert x.grad is None
