"""gradcheck / gradgradcheck: they pass on correct gradients (also for strided inputs and
tuple outputs) and catch wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.autograd.gradcheck import GradcheckError

from ._util import rand


def _t(arr, requires_grad=True):
    return ember.tensor(arr, requires_grad=requires_grad)


def _wrong_square(scale_in_backward: float):
    class WrongSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x * scale_in_backward

    return WrongSquare


def test_passes_for_correct_gradients():
    x, w = _t(rand(3, 1)), _t(rand(4, seed=1))
    assert gradcheck(lambda a, b: ember.tanh(a * b) + ember.exp(b), (x, w))


def test_single_tensor_input_and_non_tensor_arguments():
    x = _t(rand(3))
    assert gradcheck(ember.sin, x)
    assert gradcheck(lambda a, k: a * k, (x, 2.5))


def test_catches_a_wrong_backward():
    x = _t(rand(3))
    assert gradcheck(_wrong_square(2.0).apply, (x,))
    with pytest.raises(GradcheckError,
                       match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(_wrong_square(3.0).apply, (x,))
    assert gradcheck(_wrong_square(3.0).apply, (x,), raise_exception=False) is False
    assert issubclass(GradcheckError, RuntimeError)


def test_float32_input_is_rejected():
    x = _t(rand(3, dtype=np.float32))
    with pytest.raises(ember.DTypeError, match="input 0 is float32; use float64"):
        gradcheck(ember.sin, (x,))


def test_no_input_requiring_grad_is_rejected():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(ember.sin, (_t(rand(3), requires_grad=False),))


def test_non_contiguous_input_is_perturbed_through_its_strides():
    base = rand(4, 3)
    x = ember.tensor(base).detach()
    x._data = x._data.T  # a transposed (F-ordered) view: reshape(-1) of it would be a copy
    x.requires_grad_()
    assert not x.is_contiguous()
    w = _t(rand(3, 4, seed=1))
    assert gradcheck(lambda a, b: ember.sin(a) * b, (x, w))
    np.testing.assert_array_equal(x.detach().numpy(), base.T)  # restored exactly


def test_broadcast_view_input_is_rejected_clearly():
    x = ember.broadcast_to(_t(rand(3), requires_grad=False), (2, 3)).requires_grad_()
    with pytest.raises(ValueError, match="read-only or overlapping view"):
        gradcheck(ember.sin, (x,))


def test_tuple_outputs():
    x, w = _t(rand(3)), _t(rand(3, seed=1))
    assert gradcheck(lambda a, b: (a * b, ember.exp(a), (a * 2 > 0)), (x, w))

    def second_output_wrong(a):
        return a * 2, _wrong_square(3.0).apply(a)

    with pytest.raises(GradcheckError, match="output 1 with respect to input 0"):
        gradcheck(second_output_wrong, (x,))


def test_zero_dim_and_empty_inputs():
    assert gradcheck(lambda a: a * a * 3, (_t(np.array(1.3)),))
    assert gradcheck(lambda a: ember.exp(a), (_t(np.zeros((0, 3))),))


def test_gradgradcheck_passes_and_catches_non_differentiable_backward():
    x = _t(rand(3))
    assert gradgradcheck(lambda a: a ** 3, (x,))
    assert gradgradcheck(_wrong_square(2.0).apply, (x,))

    class DetachedBackward(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 3 * a.detach() ** 2  # first order right, second order lost

    assert gradcheck(DetachedBackward.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(DetachedBackward.apply, (x,))


def test_gradgradcheck_with_given_and_non_contiguous_grad_outputs():
    x = _t(rand(2, 3))
    v = ember.tensor(rand(2, 3, seed=7), requires_grad=True)
    assert gradgradcheck(ember.tanh, (x,), (v,))
    assert gradgradcheck(ember.tanh, (x,), gen_non_contig_grad_outputs=True)
