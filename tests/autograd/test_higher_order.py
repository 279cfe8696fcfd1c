"""create_graph=True: gradients that are themselves differentiable (second and third
derivatives, Hessian-vector products), compared with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember

from ._util import close, needs, pair, rand, torch


def _derivatives(lib, fn, x, order: int) -> list:
    out, y = [], fn(x).sum()
    for _ in range(order):
        (y,) = lib.autograd.grad(y, x, create_graph=True)
        out.append(y)
        y = y.sum()
    return out


@pytest.mark.parametrize("name,fn_e,fn_t", [
    ("cube", lambda x: x ** 3, lambda x: x ** 3),
    ("tanh", ember.tanh, torch.tanh),
    ("exp_mul", lambda x: ember.exp(x) * x, lambda x: torch.exp(x) * x),
    ("sigmoid_div", lambda x: ember.sigmoid(x) / (x * x + 1),
     lambda x: torch.sigmoid(x) / (x * x + 1)),
])
def test_first_second_third_derivatives_match_torch(name, fn_e, fn_t):
    xe, xt = pair(rand(5))
    de = _derivatives(ember, fn_e, xe, 3)
    dt = _derivatives(torch, fn_t, xt, 3)
    for a, b in zip(de, dt):
        close(a, b, atol=1e-10, rtol=1e-8)


def test_cube_derivatives_analytic():
    x = ember.tensor([-1.5, 0.0, 2.0], dtype=ember.float64, requires_grad=True)
    d1, d2, d3 = _derivatives(ember, lambda t: t ** 3, x, 3)
    xv = x.detach().numpy()
    np.testing.assert_allclose(d1.detach().numpy(), 3 * xv ** 2)
    np.testing.assert_allclose(d2.detach().numpy(), 6 * xv)
    np.testing.assert_allclose(d3.detach().numpy(), np.full(3, 6.0))


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_makes_leaf_grad_differentiable():
    xe, xt = pair(rand(4))
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        (lib.sin(x) * x).sum().backward(create_graph=True)
        gx = x.grad
        assert gx.requires_grad and gx.grad_fn is not None
        (h,) = lib.autograd.grad((gx * gx).sum(), x)
        res.append(h)
    close(res[0], res[1])


def test_grad_without_create_graph_is_detached():
    x = ember.tensor(rand(3), requires_grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_mixed_partials_through_broadcasting():
    ae, at = pair(rand(3, 1))
    be, bt = pair(rand(1, 4, seed=1))
    res = []
    for a, b, lib in ((ae, be, ember), (at, bt, torch)):
        y = (lib.tanh(a * b) * a).sum()
        (ga,) = lib.autograd.grad(y, a, create_graph=True)
        (gab,) = lib.autograd.grad((ga * ga).sum(), b)
        res.append(gab)
    close(res[0], res[1], atol=1e-10)


@needs("__matmul__", "relu")
def test_mlp_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 5))
    ys = rng.standard_normal((8, 2))
    w1v, w2v = rng.standard_normal((5, 6)), rng.standard_normal((6, 2))
    v1, v2 = rng.standard_normal((5, 6)), rng.standard_normal((6, 2))
    res = []
    for lib in (ember, torch):
        w1 = lib.tensor(w1v.copy(), requires_grad=True)
        w2 = lib.tensor(w2v.copy(), requires_grad=True)
        h = lib.tanh(lib.tensor(xs) @ w1)  # tanh, not relu: relu's Hessian is 0 a.e.
        d = h @ w2 - lib.tensor(ys)
        loss = (d * d).sum()
        g1, g2 = lib.autograd.grad(loss, [w1, w2], create_graph=True)
        dot = (g1 * lib.tensor(v1)).sum() + (g2 * lib.tensor(v2)).sum()
        res.append(lib.autograd.grad(dot, [w1, w2]))
    close(res[0][0], res[1][0], atol=1e-9)
    close(res[0][1], res[1][1], atol=1e-9)


def test_gradgradcheck_on_composites():
    x = ember.tensor(rand(4), requires_grad=True)
    w = ember.tensor(rand(4, seed=2), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda a, b: ember.tanh(a * b) * ember.exp(a), (x, w))
