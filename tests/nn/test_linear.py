"""nn.Linear / nn.Identity against torch.nn with identical weights (float64, 1e-10)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _copy_from_torch(me, mt):
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
def test_linear_matches_torch(bias, shape):
    mt = torch.nn.Linear(5, 4, bias=bias, dtype=torch.float64)
    me = nn.Linear(5, 4, bias=bias, dtype=ember.float64)
    _copy_from_torch(me, mt)
    x = np.random.default_rng(0).standard_normal(shape)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = me(xe), mt(xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    g = np.random.default_rng(1).standard_normal(yt.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    for (n, pe), (_, pt) in zip(me.named_parameters(), mt.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), rtol=1e-10, err_msg=n)


def test_linear_default_init_matches_torch_distribution():
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) reduces to this bound
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert m.weight.dtype == ember.float32 and w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and abs(b.mean()) < 0.2 * bound


def test_linear_repr_describe_and_names():
    assert repr(nn.Linear(4, 8)) == repr(torch.nn.Linear(4, 8))
    assert repr(nn.Linear(4, 8, bias=False)) == repr(torch.nn.Linear(4, 8, bias=False))
    assert nn.Linear(4, 8).describe() == "Linear 4->8"
    assert [n for n, _ in nn.Linear(2, 3).named_parameters()] == ["weight", "bias"]
    assert nn.Linear(2, 3, bias=False).bias is None


def test_linear_shape_error_names_the_layer_path():
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    with pytest.raises(ember.ShapeError,
                       match=r"^0 \(Linear 784->128\): .*784 \(in_features\).*\[32, 100\]"):
        model(ember.randn(32, 100))


def test_linear_bad_constructor_args():
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(4.5, 3)


def test_identity():
    x = ember.randn(2, 3)
    assert nn.Identity(54, unused="x")(x) is x
    assert repr(nn.Identity()) == "Identity()"
