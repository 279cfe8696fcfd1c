"""The Tensor data model against PyTorch: attributes, conversions, casts and printing."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _pair(build):
    return build(ember), build(torch)


# ------------------------------------------------------------------ attributes

@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)])
def test_shape_attributes(shape):
    a = np.zeros(shape, np.float32)
    e, t = ember.tensor(a), torch.tensor(a)
    assert e.shape == tuple(t.shape) == e.size() == tuple(t.size())
    assert e.ndim == t.ndim == e.dim() == t.dim()
    assert e.numel() == t.numel()
    for d in range(-len(shape), len(shape)):
        assert e.size(d) == t.size(d)
    assert isinstance(e.shape, tuple)


def test_size_dim_out_of_range():
    with pytest.raises(ember.IndexingError, match=r"size: dim 2 is out of range for a tensor "
                                                  r"of 2 dimension\(s\)"):
        ember.zeros(2, 3).size(2)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                   "float32", "float64"])
def test_dtype_attribute(dtype):
    e = ember.zeros(2, dtype=getattr(ember, dtype))
    assert e.dtype is getattr(ember, dtype) and repr(e.dtype) == f"ember.{dtype}"
    assert e.is_floating_point() == torch.zeros(2, dtype=getattr(torch, dtype)).is_floating_point()
    assert e.element_size() == np.dtype(dtype).itemsize


@pytest.mark.parametrize("value", [2.5, 3, True, -7])
def test_item_and_python_conversions(value):
    e, t = _pair(lambda m: m.tensor([[value]]))
    assert e.item() == t.item() and type(e.item()) is type(t.item())
    assert float(e) == float(t) and int(e) == int(t) and bool(e) == bool(t)


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="a Tensor with 2 elements cannot be converted to a "
                                         "Python number"):
        ember.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="0 elements"):
        float(ember.zeros(0))


def test_bool_of_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="Boolean value of a Tensor with 3 elements is "
                                           "ambiguous"):
        bool(ember.ones(3))
    assert not ember.tensor([0.0]) and ember.tensor(1)


def test_numpy_shares_memory():
    e = ember.zeros(3)
    arr = e.numpy()
    arr[0] = 5
    assert e.tolist() == [5.0, 0.0, 0.0]


def test_numpy_refuses_tensors_requiring_grad():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(ember.AutogradError, match=r"Can't call numpy\(\) on a Tensor that "
                                                  r"requires grad.*detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    assert np.asarray(x).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("build", [lambda m: m.tensor([[1.5, 2.0], [3.0, 4.0]]),
                                   lambda m: m.tensor([1, 2, 3]), lambda m: m.tensor(2.5),
                                   lambda m: m.tensor([True, False]), lambda m: m.zeros(2, 0)])
def test_tolist(build):
    e, t = _pair(build)
    assert e.tolist() == t.tolist()
    assert type(e.tolist()) is type(t.tolist())


def test_len():
    assert len(ember.zeros(4, 2)) == len(torch.zeros(4, 2)) == 4
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))


def test_iteration():
    if not hasattr(ember.Tensor, "unbind"):
        pytest.skip("Tensor.unbind (movement ops) is not there yet")
    e, t = _pair(lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]))
    rows = list(e)
    assert [r.tolist() for r in rows] == [r.tolist() for r in t]
    assert all(isinstance(r, ember.Tensor) and r.shape == (2,) for r in rows)
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ember.tensor(1.0))


# ------------------------------------------------------------------ casts

CASTS = ["float", "double", "long", "int", "bool", "half", "short", "byte", "char"]


@pytest.mark.parametrize("method", CASTS)
@pytest.mark.parametrize("src", ["float32", "int64", "bool", "float64"])
def test_cast_methods(method, src):
    a = np.array([[0, 1.5, -2.7]], dtype=np.float64)
    if src == "bool":
        a = a != 0
    elif src == "int64":
        a = np.array([[0, 1, -2]])
    e = getattr(ember.tensor(a, dtype=getattr(ember, src)), method)()
    t = getattr(torch.tensor(a, dtype=getattr(torch, src)), method)()
    assert e.dtype.name == str(t.dtype).replace("torch.", "")
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("target", ["float64", "float16", "int32", "bool", "uint8"])
def test_to_dtype(target):
    e = ember.tensor([1.5, -2.5, 0.0]).to(getattr(ember, target))
    t = torch.tensor([1.5, -2.5, 0.0]).to(getattr(torch, target))
    assert e.dtype.name == target
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_to_forms():
    x = ember.tensor([1.0, 2.0])
    assert x.to(ember.float32) is x and x.float() is x
    assert x.to("cpu") is x and x.to("cpu", ember.float64).dtype is ember.float64
    assert x.to(dtype=ember.int64).dtype is ember.int64
    assert x.to(ember.tensor([1], dtype=ember.int16)).dtype is ember.int16
    assert x.type() == "ember.float32" and x.type(ember.float64).dtype is ember.float64
    with pytest.raises(ember.DTypeError, match="expected an ember dtype"):
        x.to("float128")


def test_to_copy_makes_a_new_tensor():
    x = ember.tensor([1.0, 2.0])
    for y in (x.to(ember.float32, copy=True), x.to("cpu", copy=True), x.to(x, copy=True),
              x.to(copy=True)):
        assert y is not x
        y.numpy()[0] = 5
        assert x.tolist() == [1.0, 2.0]
    assert x.to(ember.float32) is x and x.to("cpu") is x


def test_to_copy_of_a_tensor_requiring_grad_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(ember.float32, copy=True)
    assert y.grad_fn is not None
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_backward_with_inputs_accumulates_only_into_them():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None


def test_gradient_flows_through_float_casts():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * ember.tensor([3.0, 4.0], dtype=ember.float64)
    assert y.dtype is ember.float64 and y.requires_grad
    y.backward(ember.ones(2, dtype=ember.float64))
    assert x.grad.dtype is ember.float32 and x.grad.tolist() == [3.0, 4.0]
    x.grad = None
    x.half().float().backward(ember.ones(2))
    assert x.grad.tolist() == [1.0, 1.0]
    assert not x.long().requires_grad and not x.bool().requires_grad


def test_requires_grad_flag():
    x = ember.ones(2)
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    with pytest.raises(ember.AutogradError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False
    with pytest.raises(ember.AutogradError, match="floating point"):
        ember.tensor([1]).requires_grad_()


# ------------------------------------------------------------------ printing

REPR_CASES = {
    "floats": lambda m: m.tensor([1.5, 2.25, -3.125]),
    "floats-2d": lambda m: m.tensor([[1.5, 2.25], [-3.125, 4.0]]),
    "integer-floats": lambda m: m.tensor([1.0, 2.0, -3.0]),
    "integer-floats-2d": lambda m: m.tensor([[1.0, 20.0], [-3.0, 4.0]]),
    "negative-alignment": lambda m: m.tensor([[-1.5, 2.0], [3.25, -40.125]]),
    "sci-small": lambda m: m.tensor([1e-5, 1.0, 2.0]),
    "sci-big": lambda m: m.tensor([1e9, 1.0]),
    "sci-ratio": lambda m: m.tensor([0.001, 10.0]),
    "no-sci-ratio": lambda m: m.tensor([0.01, 10.0, 5.5]),
    "sci-negative": lambda m: m.tensor([[-1e-6, 3.0], [2.0, 1e3]]),
    "integer-floats-sci": lambda m: m.tensor([1e8, 1.0]),
    "zeros": lambda m: m.zeros(2, 3),
    "ints": lambda m: m.tensor([1, -20, 300]),
    "ints-2d": lambda m: m.tensor([[1, -20], [300, 4]]),
    "int32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "uint8": lambda m: m.tensor([1, 2], dtype=m.uint8),
    "bools": lambda m: m.tensor([[True, False], [False, True]]),
    "0-d-float": lambda m: m.tensor(2.5),
    "0-d-integer-float": lambda m: m.tensor(3.0),
    "0-d-int": lambda m: m.tensor(7),
    "0-d-bool": lambda m: m.tensor(True),
    "0-d-float64": lambda m: m.tensor(2.5, dtype=m.float64),
    "empty": lambda m: m.tensor([]),
    "empty-2d": lambda m: m.zeros(2, 0),
    "empty-int": lambda m: m.zeros(0, dtype=m.int64),
    "empty-float64": lambda m: m.zeros(0, dtype=m.float64),
    "float64": lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    "float64-integers": lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    "float16": lambda m: m.tensor([1.5, 2.0], dtype=m.float16),
    "nan-inf": lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "nan-integers": lambda m: m.tensor([float("nan"), 1.0, 2.0]),
    "negative-zero": lambda m: m.tensor([-0.0, 1.0]),
    "requires-grad": lambda m: m.tensor([1.5, 2.0], requires_grad=True),
    "3-d": lambda m: m.tensor(np.arange(12.0).reshape(2, 3, 2) / 4),
    "4-d": lambda m: m.tensor(np.arange(16).reshape(2, 2, 2, 2)),
    "line-wrap": lambda m: m.tensor(np.arange(20.0) / 3),
    "line-wrap-ints": lambda m: m.tensor(np.arange(40) * 1000),
    "summarized-1d": lambda m: m.tensor(np.arange(2000.0)),
    "summarized-2d": lambda m: m.tensor(np.arange(1200).reshape(40, 30)),
    "summarized-3d": lambda m: m.tensor(np.arange(2400.0).reshape(10, 12, 20) / 7),
    "random": lambda m: m.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype("f4")),
    "rounding": lambda m: m.tensor([0.12345, 1.99999]),
}


@pytest.mark.parametrize("case", list(REPR_CASES))
def test_repr_matches_torch(case):
    e, t = _pair(REPR_CASES[case])
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert str(e) == repr(e)


def test_repr_grad_fn_suffix():
    x = ember.tensor([1.5, 2.0], requires_grad=True)
    assert repr(x).endswith(", requires_grad=True)")
    assert repr(x * 2).startswith("tensor([3., 4.], grad_fn=<MulBackward")
    assert "grad_fn=<AddBackward" in repr(x + 1)
    assert "requires_grad" not in repr(x.detach())


def test_repr_follows_default_dtype():
    try:
        ember.set_default_dtype(ember.float64)
        assert repr(ember.tensor([1.5])) == "tensor([1.5000])"
        assert repr(ember.tensor([1.5], dtype=ember.float32)) == ("tensor([1.5000], "
                                                                  "dtype=ember.float32)")
    finally:
        ember.set_default_dtype(ember.float32)


def test_format_spec_on_0d():
    assert f"{ember.tensor(2.5):.2f}" == "2.50"
    assert f"{ember.tensor([1.0])}" == "tensor([1.])"
