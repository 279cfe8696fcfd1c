"""no_grad, enable_grad, set_grad_enabled, inference_mode: as context managers, as
decorators (with and without parentheses, on generators), nested, and on exceptions."""

from __future__ import annotations

import pytest

import ember

from ._util import rand


@pytest.fixture
def x():
    return ember.tensor(rand(3), requires_grad=True)


def test_no_grad_context(x):
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
    assert ember.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_enable_grad_inside_no_grad(x):
    with ember.no_grad():
        with ember.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and z.grad_fn is None


def test_nesting_restores_and_exceptions_restore():
    with ember.no_grad():
        with ember.no_grad():
            pass
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError("boom")
    assert ember.is_grad_enabled()


@pytest.mark.parametrize("make", [
    lambda: ember.no_grad(), lambda: ember.no_grad, lambda: ember.set_grad_enabled(False),
    lambda: ember.inference_mode(), lambda: ember.inference_mode,
])
def test_decorators_preserve_metadata_and_disable_grad(make, x):
    def scaled(t, k=2.0):
        """Doc of scaled."""
        assert not ember.is_grad_enabled()
        return t * k

    wrapped = make()(scaled)
    assert ember.is_grad_enabled()  # decorating does not change the current mode
    assert wrapped.__name__ == "scaled" and wrapped.__doc__ == "Doc of scaled."
    assert wrapped.__wrapped__ is scaled
    y = wrapped(x, k=3.0)
    assert y.grad_fn is None
    assert ember.is_grad_enabled()


def test_enable_grad_decorator(x):
    @ember.enable_grad
    def f(t):
        return t * 2

    with ember.no_grad():
        y = f(x)
    assert y.requires_grad


def test_set_grad_enabled_as_plain_call():
    try:
        ember.set_grad_enabled(False)
        assert not ember.is_grad_enabled()
        ember.set_grad_enabled(True)
        assert ember.is_grad_enabled()
    finally:
        ember.set_grad_enabled(True)


def test_set_grad_enabled_context_restores(x):
    with ember.set_grad_enabled(False):
        assert (x * 2).grad_fn is None
        with ember.set_grad_enabled(True):
            assert (x * 2).grad_fn is not None
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()


def test_no_grad_on_a_generator_applies_inside_only(x):
    @ember.no_grad()
    def gen():
        for _ in range(2):
            received = yield ember.is_grad_enabled()
            assert received == "ping"

    g = gen()
    assert next(g) is False
    assert ember.is_grad_enabled()  # the caller's code between steps keeps grad on
    assert g.send("ping") is False
    with pytest.raises(StopIteration):
        g.send("ping")


def test_inference_mode_flags():
    assert not ember.autograd.is_inference_mode_enabled()
    with ember.inference_mode():
        assert ember.autograd.is_inference_mode_enabled()
        assert not ember.is_grad_enabled()
        with ember.inference_mode(False):
            assert not ember.autograd.is_inference_mode_enabled()
            assert ember.is_grad_enabled()
    assert not ember.autograd.is_inference_mode_enabled() and ember.is_grad_enabled()


def test_backward_inside_no_grad_still_works(x):
    y = (x * x).sum()
    with ember.no_grad():
        y.backward()
    assert x.grad is not None and x.grad.grad_fn is None
    assert ember.is_grad_enabled()


def test_engine_restores_mode_after_a_failing_backward(x):
    class Fails(ember.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise KeyError("inside backward")

    with pytest.raises(KeyError):
        Fails.apply(x).sum().backward(create_graph=False)
    assert ember.is_grad_enabled()
