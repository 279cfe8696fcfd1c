"""ember.autograd.Function: custom ops with user-written backward, compared with
torch.autograd.Function written the same way."""

from __future__ import annotations

import numpy as np
import pytest

import ember

from ._util import close, needs_inplace, pair, rand, torch


def _cube(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    return Cube


def test_custom_function_matches_torch_and_names_its_node():
    xe, xt = pair(rand(4))
    ye = _cube(ember).apply(xe)
    yt = _cube(torch).apply(xt)
    close(ye, yt)
    assert repr(ye.grad_fn) == "<CubeBackward>"
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    close(xe.grad, xt.grad)


def test_double_backward_through_function_matches_torch():
    xe, xt = pair(rand(4))
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        y = _cube(lib).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        res.append(h)
    close(res[0], res[1])


def _exp_saving_output(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = lib.exp(x)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    return Exp


def test_saved_output_is_reconnected_for_double_backward():
    xe, xt = pair(rand(3))
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        y = _exp_saving_output(lib).apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        res.append(h)
    close(res[0], res[1])


def test_needs_input_grad_and_non_tensor_arguments():
    seen = {}

    class Scale(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, k):
            seen["needs"] = ctx.needs_input_grad
            seen["recording"] = ember.is_grad_enabled()
            ctx.k = k
            ctx.save_for_backward(w)
            return x * w * k

        @staticmethod
        def backward(ctx, grad):
            (w,) = ctx.saved_tensors
            return grad * w * ctx.k, None, None

    x = ember.tensor(rand(3), requires_grad=True)
    w = ember.tensor(rand(3, seed=1))
    Scale.apply(x, w, 2.5).sum().backward()
    assert seen == {"needs": (True, False, False), "recording": False}
    np.testing.assert_allclose(x.grad.numpy(), w.numpy() * 2.5)


def test_gradient_for_non_tensor_argument_raises():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="different than None at position 1"):
        Bad.apply(x, 2.0).sum().backward()


def test_wrong_number_of_gradients_raises():
    class TooFew(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError,
                       match=r"TooFewBackward returned an incorrect number of gradients "
                             r"\(expected 2, got 1\)"):
        TooFew.apply(x, x).sum().backward()


def test_extra_trailing_none_gradients_are_accepted_like_torch():
    class Extra(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = ember.tensor(rand(3), requires_grad=True)
    Extra.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))


def test_wrong_gradient_shape_names_function_and_index():
    class BadShape(ember.autograd.Function):
        @staticmethod
        def forward(ctx, k, x):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return None, ember.ones(4, dtype=ember.float64)

    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError,
                       match=r"BadShapeBackward returned an invalid gradient at index 1 - got "
                             r"\[4\] but expected shape compatible with \[3\]"):
        BadShape.apply(2.0, x).sum().backward()


def test_broadcast_shaped_gradient_is_reduced_like_torch():
    res = []
    for lib in (ember, torch):
        class Widen(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad.expand(4, 3) * 2  # PyTorch sums this back to the input's shape

        x = lib.tensor(rand(3), requires_grad=True)
        Widen.apply(x).sum().backward()
        res.append(x.grad)
    close(res[0], res[1])


def test_integer_gradient_raises():
    class IntGrad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return ember.ones(3, dtype=ember.int64)

    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError,
                       match="IntGradBackward returned a gradient of dtype int64 at index 0"):
        IntGrad.apply(x).sum().backward()


def test_other_float_dtype_gradient_is_cast_like_torch():
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.double() * 2

    x = ember.tensor(rand(3, dtype=np.float32), requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.dtype == ember.float32


def test_non_tensor_gradient_raises():
    class Numpy(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(3)

    x = ember.tensor(rand(3), requires_grad=True)
    with pytest.raises(ember.AutogradError, match="NumpyBackward returned a ndarray"):
        Numpy.apply(x).sum().backward()


def test_mark_non_differentiable():
    class ArgmaxAndValue(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            mask = ember.tensor(x.detach().numpy() > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            return mask

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("never called")

    x = ember.tensor(rand(3), requires_grad=True)
    m = ArgmaxAndValue.apply(x)
    assert not m.requires_grad and m.grad_fn is None


def _sincos(lib, materialize=True):
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            return lib.sin(x), lib.cos(x)

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            out = 0
            if gs is not None:
                out = out + gs * lib.cos(x)
            if gc is not None:
                out = out - gc * lib.sin(x)
            return out

    return SinCos


def test_multiple_outputs_match_torch():
    xe, xt = pair(rand(4))
    for x, lib in ((xe, ember), (xt, torch)):
        s, c = _sincos(lib).apply(x)
        (s * c * 3 + s).sum().backward()
    close(xe.grad, xt.grad)


def test_multiple_outputs_unused_output_gets_zeros_or_none():
    xe, xt = pair(rand(4))
    for x, lib in ((xe, ember), (xt, torch)):
        s, _ = _sincos(lib).apply(x)
        s.sum().backward()
    close(xe.grad, xt.grad)
    got = []

    class Spy(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            got.append((ga, gb))
            return ga * 2

    a, _ = Spy.apply(xe)
    a.sum().backward()
    assert got[0][1] is None


def test_multiple_outputs_grad_names_and_second_order():
    xe, xt = pair(rand(3))
    res = []
    for x, lib in ((xe, ember), (xt, torch)):
        s, c = _sincos(lib).apply(x)
        if lib is ember:
            assert s.grad_fn.name == "SinCosBackward"
            assert s.grad_fn.next_functions[0][0].variable is x
        (g,) = lib.autograd.grad((s * c).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        res.append((g, h))
    close(res[0][0], res[1][0])
    close(res[0][1], res[1][1])


def test_multiple_outputs_grad_with_respect_to_one_output():
    x = ember.tensor(rand(3), requires_grad=True)
    s, c = _sincos(ember).apply(x)
    gs, gc = ember.autograd.grad((s * c).sum(), [s, c])
    np.testing.assert_allclose(gs.numpy(), c.detach().numpy())
    np.testing.assert_allclose(gc.numpy(), s.detach().numpy())


def test_saved_tensors_are_freed_after_backward():
    x = ember.tensor(rand(3), requires_grad=True)
    y = _cube(ember).apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy() ** 2)
    with pytest.raises(ember.AutogradError, match="retain_graph=True"):
        y.backward()


def test_apply_without_grad_records_nothing():
    x = ember.tensor(rand(3), requires_grad=True)
    with ember.no_grad():
        y = _cube(ember).apply(x)
    assert y.grad_fn is None and not y.requires_grad
    y = _cube(ember).apply(ember.tensor(rand(3)))
    assert y.grad_fn is None


def test_setup_context_style():
    class Mul(ember.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * y, grad * x

    xe, xt = pair(rand(3))
    ye, yt = pair(rand(3, seed=1))
    Mul.apply(xe, ye).sum().backward()
    (xt * yt).sum().backward()
    close(xe.grad, xt.grad)
    close(ye.grad, yt.grad)


def test_save_for_backward_rejects_non_tensors():
    class Saver(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

    with pytest.raises(TypeError, match="argument 1 is a int"):
        Saver.apply(ember.tensor(rand(3), requires_grad=True))


@needs_inplace
def test_in_place_change_of_saved_tensor_is_caught():
    x = ember.tensor(rand(3), requires_grad=True)
    a = x * 1
    y = _cube(ember).apply(a)
    a.add_(1.0)
    with pytest.raises(ember.AutogradError, match="modified by an inplace operation"):
        y.sum().backward()
