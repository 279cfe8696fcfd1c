"""In-place ops: PyTorch's safety rules (leaves, version counters, views, read-only memory,
dtypes) and autograd through rebased tensors, checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import OverlapError

torch = pytest.importorskip("torch")

LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation"
VERSION_MSG = "modified by an inplace operation"


def pair(values, requires_grad=True):
    """The same float32 values as an ember and a torch leaf."""
    arr = np.asarray(values, dtype=np.float32)
    return (ember.tensor(arr, requires_grad=requires_grad),
            torch.tensor(arr, requires_grad=requires_grad))


def close(e, t, atol=1e-6):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=atol)


VALUES = [[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]]

# every in-place method, as a call on a float tensor of shape [2, 3]
INPLACE_CALLS = {
    "add_": lambda t: t.add_(1.0), "sub_": lambda t: t.sub_(1.0), "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0), "pow_": lambda t: t.pow_(2.0), "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(3.0), "copy_": lambda t: t.copy_(ember.ones(3)),
    "clamp_": lambda t: t.clamp_(-1, 1), "clip_": lambda t: t.clip_(max=0.5),
    "neg_": lambda t: t.neg_(), "exp_": lambda t: t.exp_(), "log_": lambda t: t.abs_().log_(),
    "sqrt_": lambda t: t.abs_().sqrt_(), "abs_": lambda t: t.abs_(), "relu_": lambda t: t.relu_(),
    "sigmoid_": lambda t: t.sigmoid_(), "tanh_": lambda t: t.tanh_(),
    "masked_fill_": lambda t: t.masked_fill_(ember.tensor([True, False, True]), 0.0),
    "scatter_": lambda t: t.scatter_(1, ember.tensor([[0], [2]]), 5.0),
    "scatter_add_": lambda t: t.scatter_add_(1, ember.tensor([[0, 0]]), ember.ones(1, 2)),
    "index_fill_": lambda t: t.index_fill_(1, ember.tensor([1]), -1.0),
    "addcmul_": lambda t: t.addcmul_(ember.ones(3), ember.ones(3), value=2),
    "addcdiv_": lambda t: t.addcdiv_(ember.ones(3), ember.ones(3) * 2),
    "lerp_": lambda t: t.lerp_(ember.zeros(3), 0.5),
    "uniform_": lambda t: t.uniform_(), "normal_": lambda t: t.normal_(),
    "iadd": lambda t: t.__iadd__(1), "isub": lambda t: t.__isub__(1),
    "imul": lambda t: t.__imul__(3), "itruediv": lambda t: t.__itruediv__(4),
    "setitem": lambda t: t.__setitem__((0, 1), 7.0),
}
# the number of in-place writes each call makes (log_ and sqrt_ run abs_ first)
WRITES = {"log_": 2, "sqrt_": 2}


# ------------------------------------------------------------------------ leaves


@pytest.mark.parametrize("name", sorted(INPLACE_CALLS))
def test_inplace_on_leaf_requiring_grad_raises(name):
    x = ember.tensor(VALUES, requires_grad=True)
    with pytest.raises(ember.AutogradError, match=LEAF_MSG):
        INPLACE_CALLS[name](x)
    np.testing.assert_array_equal(x.detach().numpy(), np.float32(VALUES))  # nothing written
    assert x._version_count == 0


@pytest.mark.parametrize("name", sorted(INPLACE_CALLS))
def test_inplace_on_leaf_allowed_under_no_grad_and_bumps_version(name):
    x = ember.tensor(VALUES, requires_grad=True)
    data = x._data
    with ember.no_grad():
        out = INPLACE_CALLS[name](x)
    assert out is None or out is x
    assert x._data is data  # written in place, not rebound to a new array
    assert x._version_count == WRITES.get(name, 1)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


@pytest.mark.parametrize("name", sorted(set(INPLACE_CALLS) - {"uniform_", "normal_"}))
def test_inplace_values_match_torch(name):
    e = ember.tensor(VALUES)
    t = torch.tensor(VALUES)
    INPLACE_CALLS[name](e)
    torch_calls = dict(INPLACE_CALLS)
    ones, zeros = torch.ones(3), torch.zeros(3)
    torch_calls.update({
        "copy_": lambda t: t.copy_(ones),
        "masked_fill_": lambda t: t.masked_fill_(torch.tensor([True, False, True]), 0.0),
        "scatter_": lambda t: t.scatter_(1, torch.tensor([[0], [2]]), 5.0),
        "scatter_add_": lambda t: t.scatter_add_(1, torch.tensor([[0, 0]]), torch.ones(1, 2)),
        "index_fill_": lambda t: t.index_fill_(1, torch.tensor([1]), -1.0),
        "addcmul_": lambda t: t.addcmul_(ones, ones, value=2),
        "addcdiv_": lambda t: t.addcdiv_(ones, ones * 2),
        "lerp_": lambda t: t.lerp_(zeros, 0.5),
    })
    torch_calls[name](t)
    close(e, t)


def test_data_of_a_leaf_can_be_written():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    x.data.mul_(3)
    np.testing.assert_array_equal(x.detach().numpy(), [3.0, 6.0])


# ------------------------------------------------------------------------ version counter


def test_views_and_detach_share_the_version_counter():
    x = ember.zeros(2, 3)
    row, det = x[1], x.detach()
    row.add_(1)
    assert x._version_count == row._version_count == det._version_count == 1
    det[0, 0] = 5.0
    assert x._version_count == 2
    assert x[0, 0].item() == 5.0 and x[1, 2].item() == 1.0
    assert det._base is None and row._base is x


def test_modified_output_saved_by_exp_raises_at_backward():
    x, _ = pair([0.5, 1.0, 2.0])
    y = x.exp()
    y.add_(1)
    with pytest.raises(ember.AutogradError, match=VERSION_MSG):
        y.sum().backward()


def test_modified_output_saved_by_sigmoid_raises_at_backward():
    x, _ = pair([0.5, 1.0, 2.0])
    w = x.sigmoid()
    w.mul_(2)
    with pytest.raises(ember.AutogradError, match=VERSION_MSG):
        w.sum().backward()


def test_modified_input_saved_by_mul_raises_at_backward():
    x, _ = pair([0.5, 1.0, 2.0])
    a = x * 1
    b = a * a
    a.add_(1)  # b's backward needs the old a
    with pytest.raises(ember.AutogradError, match=VERSION_MSG):
        b.sum().backward()


def test_modified_view_of_saved_tensor_raises_at_backward():
    x, _ = pair([[0.5, 1.0], [2.0, 3.0]])
    y = x.exp()
    y[0].zero_()
    with pytest.raises(ember.AutogradError, match=VERSION_MSG):
        y.sum().backward()


def test_mul_then_inplace_on_its_output_is_fine():
    x, xt = pair([0.5, 1.0, 2.0])
    y, yt = x * 2, xt * 2
    y.add_(1)
    yt.add_(1)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(x.grad, xt.grad)


def test_inplace_on_a_tensor_the_backward_does_not_read_is_fine():
    x, xt = pair([0.5, 1.0, 2.0])
    a = x * 2
    b = a + 1  # add saves nothing
    a.mul_(5)
    b.sum().backward()
    at = xt * 2
    bt = at + 1
    at.mul_(5)
    bt.sum().backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("name", ["exp_", "tanh_", "sigmoid_", "sqrt_", "relu_"])
def test_writing_after_an_inplace_op_that_saved_its_result_raises(name):
    e, t = pair([0.5, 1.0, 2.0])
    for x, error in ((e, ember.AutogradError), (t, RuntimeError)):
        y = x * 1
        getattr(y, name)()
        y.add_(1)
        with pytest.raises(error, match=VERSION_MSG):
            y.sum().backward()
    x, xt = pair([0.5, 1.0, 2.0])
    for a in (x, xt):  # without the later write it is fine
        y = a * 1
        getattr(y, name)()
        (y * 2).sum().backward()
    close(x.grad, xt.grad)


def test_self_multiplication_in_place_raises_like_torch():
    x, _ = pair([0.5, 1.0, 2.0])
    y = x * 1
    y.mul_(y)
    with pytest.raises(ember.AutogradError, match=VERSION_MSG):
        y.sum().backward()


# ------------------------------------------------------------------------ rebase


def test_rebase_chain_matches_torch():
    x, xt = pair([[0.5, -1.0, 2.0], [1.5, 0.3, -0.2]])
    w, wt = pair([1.5, -0.5, 2.0])
    outs = []
    for a, b in ((x, w), (xt, wt)):
        y = a * 2
        y.mul_(3).add_(b, alpha=2).pow_(2)
        y.sub_(b).div_(b.abs() + 1)
        y.clamp_(-0.5, 0.9)
        y += a
        y *= b
        y.addcmul_(a, b, value=0.5).lerp_(a, 0.25).tanh_()
        outs.append(y)
        (y * y).sum().backward()
    close(outs[0], outs[1], atol=1e-5)
    close(x.grad, xt.grad, atol=1e-5)
    close(w.grad, wt.grad, atol=1e-5)
    assert outs[0].grad_fn is not None and not outs[0].is_leaf


def test_mul_rebase_gives_product_of_factors():
    x, _ = pair([1.0, 2.0, 3.0])
    y = x * 2
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0, 6.0])


def test_target_without_grad_joins_the_graph():
    w, wt = pair([1.0, -2.0, 3.0])
    z, zt = ember.ones(3), torch.ones(3)
    z.add_(w).mul_(w)
    zt.add_(wt).mul_(wt)
    assert z.requires_grad and not z.is_leaf
    z.sum().backward()
    zt.sum().backward()
    close(w.grad, wt.grad)


def test_copy_of_a_leaf_into_a_tensor_makes_a_non_leaf():
    w, wt = pair([1.0, -2.0, 3.0])
    z, zt = ember.zeros(2, 3), torch.zeros(2, 3)
    z.copy_(w)
    zt.copy_(wt)
    assert not z.is_leaf and z.requires_grad
    (z * 3).sum().backward()
    (zt * 3).sum().backward()
    close(w.grad, wt.grad)


def test_fill_and_zero_give_zero_gradient_to_the_old_values():
    x, xt = pair([1.0, 2.0])
    for a in (x, xt):
        y = a * 2
        y.zero_()
        y.add_(a)
        y.sum().backward()
    close(x.grad, xt.grad)


# ------------------------------------------------------------------------ setitem and views


def test_setitem_on_non_leaf():
    x, xt = pair([1.0, 2.0, 3.0])
    for a in (x, xt):
        y = a * 1
        y[0] = 0
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0])
    close(x.grad, xt.grad)


def test_setitem_with_a_value_that_requires_grad():
    x, xt = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w, wt = pair([0.5, -1.0])
    for a, b in ((x, w), (xt, wt)):
        y = a * a
        y[:, 1] = b * 3
        y[[1, 0], 2] = b.exp()
        (y * y).sum().backward()
    close(x.grad, xt.grad)
    close(w.grad, wt.grad, atol=1e-5)


def test_inplace_through_a_view_updates_the_base_graph():
    x, xt = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w, wt = pair([0.5, -1.0, 2.0])
    for a, b in ((x, w), (xt, wt)):
        y = a * 1
        y[0].mul_(2)
        y[1][1:].add_(b[1:] * b[1:])
        y[:, 0].exp_()
        (y * y).sum().backward()
    close(x.grad, xt.grad, atol=1e-4)
    close(w.grad, wt.grad, atol=1e-4)


def test_existing_views_see_a_later_inplace_on_the_base():
    x, xt = pair([1.0, 2.0, 3.0])
    for a in (x, xt):
        y = a * 1
        v = y[1:]
        y.mul_(5)
        v.sum().backward()
    close(x.grad, xt.grad)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 5.0, 5.0])


MOVEMENT_VIEWS = {
    "t": lambda y: y.t(),
    "reshape": lambda y: y.reshape(3, 2),
    "narrow": lambda y: y.narrow(1, 1, 2),
    "unsqueeze": lambda y: y.unsqueeze(0),
    "permute-then-index": lambda y: y.permute(1, 0)[1:],
    "expand": lambda y: y[:1].expand(4, 3),
    "diagonal": lambda y: y.diagonal(),
}


@pytest.mark.parametrize("make_view", MOVEMENT_VIEWS.values(), ids=MOVEMENT_VIEWS.keys())
def test_movement_views_see_a_later_inplace_on_the_base(make_view):
    # the view's grad_fn must be regenerated from the rebased base: a stale one would give
    # the gradient of the values before mul_ (x.grad == 1 instead of 2 here)
    x, xt = pair(VALUES)
    w, wt = pair([0.5, -1.0, 2.0])
    for a, b in ((x, w), (xt, wt)):
        y = a * 1
        v = make_view(y)
        y.mul_(2)
        y.add_(b)
        (v * v).sum().backward()
    close(x.grad, xt.grad)
    close(w.grad, wt.grad)
    assert np.abs(x.grad.numpy()).sum() > 0


def test_dtype_view_keeps_its_dtype_after_an_inplace_on_the_base():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    bits = y.view(ember.int32)
    y.mul_(2)
    assert bits.dtype is ember.int32 and not bits.requires_grad and bits.grad_fn is None
    np.testing.assert_array_equal(bits.numpy(), np.array([2.0, 4.0], np.float32).view(np.int32))


def test_view_of_leaf_raises():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ember.AutogradError, match="a view of a leaf Variable"):
        x[0].mul_(2)
    with pytest.raises(ember.AutogradError, match="a view of a leaf Variable"):
        x[0] += 1
    with ember.no_grad():
        x[1].mul_(3)
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 6.0])


@pytest.mark.parametrize("write", [
    lambda y, w, lib: y.t().mul_(w[:, None]),
    lambda y, w, lib: y.reshape(-1).__setitem__(slice(1, 5), w.repeat(2)[:4] * 3),
    lambda y, w, lib: y.t()[1:].add_(w.sum()),
    lambda y, w, lib: y.narrow(1, 1, 2).exp_(),
    lambda y, w, lib: y.unsqueeze(0)[0, 1].copy_(w.sin().repeat(2)[:3]),
], ids=["transpose", "reshape-setitem", "transpose-then-index", "narrow", "unsqueeze-index"])
def test_inplace_through_a_reshaping_view_matches_torch(write):
    x, xt = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w, wt = pair([0.5, -1.0, 0.25])
    for a, b, lib in ((x, w, ember), (xt, wt, torch)):
        y = a * 1
        write(y, b, lib)
        (y * y + b.sum()).sum().backward()
    close(x.grad, xt.grad, atol=1e-4)
    close(w.grad, wt.grad, atol=1e-4)


@pytest.mark.parametrize("make_base", [
    lambda lib, arr: lib.from_numpy(arr[:, ::2].copy(order="F")),
    lambda lib, arr: lib.from_numpy(arr[:, ::2]),
], ids=["fortran-order", "strided"])
def test_inplace_through_a_view_of_a_non_contiguous_base(make_base):
    grads = []
    for lib in (ember, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        arr = np.arange(8, dtype=np.float32).reshape(2, 4)
        base = make_base(lib, arr)
        v = base[1]
        base.t().mul_(w)  # base joins the graph, and the indexing view v is regenerated
        ((base * base).sum() + (v * 3).sum()).backward()
        grads.append(w.grad)
        expected = np.arange(8, dtype=np.float32).reshape(2, 4)[:, ::2] * [[1.0], [2.0]]
        np.testing.assert_array_equal(base.detach().numpy(), expected)
    close(*grads)


# ------------------------------------------------------------------------ memory and dtypes


def test_writing_into_a_broadcast_view_raises():
    base = ember.zeros(3)
    e = base.expand(2, 3)
    for write in (lambda: e.add_(1), lambda: e.zero_(), lambda: e.__setitem__(0, 1.0),
                  lambda: e.copy_(ember.ones(2, 3))):
        with pytest.raises(OverlapError, match="more than one element of the written-to tensor"):
            write()
    assert base._version_count == 0
    np.testing.assert_array_equal(base.numpy(), [0.0, 0.0, 0.0])


def test_writing_into_read_only_memory_raises():
    arr = np.ones(3, np.float32)
    arr.setflags(write=False)
    with pytest.raises(OverlapError, match="read-only"):
        ember.from_numpy(arr).mul_(2)


def test_overlap_error_is_exported_and_catchable_as_runtime_error():
    assert ember.OverlapError is ember.errors.OverlapError
    with pytest.raises(RuntimeError, match="more than one element"):
        ember.zeros(3).expand(2, 3).add_(1)
    assert issubclass(ember.OverlapError, ember.EmberError)


@pytest.mark.parametrize("dtype, call, result, target", [
    (ember.int64, lambda t: t.add_(1.5), "Float", "Long"),
    (ember.int64, lambda t: t.div_(2), "Float", "Long"),
    (ember.int32, lambda t: t.mul_(ember.ones(3)), "Float", "Int"),
    (ember.int64, lambda t: t.exp_(), "Float", "Long"),
    (ember.bool_, lambda t: t.add_(1), "Long", "Bool"),
    (ember.int64, lambda t: t.__iadd__(0.5), "Float", "Long"),
    (ember.int16, lambda t: t.clamp_(0.5, 2), "Float", "Short"),
    (ember.float16, lambda t: t.add_(ember.ones(3, dtype=ember.float64)), None, None),
])
def test_inplace_result_must_fit_the_dtype(dtype, call, result, target):
    t = ember.zeros(3, dtype=dtype)
    if result is None:  # float64 into float16: same category, allowed like torch
        call(t)
        assert t.dtype is dtype and t.tolist() == [1.0, 1.0, 1.0]
        return
    with pytest.raises(ember.DTypeError,
                       match=f"result type {result} can't be cast to the desired output type "
                             f"{target}"):
        call(t)
    assert t._version_count == 0


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("other_dtype", ["float64 0-d", "int64"])
def test_inplace_computes_in_the_target_dtype_like_torch(op, other_dtype):
    # PyTorch converts the operand to self's dtype when the result type is self's dtype; a
    # float64 loop rounded to float32 afterwards differs in the last bit for many values
    rng = np.random.default_rng(0)
    self_values = rng.standard_normal(512).astype(np.float32)
    if other_dtype == "int64":
        other_values = rng.integers(1, 10**9, 512)
    else:
        other_values = np.float64(1 / 3)
    e, t = ember.tensor(self_values), torch.tensor(self_values)
    getattr(e, op)(ember.tensor(other_values))
    getattr(t, op)(torch.tensor(other_values))
    assert e.dtype is ember.float32
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, s, a, b, k: s.add_(a, alpha=k),
    lambda lib, s, a, b, k: s.sub_(a, alpha=k),
    lambda lib, s, a, b, k: s.addcmul_(a, b, value=k),
    lambda lib, s, a, b, k: s.addcdiv_(a, b, value=k),
], ids=["add_", "sub_", "addcmul_", "addcdiv_"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_alpha_and_value_act_as_numbers_in_the_target_dtype(call, requires_grad):
    # optimizers pass the learning rate as a 0-d (float64) tensor
    rng = np.random.default_rng(1)
    s, a, b = (rng.standard_normal(300).astype(np.float32) for _ in range(3))
    k = np.float64(-0.1234567891)
    results = []
    for lib in (ember, torch):
        leaf = lib.tensor(s, requires_grad=requires_grad)
        target = leaf * 1 if requires_grad else leaf
        call(lib, target, lib.tensor(a), lib.tensor(b), lib.tensor(k))
        assert target.dtype == lib.float32
        results.append(target.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


def test_tensor_alpha_must_have_one_element():
    with pytest.raises(TypeError, match=r"add_\(\): argument 'alpha' must be a number or a "
                                        r"one-element tensor, got a tensor of shape \[2\]"):
        ember.ones(3).add_(ember.ones(3), alpha=ember.tensor([0.5, 1.0]))
    with pytest.raises(TypeError, match="argument 'value'"):
        ember.ones(3).addcmul_(ember.ones(3), ember.ones(3), value=ember.ones(2))


def test_integer_division_with_rounding_mode_in_place():
    e, t = ember.tensor([7, -7, 9]), torch.tensor([7, -7, 9])
    e.div_(2, rounding_mode="floor")
    t.div_(2, rounding_mode="floor")
    assert e.tolist() == t.tolist() and e.dtype is ember.int64


def test_shape_of_the_result_must_be_the_target_shape():
    with pytest.raises(ember.ShapeError,
                       match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        ember.zeros(3).add_(ember.ones(2, 3))
    with pytest.raises(ember.ShapeError, match="output with shape"):
        ember.zeros(3).copy_(ember.ones(4))


def test_copy_converts_dtype_and_broadcasts():
    e = ember.zeros(2, 3, dtype=ember.int32)
    e.copy_(ember.tensor([1.7, -2.2, 3.9]))
    t = torch.zeros(2, 3, dtype=torch.int32)
    t.copy_(torch.tensor([1.7, -2.2, 3.9]))
    assert e.tolist() == t.tolist() and e.dtype is ember.int32


def test_augmented_assignment_is_in_place():
    t = ember.zeros(2, 2)
    alias, data = t, t._data
    t += 1
    t *= 3
    t -= 1
    t /= 2
    assert t is alias and t._data is data
    np.testing.assert_array_equal(t.numpy(), np.full((2, 2), 1.0, np.float32))
    with pytest.raises(ember.DTypeError):
        i = ember.ones(2, dtype=ember.int64)
        i /= 2


# ------------------------------------------------------------------------ random fills


def test_random_fills_follow_the_generator():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    a = ember.empty(4, 5).uniform_(generator=g1)
    b = ember.rand(4, 5, generator=g2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = ember.empty(4, 5).normal_(generator=g1)
    d = ember.randn(4, 5, generator=g2)
    np.testing.assert_array_equal(c.numpy(), d.numpy())


def test_random_fill_ranges():
    g = ember.Generator().manual_seed(0)
    u = ember.empty(4000).uniform_(**{"from": -3.0, "to": -1.0}, generator=g)
    assert -3.0 <= u.min().item() and u.max().item() < -1.0
    n = ember.empty(4000, dtype=ember.float64).normal_(mean=5.0, std=0.5, generator=g)
    assert abs(n.numpy().mean() - 5.0) < 0.05 and abs(n.numpy().std() - 0.5) < 0.05
    with pytest.raises(ember.DTypeError, match="floating point"):
        ember.zeros(3, dtype=ember.int64).uniform_()
    with pytest.raises(ValueError, match="from=2.0 > to=1.0"):
        ember.empty(3).uniform_(2.0, 1.0)
    with pytest.raises(ValueError, match="std >= 0.0"):
        ember.empty(3).normal_(std=-1.0)


def test_random_fill_of_a_non_leaf_cuts_the_gradient():
    x, xt = pair([1.0, 2.0])
    y = x * 3
    y.normal_(generator=ember.Generator().manual_seed(1))
    (y + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
