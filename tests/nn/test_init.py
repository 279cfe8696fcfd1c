"""nn.init: fans and gains equal PyTorch's exactly; distributions checked statistically on
large tensors (tolerances are several standard errors of the estimate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import init

torch = pytest.importorskip("torch")
TI = torch.nn.init


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (16, 4, 3, 3), (2, 3, 1, 2, 2)])
def test_fans_match_torch(shape):
    assert (init._calculate_fan_in_and_fan_out(ember.empty(*shape))
            == TI._calculate_fan_in_and_fan_out(torch.empty(*shape)))


def test_fan_of_1d_tensor_raises():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(3))


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == TI.calculate_gain(*args)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


def test_uniform_and_normal():
    t = ember.empty(400, 500)
    mean, std, lo, hi = _stats(init.uniform_(t, -2.0, 3.0))
    assert lo >= -2.0 and hi < 3.0
    assert abs(mean - 0.5) < 0.02 and abs(std - 5 / math.sqrt(12)) < 0.01
    mean, std, _, _ = _stats(init.normal_(t, 1.0, 0.5))
    assert abs(mean - 1.0) < 0.005 and abs(std - 0.5) < 0.005


def test_fills():
    t = ember.empty(3, 4)
    assert (init.constant_(t, 2.5).numpy() == 2.5).all()
    assert (init.zeros_(t).numpy() == 0).all() and (init.ones_(t).numpy() == 1).all()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    w = ember.empty(4, 2, 3, 3)
    tw = torch.empty(4, 2, 3, 3)
    np.testing.assert_array_equal(init.dirac_(w).numpy(), TI.dirac_(tw).numpy())
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(ember.empty(2, 2, 2))


@pytest.mark.parametrize("fn,kw,expected_std", [
    ("xavier_uniform_", {"gain": 2.0}, 2.0 * math.sqrt(2 / (200 + 300))),
    ("xavier_normal_", {}, math.sqrt(2 / (200 + 300))),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, math.sqrt(2 / 6) / math.sqrt(300)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
])
def test_scaled_initializers_have_torch_std(fn, kw, expected_std):
    t = ember.empty(200, 300)
    mean, std, lo, hi = _stats(getattr(init, fn)(t, **kw))
    assert abs(mean) < 0.05 * expected_std  # standard error is expected_std / sqrt(60000)
    assert abs(std / expected_std - 1) < 0.01
    if "uniform" in fn:
        bound = math.sqrt(3) * expected_std
        assert -bound <= lo and hi <= bound and hi > 0.99 * bound


def test_orthogonal():
    for shape in [(30, 50), (50, 30), (6, 4, 3)]:
        t = init.orthogonal_(ember.empty(*shape, dtype=ember.float64), gain=1.5)
        m = t.numpy().reshape(shape[0], -1)
        small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(small, 1.5 ** 2 * np.eye(small.shape[0]), atol=1e-10)


def test_trunc_normal():
    t = ember.empty(300, 400)
    mean, std, lo, hi = _stats(init.trunc_normal_(t, mean=0.5, std=1.0, a=-1.0, b=2.0))
    assert lo >= -1.0 and hi <= 2.0
    # N(0.5, 1) truncated to mean +- 1.5 sigma: var = 1 - 2 * 1.5 * pdf(1.5) / (2 cdf(1.5) - 1)
    pdf = math.exp(-1.5 ** 2 / 2) / math.sqrt(2 * math.pi)
    want_std = math.sqrt(1 - 3 * pdf / math.erf(1.5 / math.sqrt(2)))
    assert abs(mean - 0.5) < 0.01 and abs(std - want_std) < 0.005
    with pytest.warns(UserWarning, match="more than 2 std"):
        _, _, lo, hi = _stats(init.trunc_normal_(ember.empty(1000), 0.0, 1.0, 6.0, 7.0))
    assert 6.0 <= lo and hi <= 7.0


def test_initializers_work_on_parameters_and_use_the_default_generator():
    p = nn.Parameter(ember.empty(5, 6))
    ember.manual_seed(3)
    a = init.kaiming_uniform_(p).detach().numpy().copy()
    ember.manual_seed(3)
    b = init.kaiming_uniform_(p).detach().numpy().copy()
    np.testing.assert_array_equal(a, b)
    assert p.requires_grad and p.grad_fn is None
    g = ember.Generator().manual_seed(3)
    c = init.kaiming_uniform_(p, generator=g).detach().numpy()
    np.testing.assert_array_equal(a, c)


def test_initializer_type_errors():
    with pytest.raises(ember.DTypeError, match="floating-point"):
        init.normal_(ember.zeros(3, dtype=ember.int64))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(ember.empty(3, 3), mode="fan_avg")
