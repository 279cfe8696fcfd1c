"""The fused gradient kernels added for speed equal PyTorch's gradients, first and second
order: ``gelu_backward`` (exact GELU, blocked over the array) and ``cross_entropy_grad``
(class-index cross_entropy without label smoothing). float64: 1e-9 relative; float32/16:
the dtype's tolerance."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import special

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _close(e, t, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("size", [0, 1, 7, special._BLOCK + 3])
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-9), (np.float32, 2e-6),
                                        (np.float16, 2e-3)])
def test_gelu_value_and_grad_across_blocks(size, dtype, rtol):
    x = (np.random.default_rng(size).standard_normal(size) * 4).astype(dtype)
    x[:2] = [7.5, -0.0][: min(size, 2)]  # beyond erf's polynomial range, and a signed zero
    g = np.random.default_rng(1).standard_normal(size).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = F.gelu(xe), TF.gelu(xt)
    assert ye.dtype.np == np.dtype(dtype)
    _close(ye, yt, rtol, rtol)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xe.grad, xt.grad, rtol, rtol)


def test_gelu_double_backward_matches_torch():
    x = np.random.default_rng(2).standard_normal((3, 5)) * 2
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ge,) = ember.autograd.grad(F.gelu(xe).sum(), (xe,), create_graph=True)
    (gt,) = torch.autograd.grad(TF.gelu(xt).sum(), (xt,), create_graph=True)
    _close(ge, gt)
    ((ge ** 3).sum()).backward()
    ((gt ** 3).sum()).backward()
    _close(xe.grad, xt.grad)


def test_gelu_backward_rejects_mismatched_shapes():
    from ember.ops.activation import gelu_backward

    with pytest.raises(ember.ShapeError, match="gelu_backward"):
        gelu_backward(ember.ones(3), ember.ones(4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 2, 3)])
def test_cross_entropy_grad_first_and_second_order(reduction, weighted, shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    t.flat[1] = -100  # ignored
    w = np.linspace(0.5, 2.0, shape[1]) if weighted else None
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    we = None if w is None else ember.tensor(w)
    wt = None if w is None else torch.tensor(w)
    le = F.cross_entropy(xe, ember.tensor(t), we, reduction=reduction)
    lt = TF.cross_entropy(xt, torch.tensor(t), wt, reduction=reduction)
    _close(le, lt)
    up = rng.standard_normal(tuple(lt.shape))
    (ge,) = ember.autograd.grad(le, (xe,), ember.tensor(up), create_graph=True)
    (gt,) = torch.autograd.grad(lt, (xt,), torch.tensor(up), create_graph=True)
    _close(ge, gt)
    ((ge ** 2).sum() + (ge * xe).sum()).backward()
    ((gt ** 2).sum() + (gt * xt).sum()).backward()
    _close(xe.grad, xt.grad)


def test_cross_entropy_float32_matches_torch():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((64, 1000)) * 5).astype(np.float32)
    t = rng.integers(0, 1000, 64)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    le, lt = F.cross_entropy(xe, ember.tensor(t)), TF.cross_entropy(xt, torch.tensor(t))
    _close(le, lt, 1e-5, 1e-6)
    le.backward()
    lt.backward()
    _close(xe.grad, xt.grad, 1e-5, 1e-8)
