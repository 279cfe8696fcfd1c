"""default_collate / default_convert against torch's: output structure, types, dtypes, values."""

import collections

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate as torch_collate
from torch.utils.data import default_convert as torch_convert

import ember
from ember.data import collate, default_collate, default_collate_fn_map, default_convert

Point = collections.namedtuple("Point", ["x", "y"])


def canon(obj, lib):
    """A comparable form: tensors become ('tensor', dtype name, shape, values)."""
    tensor_type = ember.Tensor if lib == "ember" else torch.Tensor
    if isinstance(obj, tensor_type):
        dtype = str(obj.dtype).split(".")[-1]
        return ("tensor", dtype, tuple(obj.shape), np.asarray(obj.tolist()).tolist())
    if isinstance(obj, dict):
        return ("dict", type(obj).__name__, {k: canon(v, lib) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return ("namedtuple", type(obj).__name__, [canon(v, lib) for v in obj])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [canon(v, lib) for v in obj])
    if isinstance(obj, np.ndarray):
        return ("ndarray", str(obj.dtype), obj.tolist())
    return (type(obj).__name__, obj)


def to_lib(sample, lib):
    """Replace the ('T', array) markers in a sample by an ember or torch tensor."""
    if isinstance(sample, tuple) and len(sample) == 2 and sample[0] == "T":
        return ember.tensor(sample[1]) if lib == "ember" else torch.tensor(sample[1])
    if isinstance(sample, dict):
        return {k: to_lib(v, lib) for k, v in sample.items()}
    if isinstance(sample, Point):
        return Point(*(to_lib(v, lib) for v in sample))
    if isinstance(sample, (list, tuple)):
        return type(sample)(to_lib(v, lib) for v in sample)
    return sample


def batch_of(make):
    return [make(i) for i in range(3)]


CASES = {
    "python ints": lambda i: i,
    "python floats": lambda i: i + 0.5,
    "python bools": lambda i: i % 2 == 0,
    "strings": lambda i: f"s{i}",
    "float32 tensors": lambda i: ("T", np.full((2, 3), i, np.float32)),
    "int64 0-d tensors": lambda i: ("T", np.int64(i)),
    "numpy float32 arrays": lambda i: np.arange(4, dtype=np.float32) * i,
    "numpy uint8 arrays": lambda i: np.full((2, 2), i, np.uint8),
    "numpy float64 scalars": lambda i: np.float64(i) / 3,
    "numpy int32 scalars": lambda i: np.int32(i),
    "tuple (image, label)": lambda i: (("T", np.full((1, 2, 2), i, np.float32)), i),
    "list": lambda i: [i, i * 2.0],
    "dict of mixed": lambda i: {"x": ("T", np.ones(3, np.float32) * i), "y": i, "name": f"n{i}"},
    "namedtuple": lambda i: Point(i, float(i)),
    "nested dict/tuple/list": lambda i: {"a": (i, [float(i), ("T", np.array([i, i]))]),
                                         "b": {"c": np.int64(i)}},
}


@pytest.mark.parametrize("name", list(CASES))
def test_default_collate_matches_torch(name):
    samples = batch_of(CASES[name])
    got = default_collate([to_lib(s, "ember") for s in samples])
    want = torch_collate([to_lib(s, "torch") for s in samples])
    assert canon(got, "ember") == canon(want, "torch")


@pytest.mark.parametrize("name", ["python ints", "numpy float32 arrays", "dict of mixed",
                                  "tuple (image, label)", "numpy int32 scalars"])
def test_default_convert_matches_torch(name):
    sample = CASES[name](2)
    got = default_convert(to_lib(sample, "ember"))
    want = torch_convert(to_lib(sample, "torch"))
    assert canon(got, "ember") == canon(want, "torch")


def test_python_floats_collate_to_float64_not_default_dtype():
    out = default_collate([0.5, 1.5])
    assert out.dtype is ember.float64 and out.tolist() == [0.5, 1.5]


def test_stacked_tensor_keeps_autograd():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])


def test_mismatched_tensor_shapes_name_both_entries():
    with pytest.raises(ember.ShapeError, match=r"\[3\] at entry 0 and \[4\] at entry 1"):
        default_collate([ember.zeros(3), ember.zeros(4)])


def test_sequences_of_different_lengths_raise_like_torch():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [1, 2, 3]])


def test_unsupported_element_type_error():
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, "
                                        "dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_empty_batch_and_unsupported_numpy_dtype():
    with pytest.raises(ValueError, match="batch is empty"):
        default_collate([])
    with pytest.raises(ember.DTypeError, match="uint32"):
        default_collate([np.zeros(2, np.uint32), np.zeros(2, np.uint32)])


def test_custom_collate_fn_map_extends_the_defaults():
    class Box:
        def __init__(self, v):
            self.v = v

    rules = {**default_collate_fn_map,
             Box: lambda batch, *, collate_fn_map: sum(b.v for b in batch)}
    out = collate([(Box(1), 2), (Box(3), 4)], collate_fn_map=rules)
    assert out[0] == 4 and out[1].tolist() == [2, 4]
