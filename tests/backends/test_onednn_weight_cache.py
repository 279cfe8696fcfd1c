"""The oneDNN conv backend's cache of reordered weights (backends/onednn/conv.py _WeightCache)
and the fused weight+bias gradient (ops/conv.py conv2d_backward_weight_bias).

A stale reordered weight must be impossible through ember's own ways of changing a weight:
in-place ops (an optimizer step), ``.data`` replacement, ``load_state_dict``, and a compiled
training step's write-back. Each test compares the oneDNN result after the change with the
NumPy backend on the new values (the reference), and checks that the cache really is used
when nothing changed (hit counts), so the freshness checks are not vacuous. Skipped with the
reason when oneDNN is absent.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.backends.onednn import conv as dn_conv

from .conftest import ONEDNN_REASON

pytestmark = pytest.mark.skipif(ONEDNN_REASON is not None,
                                reason=f"oneDNN backend unavailable: {ONEDNN_REASON}")


@pytest.fixture(autouse=True)
def onednn_selected():
    before = ember.get_backend()
    ember.set_backend("onednn")
    dn_conv.WEIGHTS.clear()
    yield
    ember.set_backend(before)


def _numpy_conv(x, w, b=None, **kw):
    """The reference: the same conv on the NumPy backend."""
    ember.set_backend("numpy")
    try:
        with ember.no_grad():
            return F.conv2d(x, w, b, **kw).numpy()
    finally:
        ember.set_backend("onednn")


def _stats():
    return dict(dn_conv.WEIGHTS.stats())


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.standard_normal((2, 8, 7, 7)).astype(np.float32))
    w = ember.tensor(rng.standard_normal((16, 8, 3, 3)).astype(np.float32))
    return x, w


def test_unchanged_weight_is_reordered_once():
    x, w = _inputs()
    with ember.no_grad():
        first = F.conv2d(x, w, padding=1).numpy()
        before = _stats()
        for _ in range(3):
            np.testing.assert_array_equal(F.conv2d(x, w, padding=1).numpy(), first)
    after = _stats()
    assert after["reorders"] == before["reorders"] and after["hits"] == before["hits"] + 3
    np.testing.assert_allclose(first, _numpy_conv(x, w, padding=1), rtol=1e-4, atol=1e-4)


def test_in_place_update_is_seen():
    x, w = _inputs()
    with ember.no_grad():
        F.conv2d(x, w, padding=1)
        w.mul_(-2.0).add_(0.5)  # what an optimizer step does
        got = F.conv2d(x, w, padding=1).numpy()
    np.testing.assert_allclose(got, _numpy_conv(x, w, padding=1), rtol=1e-4, atol=1e-4)


def test_in_place_update_through_a_view_is_seen():
    x, w = _inputs()
    with ember.no_grad():
        F.conv2d(x, w, padding=1)
        w[3].fill_(0.25)  # a view shares the weight's version counter
        got = F.conv2d(x, w, padding=1).numpy()
    np.testing.assert_allclose(got, _numpy_conv(x, w, padding=1), rtol=1e-4, atol=1e-4)


def test_data_replacement_and_load_state_dict_are_seen():
    x, w = _inputs()
    _, other = _inputs(seed=1)
    with ember.no_grad():
        F.conv2d(x, w, padding=1)
        w.data = other.clone()  # new memory, counter unchanged
        got = F.conv2d(x, w, padding=1).numpy()
    np.testing.assert_allclose(got, _numpy_conv(x, other, padding=1), rtol=1e-4, atol=1e-4)

    layer = nn.Conv2d(8, 16, 3, padding=1)
    with ember.no_grad():
        layer(x)
        layer.load_state_dict({"weight": other * 3.0, "bias": layer.bias})
        got = layer(x).numpy()
    np.testing.assert_allclose(got, _numpy_conv(x, other * 3.0, layer.bias, padding=1),
                               rtol=1e-4, atol=1e-4)


def test_eager_training_steps_match_numpy_backend():
    """SGD steps in eager mode on both backends: oneDNN (with the cache) follows NumPy."""
    def run(backend):
        ember.set_backend(backend)
        ember.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 3),
                              nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
        opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(3)
        x = ember.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32))
        y = ember.tensor(rng.integers(0, 5, 4))
        losses = []
        for _ in range(4):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with ember.no_grad():
            return losses, model(x).numpy()

    before = _stats()
    losses, out = run("onednn")
    assert _stats()["reorders"] > before["reorders"]  # the cache was in the path
    ref_losses, ref_out = run("numpy")
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4)
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-4)


def test_conv1d_weight_view_finds_its_entry():
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 4, 9)).astype(np.float32))
    layer = nn.Conv1d(4, 8, 3)
    with ember.no_grad():
        layer(x)
        before = _stats()
        layer(x)
        assert _stats()["hits"] == before["hits"] + 1
        layer.weight.mul_(0.5)
        got = layer(x).numpy()
    ember.set_backend("numpy")
    with ember.no_grad():
        ref = layer(x).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_compiled_step_write_back_never_serves_a_stale_weight():
    """A compiled training step rewrites the weights (write-back); eager forwards between
    compiled steps see the new values. Compiled kernels do not use the cache at all."""
    ember.manual_seed(0)
    layer = nn.Conv2d(3, 4, 3, padding=1)
    opt = ember.optim.SGD(layer.parameters(), lr=0.5)
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))

    @ember.compile
    def step(x):
        opt.zero_grad()
        loss = (layer(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        with ember.no_grad():
            eager = layer(x).numpy()  # fills the cache with the current weight
        np.testing.assert_allclose(eager, _numpy_conv(x, layer.weight, layer.bias, padding=1),
                                   rtol=1e-4, atol=1e-4)
        step(x)
    with ember.no_grad():
        eager = layer(x).numpy()
    np.testing.assert_allclose(eager, _numpy_conv(x, layer.weight, layer.bias, padding=1),
                               rtol=1e-4, atol=1e-4)


def test_dead_weights_leave_the_cache():
    x, w = _inputs()
    with ember.no_grad():
        F.conv2d(x, w, padding=1)
    entries = _stats()["entries"]
    del w
    gc.collect()
    assert _stats()["entries"] == entries - 1


def test_fused_bias_gradient_is_one_op_and_matches_numpy():
    """First-order backward of a conv with bias: one conv2d_backward_weight_bias op whose
    two outputs equal the NumPy backend's (and the composite's sum over N, H, W)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 6, 6)).astype(np.float32)
    w = rng.standard_normal((5, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    g = rng.standard_normal((3, 5, 6, 6)).astype(np.float32)

    def grads(backend):
        ember.set_backend(backend)
        params = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = F.conv2d(*params, padding=1)
        out.backward(ember.tensor(g))
        return [p.grad.numpy() for p in params]

    got, ref = grads("onednn"), grads("numpy")
    for a, r in zip(got, ref):
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[2], g.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-4)

    ember.set_backend("onednn")

    @ember.compile
    def step(xt, wt, bt):
        loss = (F.conv2d(xt, wt, bt, padding=1) * ember.tensor(g)).sum()
        return ember.autograd.grad(loss, (wt, bt))

    wt, bt = (ember.tensor(a, requires_grad=True) for a in (w, b))
    gw, gb = step(ember.tensor(x), wt, bt)
    assert "conv2d_backward_weight_bias" in str(step.graph)
    np.testing.assert_allclose(gw.numpy(), ref[1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb.numpy(), ref[2], rtol=1e-4, atol=1e-4)
