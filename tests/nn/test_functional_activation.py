"""nn.functional activations, dropout, one_hot, embedding and linear against PyTorch.

Tolerances: float64 inputs, outputs and gradients to 1e-10 relative (1e-12 absolute) unless
noted; the fused ``linear`` equals its composite to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(arr, requires_grad=True):
    return (ember.tensor(arr.copy(), requires_grad=requires_grad),
            torch.tensor(arr.copy(), requires_grad=requires_grad))


def _close(e, t, rtol=1e-10, atol=1e-12):
    got, want = e.detach().numpy(), t.detach().numpy()
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _grads(fe, ft, arr, rtol=1e-10):
    xe, xt = _pair(arr)
    ye, yt = fe(xe), ft(xt)
    _close(ye, yt, rtol=rtol)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xe.grad, xt.grad, rtol=rtol)


ACTIVATIONS = [
    ("relu", {}), ("relu6", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 1.0}), ("softsign", {}), ("hardsigmoid", {}),
    ("hardswish", {}), ("sigmoid", {}), ("tanh", {}), ("logsigmoid", {}), ("tanhshrink", {}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activation_matches_torch(name, kwargs):
    arr = np.random.default_rng(0).standard_normal((4, 7)) * 4  # reaches every piece
    # PyTorch's hardsigmoid/hardswish kernels use the float32 constants 1/6 and 1/3 even in
    # float64, so those agree to float32 precision only
    rtol = 1e-6 if name.startswith("hards") else 1e-10
    _grads(lambda x: getattr(F, name)(x, **kwargs), lambda x: getattr(TF, name)(x, **kwargs),
           arr, rtol)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "hardsigmoid", "hardswish",
                                  "leaky_relu", "elu"])
def test_gradient_at_kinks_matches_torch(name):
    # exactly at the break points, where a composite easily picks the other one-sided slope
    arr = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    _grads(getattr(F, name), getattr(TF, name), arr, 1e-6 if name.startswith("hards") else 1e-10)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(fn, dim):
    arr = np.random.default_rng(2).standard_normal((3, 4, 5))
    _grads(lambda x: getattr(F, fn)(x, dim), lambda x: getattr(TF, fn)(x, dim), arr)


def test_softmax_dtype_argument():
    x = ember.tensor([[1.0, 2.0, 3.0]], dtype=ember.float16)
    out = F.softmax(x, dim=1, dtype=ember.float32)
    assert out.dtype == ember.float32
    want = TF.softmax(torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float16), 1,
                      dtype=torch.float32)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-6)


def test_relu_inplace_writes_input_and_keeps_gradient():
    arr = np.array([-1.0, 0.5, 2.0])
    xe, xt = _pair(arr)
    he, ht = xe * 1.0, xt * 1.0
    oe, ot = F.relu(he, inplace=True), TF.relu(ht, inplace=True)
    assert oe is he
    _close(he, ht)
    (oe * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    (ot * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    _close(xe.grad, xt.grad)


def test_activation_rejects_integer_input():
    with pytest.raises(ember.DTypeError, match="hardtanh"):
        F.hardtanh(ember.tensor([1, 2]))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(ember.tensor([1.0]), approximate="fast")


# ------------------------------------------------------------------------ linear


def test_linear_matches_torch_values_and_gradients():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    (xe, xt), (we, wt), (be, bt) = _pair(x), _pair(w), _pair(b)
    ye, yt = F.linear(xe, we, be), TF.linear(xt, wt, bt)
    _close(ye, yt)
    g = rng.standard_normal(yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for e, t in ((xe, xt), (we, wt), (be, bt)):
        _close(e.grad, t.grad)


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_equals_composite(shape, bias):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(shape), rng.standard_normal((4, 5))]
    if bias:
        arrays.append(rng.standard_normal(4))
    fused = [ember.tensor(a, requires_grad=True) for a in arrays]
    comp = [ember.tensor(a, requires_grad=True) for a in arrays]
    yf = F.linear(*fused)
    yc = ember.matmul(comp[0], comp[1].t()) + (comp[2] if bias else 0)
    np.testing.assert_allclose(yf.detach().numpy(), yc.detach().numpy(), rtol=1e-12)
    g = ember.tensor(rng.standard_normal(yf.shape))
    yf.backward(g)
    yc.backward(g)
    for a, b in zip(fused, comp):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_linear_gradcheck_and_double_backward():
    rng = np.random.default_rng(5)
    x, w, b = (ember.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3, 4), (2, 4), (2,)))
    assert ember.autograd.gradcheck(F.linear, (x, w, b))
    # second order: d/dw of sum(d(sum(linear^2))/dx)
    (gx,) = ember.autograd.grad((F.linear(x, w, b) ** 2).sum(), (x,), create_graph=True)
    assert gx.requires_grad
    assert ember.autograd.gradcheck(lambda w_: (F.linear(x, w_, b) ** 2).sum(), (w,))


def test_linear_bad_inputs():
    w = ember.randn(8, 4)
    with pytest.raises(ember.ShapeError, match=r"last dimension 4 \(in_features\).*\[2, 100\]"):
        F.linear(ember.randn(2, 100), w)
    with pytest.raises(ember.DTypeError, match="same dtype"):
        F.linear(ember.randn(2, 4, dtype=ember.float64), w)
    with pytest.raises(ember.ShapeError, match="bias must have shape \\[8\\]"):
        F.linear(ember.randn(2, 4), w, ember.randn(3))


# ------------------------------------------------------------------------ dropout


def test_dropout_is_reproducible_and_scales():
    x = ember.ones(200, 500)
    ember.manual_seed(7)
    a = F.dropout(x, 0.3)
    ember.manual_seed(7)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    vals = a.numpy()
    assert set(np.unique(vals)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((vals == 0).mean() - 0.3) < 0.01  # 100k draws: std of the rate is 0.0015
    assert F.dropout(x, 0.3, training=False) is x


def test_dropout_gradient_is_the_mask():
    x = ember.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(ember.ones(3), 1.5)


def test_dropout2d_drops_whole_channels():
    y = F.dropout2d(ember.ones(8, 16, 3, 3), 0.5).numpy()
    per_plane = y.reshape(8, 16, 9)
    assert np.all((per_plane == 0).all(-1) | (per_plane == 2).all(-1))


# ------------------------------------------------------------------------ one_hot, embedding


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(ember.tensor(idx)).numpy(),
                                  TF.one_hot(torch.tensor(idx)).numpy())
    out = F.one_hot(ember.tensor(idx), num_classes=6)
    assert out.shape == (2, 2, 6) and out.dtype == ember.int64
    with pytest.raises(IndexError, match="class value 3 is out of range for num_classes=3"):
        F.one_hot(ember.tensor(idx), 3)
    with pytest.raises(ember.DTypeError, match="integer"):
        F.one_hot(ember.tensor([0.0, 1.0]))


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True}])
def test_embedding_matches_torch(kwargs):
    rng = np.random.default_rng(6)
    w = rng.standard_normal((7, 3))
    idx = np.array([[1, 2, 2], [6, 6, 0]])
    we, wt = _pair(w)
    ye = F.embedding(ember.tensor(idx), we, **kwargs)
    yt = TF.embedding(torch.tensor(idx), wt, **kwargs)
    _close(ye, yt)
    g = rng.standard_normal(yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    _close(we.grad, wt.grad)


def test_embedding_max_norm_renormalizes_rows_like_torch():
    w = np.random.default_rng(8).standard_normal((5, 4)) * 3
    we, wt = _pair(w, requires_grad=False)
    idx = np.array([0, 3])
    _close(F.embedding(ember.tensor(idx), we, max_norm=1.0),
           TF.embedding(torch.tensor(idx), wt, max_norm=1.0), rtol=1e-7)
    _close(we, wt, rtol=1e-7)


def test_embedding_bad_inputs():
    w = ember.randn(10, 3)
    with pytest.raises(ember.DTypeError, match="integer tensor of indices"):
        F.embedding(ember.tensor([1.0]), w)
    with pytest.raises(IndexError, match="index 10 is out of range .*num_embeddings=10"):
        F.embedding(ember.tensor([1, 10]), w)
    with pytest.raises(IndexError, match="index -1"):
        F.embedding(ember.tensor([-1]), w)
