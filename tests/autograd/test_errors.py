"""Autograd misuse raises RuntimeError subclasses (ember.AutogradError) with messages that
say what went wrong and what to do, as PyTorch's do. In-place cases need the in-place ops
(src/ember/ops/inplace.py) and are skipped until they exist."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops.registry import REGISTRY, Op

from ._util import needs_inplace, rand


def test_autograd_error_is_a_runtime_error():
    assert issubclass(ember.AutogradError, RuntimeError)


def test_backward_shape_mismatch_of_given_gradient():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError,
                       match=r"Mismatch in shape: grad_output\[0\] has a shape of \[2\] and "
                             r"output\[0\] has a shape of \[3\]"):
        (x * 2).backward(ember.ones(2))


def test_second_root_not_requiring_grad_is_named():
    x = ember.tensor(rand(3), requires_grad=True)
    c = ember.tensor(rand(3))
    with pytest.raises(ember.AutogradError, match="element 1 of tensors does not require grad"):
        ember.autograd.backward([(x * 2).sum(), c.sum()])


def test_freed_graph_message_names_the_node():
    x = ember.tensor(rand(3), requires_grad=True)
    y = (ember.exp(x) * x).sum()
    y.backward()
    with pytest.raises(ember.AutogradError, match=r"second time \(through \w+Backward\)"):
        y.backward()


def test_backward_with_non_tensor_roots_raises_type_error():
    with pytest.raises(TypeError, match=r"tensors\[0\] is a float"):
        ember.autograd.backward([1.0])


@pytest.fixture
def bad_vjp_op():
    """An op whose vjp forgets to undo broadcasting (unregistered after the test)."""
    op = Op("autograd_test_forgets_sum_to", np.add,
            lambda ctx, g: (g, g), lambda a, b: a, save=())
    yield op
    REGISTRY.pop(op.name, None)


def test_builtin_vjp_with_wrong_shape_is_reported_not_reduced(bad_vjp_op):
    a = ember.tensor(rand(3, 1), requires_grad=True)
    b = ember.tensor(rand(4), requires_grad=True)
    y = ember.ops.apply(bad_vjp_op, (a, b))
    with pytest.raises(ember.AutogradError,
                       match=r"AutogradTestForgetsSumToBackward returned an invalid gradient at "
                             r"index 0 - got \[3, 4\] but expected shape compatible with \[3, 1\]"):
        y.sum().backward()


@pytest.fixture
def miscounting_op():
    op = Op("autograd_test_miscount", np.negative, lambda ctx, g: (g, g), lambda a: a, save=())
    yield op
    REGISTRY.pop(op.name, None)


def test_builtin_vjp_with_wrong_count(miscounting_op):
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError,
                       match=r"incorrect number of gradients \(expected 1, got 2\)"):
        ember.ops.apply(miscounting_op, (x,)).sum().backward()


def test_requires_grad_on_integer_tensor():
    with pytest.raises(ember.AutogradError, match="floating point"):
        ember.tensor([1, 2, 3]).requires_grad_()


def test_grad_shape_mismatch_on_accumulate():
    # the .grad setter refuses this, so only code writing the slot itself gets here
    x = ember.tensor(rand(3), requires_grad=True)
    x._grad = ember.zeros(2, dtype=ember.float64)
    with pytest.raises(ember.AutogradError,
                       match=r"gradient of shape \[3\] into .grad of shape \[2\]"):
        (x * 2).sum().backward()


def test_grad_setter_checks_like_pytorch():
    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.ShapeError,
                       match=r"assigned grad has data of a different size: the tensor has "
                             r"shape \[3\], the grad \[2\]"):
        x.grad = ember.zeros(2, dtype=ember.float64)
    with pytest.raises(ember.DTypeError,
                       match="assigned grad has data of a different type: the tensor is "
                             "float64, the grad float32"):
        x.grad = ember.zeros(3, dtype=ember.float32)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None but "
                                        "got grad of type list"):
        x.grad = [0.0, 0.0, 0.0]
    assert x.grad is None  # nothing was stored by the refused assignments
    g = ember.ones(3, dtype=ember.float64)
    x.grad = g
    assert x.grad is g
    (x * 2).sum().backward()  # accumulates into the assigned tensor
    assert np.array_equal(x.grad.numpy(), np.full(3, 3.0))
    x.grad = None
    assert x.grad is None


# ------------------------------------------------------------- in-place (version counter)


@needs_inplace
def test_in_place_on_saved_input_is_caught():
    x = ember.tensor(rand(3), requires_grad=True)
    a = x * 1
    y = a * a  # mul saves a
    a.add_(1.0)
    with pytest.raises(ember.AutogradError, match="modified by an inplace operation"):
        y.sum().backward()


@needs_inplace
def test_in_place_on_saved_output_is_caught():
    x = ember.tensor(rand(3), requires_grad=True)
    y = ember.exp(x)  # exp saves its output
    y.mul_(2.0)
    with pytest.raises(ember.AutogradError, match="modified by an inplace operation"):
        y.sum().backward()


@needs_inplace
def test_in_place_on_unsaved_input_is_fine():
    xe = ember.tensor(rand(3), requires_grad=True)
    a = xe * 1
    y = a + 2.0  # add saves nothing
    a.add_(1.0)
    y.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), np.ones(3))


@needs_inplace
def test_accumulating_into_grad_bumps_its_version():
    x = ember.tensor(rand(3), requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    w = ember.tensor(rand(3, seed=1), requires_grad=True)
    z = (w * g).sum()  # mul saves g
    (x * 2).sum().backward()  # accumulates into g in place
    with pytest.raises(ember.AutogradError, match="modified by an inplace operation"):
        z.backward()
