"""Losses (functional and modules) against PyTorch, and the fused cross_entropy primitive
against its composite. Tolerance: float64, 1e-10 relative, values and input gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]


def _close(e, t, rtol=1e-10, atol=1e-12):
    got = e.detach().numpy()
    want = t.detach().numpy()
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _check(fe, ft, x, *others, rtol=1e-10):
    """fe(x_ember, *others_ember) vs ft(x_torch, *others_torch): value and d/dx."""
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe = [None if o is None else ember.tensor(o) for o in others]
    ot = [None if o is None else torch.tensor(o) for o in others]
    ye, yt = fe(xe, *oe), ft(xt, *ot)
    _close(ye, yt, rtol)
    g = np.random.default_rng(9).standard_normal(tuple(yt.shape))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xe.grad, xt.grad, rtol)


def _class_data(shape, c=5, ignore=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    t = rng.integers(0, c, (shape[0],) + shape[2:])
    if ignore:
        t.flat[1] = -100
    return x, t


# ------------------------------------------------------------------------ cross_entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 4)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_class_indices(reduction, shape, weighted, label_smoothing):
    x, t = _class_data(shape)
    w = np.linspace(0.5, 2.0, 5) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    _check(lambda a, b, c: F.cross_entropy(a, b, c, **kw),
           lambda a, b, c: TF.cross_entropy(a, b, c, **kw), x, t, w)


def test_cross_entropy_ignore_index_inside_class_range():
    x, t = _class_data((8, 4), c=4, ignore=False)
    _check(lambda a, b: F.cross_entropy(a, b, ignore_index=2),
           lambda a, b: TF.cross_entropy(a, b, ignore_index=2), x, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched(reduction):
    x = np.random.default_rng(1).standard_normal(5)
    _check(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
           lambda a, b: TF.cross_entropy(a, b, reduction=reduction), x, np.array(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3)])
@pytest.mark.parametrize("weighted,label_smoothing", [(False, 0.0), (True, 0.1)])
def test_cross_entropy_probability_targets(reduction, shape, weighted, label_smoothing):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    p = rng.random(shape)
    p /= p.sum(axis=1, keepdims=True)
    w = rng.random(5) + 0.5 if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    _check(lambda a, b, c: F.cross_entropy(a, b, c, **kw),
           lambda a, b, c: TF.cross_entropy(a, b, c, **kw), x, p, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7, 4), (2, 4, 3, 2)])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_cross_entropy_equals_composite(reduction, shape, weighted):
    x, t = _class_data(shape, c=4, seed=3)
    w = ember.tensor(np.array([0.3, 1.0, 2.0, 0.7])) if weighted else None
    xf, xc = ember.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tt = ember.tensor(t)
    yf = F.cross_entropy(xf, tt, w, reduction=reduction)
    yc = F.nll_loss(F.log_softmax(xc, 1), tt, w, reduction=reduction)
    np.testing.assert_allclose(yf.detach().numpy(), yc.detach().numpy(), rtol=1e-12)
    g = ember.tensor(np.random.default_rng(4).standard_normal(yf.shape))
    yf.backward(g)
    yc.backward(g)
    np.testing.assert_allclose(xf.grad.numpy(), xc.grad.numpy(), rtol=1e-10, atol=1e-14)
    ignored = (t == -100)
    assert np.all(xf.grad.numpy().swapaxes(0, 1)[:, ignored] == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck(reduction):
    x, t = _class_data((4, 3, 2), c=3, seed=5)
    xe = ember.tensor(x, requires_grad=True)
    w = ember.tensor([0.5, 1.5, 1.0])
    tt = ember.tensor(t)
    assert ember.autograd.gradcheck(
        lambda a: F.cross_entropy(a, tt, w, reduction=reduction, label_smoothing=0.2), (xe,))
    assert ember.autograd.gradcheck(lambda a: F.nll_loss(a, tt, w, reduction=reduction), (xe,))


def test_cross_entropy_double_backward():
    x, t = _class_data((4, 3), c=3, seed=6)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ge,) = ember.autograd.grad(F.cross_entropy(xe, ember.tensor(t), label_smoothing=0.1),
                                (xe,), create_graph=True)
    (gt,) = torch.autograd.grad(TF.cross_entropy(xt, torch.tensor(t), label_smoothing=0.1),
                                (xt,), create_graph=True)
    (ge ** 2).sum().backward()
    (gt ** 2).sum().backward()
    _close(xe.grad, xt.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    x, t = _class_data((3, 5, 4), seed=7)
    w = np.linspace(1.0, 2.0, 5) if weighted else None
    _check(lambda a, b, c: F.nll_loss(a, b, c, reduction=reduction),
           lambda a, b, c: TF.nll_loss(a, b, c, reduction=reduction), x, t, w)


def test_cross_entropy_bad_inputs():
    x = ember.randn(4, 10)
    with pytest.raises(IndexError, match="target value 12 is out of range for 10 classes"):
        F.cross_entropy(x, ember.tensor([1, 12, 3, 0]))
    with pytest.raises(ember.ShapeError, match=r"expected target of shape \[4\].*got target "
                                               r"of shape \[4, 1\]"):
        F.cross_entropy(x, ember.tensor([[1], [2], [3], [0]]))
    with pytest.raises(ember.ShapeError, match="class probabilities must have the input's "
                                               "shape.*integer target"):
        F.cross_entropy(x, ember.tensor([1.0, 2.0, 3.0, 0.0]))
    with pytest.raises(ember.DTypeError, match="integer class indices"):
        F.nll_loss(x, ember.tensor([1.0, 2.0, 3.0, 0.0]))
    with pytest.raises(ember.ShapeError, match="1-D tensor of 10 class weights"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 0]), weight=ember.ones(3))
    with pytest.raises(ValueError, match="reduction must be"):
        F.cross_entropy(x, ember.tensor([1, 2, 3, 0]), reduction="avg")
    with pytest.raises(ember.DTypeError, match="floating-point"):
        F.cross_entropy(ember.tensor([[1, 2]]), ember.tensor([0]))


def test_legacy_size_average_and_reduce():
    x, t = _class_data((4, 5), ignore=False)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.cross_entropy(ember.tensor(x), ember.tensor(t), reduce=False)
    assert out.shape == (4,)


# ------------------------------------------------------------------------ regression


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}),
                                     ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}),
                                     ("huber_loss", {"delta": 0.3})])
def test_regression_losses(reduction, name, kw):
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 2))
    _check(lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kw),
           lambda a, b: getattr(TF, name)(a, b, reduction=reduction, **kw), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses(reduction, name):
    rng = np.random.default_rng(11)
    x, y, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.random((5, 3))
    _check(lambda a, b, c: getattr(F, name)(a, b, reduction=reduction, weight=c),
           lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c), x, y, w)


def test_regression_shape_mismatch_warns_like_torch():
    with pytest.warns(UserWarning, match=r"target size \(\[4\]\).*input size \(\[4, 1\]\)"):
        out = F.mse_loss(ember.zeros(4, 1), ember.zeros(4), reduction="none")
    assert out.shape == (4, 4)  # PyTorch broadcasts; the warning is the guard rail


# ------------------------------------------------------------------------ binary, KL


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(12)
    p = rng.uniform(0.01, 0.99, (4, 3))
    y = rng.integers(0, 2, (4, 3)).astype(np.float64)
    w = rng.random((4, 3)) if weighted else None
    _check(lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction=reduction),
           lambda a, b, c: TF.binary_cross_entropy(a, b, c, reduction=reduction), p, y, w)


def test_binary_cross_entropy_clamps_log_like_torch():
    p, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])
    _close(F.binary_cross_entropy(ember.tensor(p), ember.tensor(y), reduction="none"),
           TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y), reduction="none"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, False), (False, True),
                                          (True, True)])
def test_bce_with_logits(reduction, weighted, pos):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 3)) * 30  # large logits: the stable formula matters
    y = rng.random((4, 3))
    w = rng.random((4, 3)) if weighted else None
    pw = rng.random(3) * 3 if pos else None
    _check(lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction=reduction,
                                                                 pos_weight=d),
           lambda a, b, c, d: TF.binary_cross_entropy_with_logits(a, b, c, reduction=reduction,
                                                                  pos_weight=d), x, y, w, pw)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(14)
    x = np.log(rng.dirichlet(np.ones(5), size=4))
    t = rng.dirichlet(np.ones(5), size=4)
    t[0, 0] = 0.0  # xlogy: a zero target contributes 0, not nan
    if log_target:
        t = np.log(t + 1e-3)
    _check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
           lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target), x, t)


def test_binary_bad_inputs():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ember.ShapeError, match=r"target size \[3\] must be the same"):
        F.binary_cross_entropy_with_logits(ember.zeros(3, 1), ember.zeros(3))


# ------------------------------------------------------------------------ modules


@pytest.mark.parametrize("name,kwargs,target", [
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}, "class"),
    ("NLLLoss", {"reduction": "sum"}, "class"), ("MSELoss", {}, "same"),
    ("L1Loss", {"reduction": "none"}, "same"), ("SmoothL1Loss", {"beta": 0.3}, "same"),
    ("HuberLoss", {"delta": 0.5}, "same"), ("BCEWithLogitsLoss", {}, "prob"),
    ("KLDivLoss", {"reduction": "batchmean"}, "prob"),
])
def test_loss_modules_match_torch(name, kwargs, target):
    rng = np.random.default_rng(15)
    x = rng.standard_normal((6, 4))
    t = {"class": rng.integers(0, 4, 6), "same": rng.standard_normal((6, 4)),
         "prob": rng.random((6, 4))}[target]
    me, mt = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(me) == repr(mt)
    _check(me, mt, x, t)


def test_weighted_loss_modules_keep_weight_as_buffer():
    w = np.array([1.0, 2.0, 0.5])
    me = nn.CrossEntropyLoss(weight=ember.tensor(w))
    mt = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(me.state_dict()) == list(mt.state_dict()) == ["weight"]
    x, t = _class_data((5, 3), c=3, ignore=False)
    _check(me, mt, x, t)
    pw = np.array([2.0, 0.5, 1.0])
    _check(nn.BCEWithLogitsLoss(pos_weight=ember.tensor(pw)),
           torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)), x, np.abs(x) % 1)
    _check(nn.BCELoss(weight=ember.tensor(pw)), torch.nn.BCELoss(weight=torch.tensor(pw)),
           np.abs(x) % 1, (x > 0).astype(np.float64))
