"""Creation functions against PyTorch's dtype, shape and value semantics."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _same(e, t):
    assert e.dtype.name == str(t.dtype).replace("torch.", ""), (e.dtype, t.dtype)
    assert e.shape == tuple(t.shape)
    np.testing.assert_allclose(e.numpy().astype(np.float64), t.numpy().astype(np.float64),
                               rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ tensor() inference

def _both(build):
    return build(ember), build(torch)


TENSOR_DATA = {
    "bool": lambda m: True, "int": lambda m: 3, "float": lambda m: 2.5,
    "ints": lambda m: [1, 2], "int-float": lambda m: [1, 2.5], "bool-int": lambda m: [True, 2],
    "bool-float": lambda m: [False, 2.5], "nested": lambda m: [[1, 2], [3, 4]],
    "tuples": lambda m: ((1.5, 2), [3, 4]), "empty": lambda m: [], "empty-2d": lambda m: [[], []],
    "big-int": lambda m: 2**62, "negative": lambda m: [-1, -2.5],
    "np-float64-scalars": lambda m: [np.float64(1.5), 2.5],
    "np-float32-scalars": lambda m: [np.float32(1.5), 2.5],
    "np-float16-scalar": lambda m: [np.float16(1.5), 2],
    "np-int32-scalars": lambda m: [np.int32(1), np.int32(2)],
    "0-d-float64-tensors": lambda m: [m.tensor(1.5, dtype=m.float64),
                                      m.tensor(2.0, dtype=m.float64)],
    "0-d-int32-tensors": lambda m: [m.tensor(1, dtype=m.int32), m.tensor(2, dtype=m.int32)],
    "0-d-int8-uint8-tensors": lambda m: [m.tensor(1, dtype=m.int8), m.tensor(2, dtype=m.uint8)],
    "0-d-bool-tensors": lambda m: [m.tensor(True), m.tensor(False)],
    "0-d-tensor-and-float": lambda m: [m.tensor(1, dtype=m.int32), 2.5],
    "0-d-float16-and-int": lambda m: [m.tensor(1.5, dtype=m.float16), 2],
}


@pytest.mark.parametrize("case", list(TENSOR_DATA))
def test_tensor_infers_dtype_like_torch(case):
    e, t = _both(lambda m: m.tensor(TENSOR_DATA[case](m)))
    _same(e, t)


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                   "float32", "float64"])
def test_tensor_from_numpy_keeps_dtype_and_copies(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    e = ember.tensor(a)
    _same(e, torch.tensor(a))
    a[0, 0] = 1
    assert e.numpy()[0, 0] == 0, "tensor() must copy"
    _same(ember.tensor(a[0, 1]), torch.tensor(a[0, 1]))  # a NumPy scalar keeps its dtype


def test_tensor_dtype_argument_and_requires_grad():
    e = ember.tensor([1, 2], dtype=ember.float64, requires_grad=True)
    assert e.dtype is ember.float64 and e.requires_grad and e.is_leaf
    assert ember.tensor([1.7, -1.7], dtype=ember.int64).tolist() == [1, -1]  # truncates
    assert ember.tensor([0, 2], dtype="bool").tolist() == [False, True]
    assert ember.tensor(ember.tensor([1, 2]), dtype=ember.float32).dtype is ember.float32


def test_tensor_of_tensor_copies():
    src = ember.tensor([1.0, 2.0])
    out = ember.tensor(src)
    out.numpy()[0] = 5
    assert src.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("data, error, match", [
    ([[1, 2], [3]], ember.ShapeError, r"tensor\(\): expected sequence of length 2 at dim 1 "
                                      r"\(got 1\)"),
    ([[1, 2], 3], ember.ShapeError, r"expected a sequence at dim 1, got int"),
    ("abc", ember.DTypeError, r"could not infer a dtype from str \('abc'\)"),
    ([1, "a"], ember.DTypeError, r"could not infer a dtype from str \('a'\)"),
    ([1, None], ember.DTypeError, r"could not infer a dtype from NoneType"),
    ({"a": 1}, ember.DTypeError, r"could not infer a dtype from dict"),
    (2**64, ember.DTypeError, r"the Python int 18446744073709551616 does not fit in int64"),
    ([1, 2**63], ember.DTypeError, r"does not fit in int64"),
    (np.array(["a"]), ember.DTypeError, r"NumPy array of dtype <U1"),
    (np.array([1], np.uint16), ember.DTypeError, r"dtype uint16; supported: bool, uint8"),
])
def test_tensor_bad_data(data, error, match):
    with pytest.raises(error, match=match):
        ember.tensor(data)


def test_requires_grad_needs_float():
    for make in (lambda: ember.tensor([1, 2], requires_grad=True),
                 lambda: ember.zeros(2, dtype=ember.int64, requires_grad=True),
                 lambda: ember.arange(3, requires_grad=True)):
        with pytest.raises(ember.AutogradError, match="only Tensors of floating point dtype "
                                                      "can require gradients, got ember.int64"):
            make()


# ------------------------------------------------------------------ sized constructors

@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), ((),), (0,), (4,), (2, 0, 1)])
def test_sized_constructors(name, size):
    e, t = getattr(ember, name)(*size), getattr(torch, name)(*size)
    assert e.dtype is ember.float32 and e.shape == tuple(t.shape)
    if name != "empty":
        _same(e, t)


@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "float64"])
def test_sized_constructors_dtype(name, dtype):
    _same(getattr(ember, name)(2, 2, dtype=getattr(ember, dtype)),
          getattr(torch, name)(2, 2, dtype=getattr(torch, dtype)))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_bad_sizes(name):
    fn = getattr(ember, name)
    with pytest.raises(ember.ShapeError, match=rf"{name}: negative dimension -1 in size \(2, -1\)"):
        fn(2, -1)
    with pytest.raises(TypeError, match=rf"{name}: sizes must be ints, got float"):
        fn(2.5)
    with pytest.raises(TypeError, match=rf"{name}: sizes must be ints, got str"):
        fn("3")


@pytest.mark.parametrize("fill", [1, 2.5, True, -3])
@pytest.mark.parametrize("size", [(2, 3), (4,), ()])
def test_full_infers_dtype_from_fill(fill, size):
    _same(ember.full(size, fill), torch.full(size, fill))
    _same(ember.full(size, fill, dtype=ember.float64), torch.full(size, fill, dtype=torch.float64))


def test_full_bad_fill():
    with pytest.raises(ember.DTypeError, match="full"):
        ember.full((2,), "x")


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_like(name, dtype):
    src = ember.zeros(2, 3, dtype=getattr(ember, dtype))
    out = getattr(ember, name)(src)
    assert out.shape == (2, 3) and out.dtype is src.dtype
    assert getattr(ember, name)(src, dtype=ember.float32).dtype is ember.float32
    assert getattr(ember, name)(src, requires_grad=True).requires_grad


def test_like_keeps_integer_dtype_and_values():
    src = ember.tensor([[1, 2]], dtype=ember.int32)
    _same(ember.full_like(src, 7), torch.full_like(torch.tensor([[1, 2]], dtype=torch.int32), 7))
    _same(ember.full_like(src, 2.5, dtype=ember.float32),
          torch.full_like(torch.tensor([[1, 2]], dtype=torch.int32), 2.5, dtype=torch.float32))
    _same(ember.ones_like(src), torch.ones_like(torch.tensor([[1, 2]], dtype=torch.int32)))
    r = ember.randint_like(src, 3, 5)
    assert r.dtype is ember.int32 and r.shape == (1, 2) and set(r.tolist()[0]) <= {3, 4}
    with pytest.raises(TypeError,
                       match=r"zeros_like\(\): argument 'input' must be Tensor, not list"):
        ember.zeros_like([1, 2])


# ------------------------------------------------------------------ ranges

ARANGE = [(5,), (0, 5), (2, 11, 3), (0.0, 3), (0, 1, 0.1), (1, 2.5, 0.5), (0, 5, 1.5),
          (0, 1, 0.3), (0, -3, -1), (3, 0, -0.7), (1, 1), (0, 0.99999, 0.33333), (-1.5, 1.5, 0.5),
          (10, 10.5, 0.25), (0, 10, 3)]


@pytest.mark.parametrize("args", ARANGE, ids=str)
def test_arange(args):
    _same(ember.arange(*args), torch.arange(*args))


@pytest.mark.parametrize("dtype", ["float64", "int32", "float16", "uint8"])
def test_arange_dtype(dtype):
    _same(ember.arange(0, 6, 2, dtype=getattr(ember, dtype)),
          torch.arange(0, 6, 2, dtype=getattr(torch, dtype)))


def test_arange_bad_arguments():
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        ember.arange(0, 5, 0)
    with pytest.raises(ValueError, match="arange: upper bound and step are inconsistent"):
        ember.arange(0, 5, -1)
    with pytest.raises(ValueError, match="arange: end must be finite"):
        ember.arange(0, float("inf"))
    with pytest.raises(TypeError, match="arange: start must be a number, got str"):
        ember.arange("1", 5)


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (3, -3, 4), (0, 10, 0), (1.5, 2.5, 3),
                                  (0, 1, 2)], ids=str)
def test_linspace(args):
    _same(ember.linspace(*args), torch.linspace(*args))
    _same(ember.linspace(*args, dtype=ember.float64), torch.linspace(*args, dtype=torch.float64))


def test_linspace_and_logspace_extras():
    _same(ember.logspace(0, 2, 3), torch.logspace(0, 2, 3))
    _same(ember.logspace(0, 3, 4, base=2.0), torch.logspace(0, 3, 4, base=2.0))
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int, got -1"):
        ember.linspace(0, 1, -1)


@pytest.mark.parametrize("args, kwargs", [((3,), {}), ((2, 4), {}), ((4, 2), {}), ((0,), {}),
                                          ((3,), {"dtype": "int64"}), ((2,), {"dtype": "bool"})])
def test_eye(args, kwargs):
    e_kw = {k: getattr(ember, v) if k == "dtype" else v for k, v in kwargs.items()}
    t_kw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    _same(ember.eye(*args, **e_kw), torch.eye(*args, **t_kw))


def test_eye_bad_size():
    with pytest.raises(ValueError, match="eye: n must be a non-negative int, got -1"):
        ember.eye(-1)


# ------------------------------------------------------------------ sharing memory

def test_from_numpy_shares_memory():
    a = np.zeros((2, 2), np.float64)
    t = ember.from_numpy(a)
    a[0, 0] = 3
    assert t.dtype is ember.float64 and t[0, 0].item() == 3 if hasattr(t, "__getitem__") else True
    assert t.numpy()[0, 0] == 3
    t.numpy()[1, 1] = 4
    assert a[1, 1] == 4


def test_from_numpy_bad_input():
    with pytest.raises(TypeError, match="from_numpy expects a numpy.ndarray, got list"):
        ember.from_numpy([1, 2])
    with pytest.raises(ember.DTypeError, match="from_numpy: unsupported array dtype"):
        ember.from_numpy(np.array(["a"]))


def test_as_tensor_shares_when_it_can():
    a = np.arange(3.0)
    shared = ember.as_tensor(a)
    a[0] = 9
    assert shared.numpy()[0] == 9 and shared.dtype is ember.float64
    converted = ember.as_tensor(a, dtype=ember.float32)
    a[1] = 7
    assert converted.numpy()[1] == 1 and converted.dtype is ember.float32
    t = ember.tensor([1.0, 2.0])
    assert ember.as_tensor(t) is t
    assert ember.as_tensor([1, 2]).dtype is ember.int64
    assert ember.as_tensor([1.5]).dtype is ember.float32
