"""Random tensors: shapes, dtypes, ranges, seeding and explicit generators."""

from __future__ import annotations

import numpy as np
import pytest

import ember

SAMPLERS = {
    "rand": lambda **k: ember.rand(3, 4, **k),
    "randn": lambda **k: ember.randn((3, 4), **k),
    "randint": lambda **k: ember.randint(0, 10, (3, 4), **k),
    "randperm": lambda **k: ember.randperm(12, **k),
    "normal": lambda **k: ember.normal(1.0, 2.0, (3, 4), **k),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_manual_seed_reproduces(name):
    ember.manual_seed(123)
    first = SAMPLERS[name]().numpy().copy()
    ember.manual_seed(123)
    again = SAMPLERS[name]().numpy()
    np.testing.assert_array_equal(first, again)
    ember.manual_seed(124)
    assert not np.array_equal(first, SAMPLERS[name]().numpy())


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_explicit_generator_is_independent_of_default(name):
    g = ember.Generator().manual_seed(7)
    ember.manual_seed(0)
    a = SAMPLERS[name](generator=g).numpy().copy()
    ember.manual_seed(99)  # reseeding / drawing from the default must not affect g's stream
    ember.rand(5)
    g2 = ember.Generator().manual_seed(7)
    b = SAMPLERS[name](generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    # and drawing from g does not advance the default generator
    ember.manual_seed(5)
    expected = ember.rand(3).numpy().copy()
    ember.manual_seed(5)
    SAMPLERS[name](generator=g)
    np.testing.assert_array_equal(ember.rand(3).numpy(), expected)


def test_state_round_trip():
    ember.manual_seed(3)
    state = ember.get_rng_state()
    a = ember.randn(5).numpy().copy()
    ember.set_rng_state(state)
    np.testing.assert_array_equal(ember.randn(5).numpy(), a)
    g = ember.Generator().manual_seed(11)
    s = g.get_state()
    x = ember.rand(4, generator=g).numpy().copy()
    assert g.set_state(s) is g
    np.testing.assert_array_equal(ember.rand(4, generator=g).numpy(), x)
    assert g.initial_seed() == 11


def test_seed_and_initial_seed():
    ember.manual_seed(42)
    assert ember.initial_seed() == 42
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s
    assert ember.manual_seed(1) is ember.random.default_generator


@pytest.mark.parametrize("dtype", [None, ember.float64, ember.float16])
def test_rand_range_and_dtype(dtype):
    x = ember.rand(1000, dtype=dtype)
    assert x.dtype is (dtype or ember.float32) and x.shape == (1000,)
    assert 0 <= x.numpy().min() and x.numpy().max() < 1
    assert 0.4 < x.numpy().astype(np.float64).mean() < 0.6


def test_randn_moments_and_shapes():
    x = ember.randn(20000, dtype=ember.float64).numpy()
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05
    assert ember.randn(2, 0, 3).shape == (2, 0, 3) and ember.randn(()).shape == ()


def test_randint_forms_and_range():
    x = ember.randint(3, 7, (500,))
    assert x.dtype is ember.int64 and set(np.unique(x.numpy())) == {3, 4, 5, 6}
    y = ember.randint(4, (2, 3))
    assert y.shape == (2, 3) and y.numpy().min() >= 0 and y.numpy().max() < 4
    assert ember.randint(0, 2, (3,), dtype=ember.int32).dtype is ember.int32


def test_randperm_is_a_permutation():
    p = ember.randperm(50)
    assert p.dtype is ember.int64 and sorted(p.tolist()) == list(range(50))
    assert ember.randperm(0).shape == (0,)


def test_normal_forms():
    x = ember.normal(5.0, 0.1, (1000,), dtype=ember.float64).numpy()
    assert abs(x.mean() - 5.0) < 0.02
    mean = ember.tensor([0.0, 100.0])
    y = ember.normal(mean, 1.0)
    assert y.shape == (2,) and y.dtype is ember.float32 and y.numpy()[1] > 90
    z = ember.normal(0.0, ember.ones(3, 2, dtype=ember.float64))
    assert z.shape == (3, 2) and z.dtype is ember.float64


def test_random_like():
    src = ember.zeros(2, 3, dtype=ember.float64)
    assert ember.rand_like(src).dtype is ember.float64
    assert ember.randn_like(src).shape == (2, 3)
    assert ember.rand_like(src, requires_grad=True).requires_grad


@pytest.mark.parametrize("call, error, match", [
    (lambda: ember.rand(2, dtype=ember.int64), ember.DTypeError,
     "rand: expected a floating point dtype, got ember.int64"),
    (lambda: ember.randn(2, dtype=ember.bool_), ember.DTypeError,
     "randn: expected a floating point dtype"),
    (lambda: ember.randint(5, 5, (2,)), ValueError, r"randint: high \(5\) must be greater "
                                                     r"than low \(5\)"),
    (lambda: ember.randint(5), TypeError, "randint: missing size"),
    (lambda: ember.randperm(-1), ValueError, "randperm: n must be a non-negative int"),
    (lambda: ember.normal(0.0, -1.0, (2,)), ValueError, "normal: std must be non-negative"),
    (lambda: ember.normal(0.0, 1.0), TypeError, "normal: give size="),
    (lambda: ember.rand(2, generator=np.random.default_rng()), TypeError,
     "generator must be an ember.Generator, got Generator"),
    (lambda: ember.manual_seed(1.5), TypeError, "manual_seed expects an int, got float"),
    (lambda: ember.rand(-2), ember.ShapeError, "rand: negative dimension -2"),
    (lambda: ember.randint(0, 3, (2,), requires_grad=True), ember.AutogradError,
     "floating point"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
