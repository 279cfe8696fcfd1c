"""Activation modules against torch.nn: repr text, outputs and input gradients (float64,
1e-10; hardsigmoid/hardswish 1e-6 since PyTorch uses float32 constants there)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")

MODULES = [
    ("ReLU", ()), ("ReLU", (True,)), ("ReLU6", ()), ("SELU", ()), ("SiLU", ()), ("Mish", ()),
    ("Hardswish", ()), ("Hardsigmoid", ()), ("Sigmoid", ()), ("Tanh", ()), ("Softsign", ()),
    ("LogSigmoid", ()), ("Tanhshrink", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.2,)),
    ("ELU", ()), ("ELU", (0.5,)), ("CELU", (2.0,)), ("GELU", ()), ("GELU", ("tanh",)),
    ("Hardtanh", ()), ("Hardtanh", (-2.0, 3.0)), ("Softplus", ()), ("Softplus", (2.0, 5.0)),
    ("Softmax", (1,)), ("LogSoftmax", (-1,)), ("Softmin", (0,)),
]


@pytest.mark.parametrize("name,args", MODULES, ids=lambda v: str(v))
def test_activation_module_matches_torch(name, args):
    me, mt = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(me) == repr(mt)
    x = np.random.default_rng(0).standard_normal((3, 6)) * 3
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    # inplace modules must not write into a leaf: feed them a non-leaf copy
    ye, yt = me(xe * 1.0), mt(xt * 1.0)
    rtol = 1e-6 if name.startswith("Hards") else 1e-10
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(x.shape)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-12)


def test_softmax_without_dim_is_an_error_not_a_guess():
    with pytest.raises(TypeError, match="missing required argument 'dim'"):
        nn.Softmax()(ember.randn(2, 3))
    assert repr(nn.Softmax()) == repr(torch.nn.Softmax())


def test_activation_modules_have_no_parameters_and_describe_themselves():
    m = nn.LeakyReLU(0.1)
    assert list(m.parameters()) == [] and m.describe() == "LeakyReLU"
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
